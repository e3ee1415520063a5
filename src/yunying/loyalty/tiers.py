"""Member tiers (L1): the only writer of loyalty's tier tables.

- A member's value is their growth value (GrowthPosting, append-only) or what they paid net of
  refunds (commerce's order facts), over the programme's rolling `period_days`.
- Every member has a level from the start: the base level (rank 0, threshold 0) always exists, and a
  member without a MemberTier row is on it (ruoyi-vue-pro#1026: members at 0 growth had no level).
- Upgrades happen at once: when an order is recorded (in its transaction) and in the periodic job.
- Downgrades happen only in the periodic job, by the programme's policy: BY_VALUE drops straight to
  the level the value earns on any pass; ONE_LEVEL drops one level, at most once a cycle; END_OF_CYCLE
  drops to the level the value earns when the member's cycle (since reaching the level) ends. A
  review that keeps the level starts a new cycle.
- Every change is a TierChange row and a message to the member (template loyalty.tier_changed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yunying.commerce.events import OrderFact
from yunying.commerce.models import Order, OrderStatus
from yunying.commerce.selectors import member_purchase_summary
from yunying.core.activity import Activity, ActivityKind, activity_publish
from yunying.core.audit import audit_record
from yunying.core.errors import DomainError, FieldError, ValidationFailed
from yunying.core.permissions import Actor, Perm
from yunying.loyalty.errors import LoyaltyError
from yunying.loyalty.models import (
    DowngradePolicy,
    GrowthPosting,
    MemberTier,
    TierBasis,
    TierChange,
    TierLevel,
    TierProgramme,
)
from yunying.members.models import Member
from yunying.notify.services import outbox_enqueue

TEMPLATE = "loyalty.tier_changed"


def _add_months(at: datetime, months: int) -> datetime:
    """The same day `months` later (the month's last day when it is shorter)."""
    import calendar

    month_index = at.month - 1 + months
    year, month = at.year + month_index // 12, month_index % 12 + 1
    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


MAX_LEVELS = 10
PERMILLE = 1000


# ---------------------------------------------------------------------------------------------------
# The programme


def programme() -> TierProgramme:
    """The programme in force; before an operator saved one, the defaults (unsaved: reads write nothing)."""
    return TierProgramme.objects.filter(pk=1).first() or TierProgramme(pk=1)


def levels() -> list[TierLevel]:
    """The levels, lowest first; before any were saved, the base level alone (unsaved)."""
    return list(TierLevel.objects.order_by("rank")) or [TierLevel(rank=0, name=_("Member"), threshold=0)]


def _programme_ensure() -> None:
    """Save the default programme and base level, for the first evaluation that needs a row to point at."""
    if TierLevel.objects.filter(rank=0).exists() and TierProgramme.objects.filter(pk=1).exists():
        return
    try:
        with transaction.atomic():
            TierProgramme.objects.get_or_create(pk=1)
            TierLevel.objects.get_or_create(rank=0, defaults={"name": _("Member"), "threshold": 0})
    except IntegrityError:
        pass  # a concurrent first evaluation saved them


@dataclass(frozen=True)
class LevelSpec:
    name: str
    threshold: int
    discount_permille: int = 1000
    points_multiplier_permille: int = 1000
    birthday_points: int = 0
    priority_service: bool = False
    exclusive_campaigns: bool = False
    benefits_text: str = ""


def _level_errors(specs: list[LevelSpec]) -> list[FieldError]:
    errors: list[FieldError] = []

    def fail(index: int, field: str, message: str) -> None:
        errors.append(FieldError(f"levels.{index}.{field}", LoyaltyError.TIERS_INVALID, message))

    if not 1 <= len(specs) <= MAX_LEVELS:
        errors.append(
            FieldError(
                "levels", LoyaltyError.TIERS_INVALID, _("Define 1 to %(n)d levels.") % {"n": MAX_LEVELS}
            )
        )
        return errors
    for index, spec in enumerate(specs):
        if not spec.name.strip() or len(spec.name) > 40:
            fail(index, "name", _("Give each level a name of at most 40 characters."))
        if index == 0 and spec.threshold != 0:
            fail(index, "threshold", _("The first level is every member's: its threshold is 0."))
        if index > 0 and not specs[index - 1].threshold < spec.threshold <= 10**13:
            fail(index, "threshold", _("Each level needs a higher threshold than the one before."))
        if not 1 <= spec.discount_permille <= 1000:
            fail(index, "discount_permille", _("A tier price is 1 to 1000 permille of the price."))
        if not 0 <= spec.points_multiplier_permille <= 10_000:
            fail(index, "points_multiplier_permille", _("A points multiplier is 0 to 10000 permille."))
        if not 0 <= spec.birthday_points <= 1_000_000:
            fail(index, "birthday_points", _("Birthday points are 0 to 1000000."))
        if len(spec.benefits_text) > 200:
            fail(index, "benefits_text", _("At most 200 characters."))
    return errors


def programme_save(
    *,
    basis: str,
    period_days: int,
    downgrade_policy: str,
    cycle_months: int,
    growth_per_yuan: int,
    level_specs: list[LevelSpec],
    actor: Actor,
) -> TierProgramme:
    """Replace the programme and its levels (by rank). Members on a level that no longer exists move
    to the highest remaining level at or below theirs; the next evaluation settles the rest.

    Raises: core.permission_denied, core.invalid (every failing field)."""
    actor.require(Perm.LOYALTY_CONFIGURE)
    errors = _level_errors(level_specs)
    if basis not in TierBasis.values:
        errors.append(FieldError("basis", LoyaltyError.TIERS_INVALID, _("Choose a basis.")))
    if downgrade_policy not in DowngradePolicy.values:
        errors.append(FieldError("downgrade_policy", LoyaltyError.TIERS_INVALID, _("Choose a policy.")))
    if not 1 <= period_days <= 3660:
        errors.append(FieldError("period_days", LoyaltyError.TIERS_INVALID, _("1 to 3660 days.")))
    if not 1 <= cycle_months <= 36:
        errors.append(FieldError("cycle_months", LoyaltyError.TIERS_INVALID, _("1 to 36 months.")))
    if not 0 <= growth_per_yuan <= 1000:
        errors.append(FieldError("growth_per_yuan", LoyaltyError.TIERS_INVALID, _("0 to 1000.")))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        _programme_ensure()
        current = TierProgramme.objects.select_for_update().get(pk=1)
        before = {
            "basis": current.basis,
            "levels": [(lv.name, lv.threshold) for lv in TierLevel.objects.all()],
        }
        current.basis, current.period_days = basis, period_days
        current.downgrade_policy, current.cycle_months = downgrade_policy, cycle_months
        current.growth_per_yuan = growth_per_yuan
        current.save()
        kept = []
        for rank, spec in enumerate(level_specs):
            level, _created = TierLevel.objects.update_or_create(
                rank=rank,
                defaults={
                    "name": spec.name.strip(),
                    "threshold": spec.threshold,
                    "discount_permille": spec.discount_permille,
                    "points_multiplier_permille": spec.points_multiplier_permille,
                    "birthday_points": spec.birthday_points,
                    "priority_service": spec.priority_service,
                    "exclusive_campaigns": spec.exclusive_campaigns,
                    "benefits_text": spec.benefits_text.strip(),
                },
            )
            kept.append(level)
        top = kept[-1]
        gone = TierLevel.objects.filter(rank__gt=top.rank)
        if gone.exists():
            MemberTier.objects.filter(level__in=gone).update(level=top)
            TierChange.objects.filter(to_level__in=gone).update(to_level=top)
            TierChange.objects.filter(from_level__in=gone).update(from_level=top)
            gone.delete()
        audit_record(
            actor=actor, action="loyalty.tiers_save", object_type="tier_programme", object_id=1, before=before,
            after={"basis": basis, "levels": [(s.name, s.threshold) for s in level_specs]},
        )  # fmt: skip
    return current


# ---------------------------------------------------------------------------------------------------
# A member's value and level


def member_value(member_id: int, *, at: datetime | None = None, prog: TierProgramme | None = None) -> int:
    """Growth value, or fen paid net of refunds, over the rolling period ending at `at`."""
    at = at or timezone.now()
    prog = prog or programme()
    since = at - timedelta(days=prog.period_days)
    if prog.basis == TierBasis.PAID:
        return member_purchase_summary(member_id, since=since, until=at).net_fen
    total = GrowthPosting.objects.filter(member_id=member_id, at__gte=since, at__lt=at).aggregate(
        total=Sum("points")
    )["total"]
    return max(0, total or 0)


def level_for(value: int, all_levels: list[TierLevel]) -> TierLevel:
    """The highest level whose threshold the value reaches (the base level's is 0)."""
    earned = all_levels[0]
    for level in all_levels:
        if value >= level.threshold:
            earned = level
    return earned


def member_level(member_id: int) -> TierLevel:
    """The member's level now; the base level when they were never evaluated."""
    current = MemberTier.objects.select_related("level").filter(member_id=member_id).first()
    return current.level if current is not None else levels()[0]


def member_rank_discount(member_id: int) -> tuple[int, int]:
    """(rank, discount permille) of the member's level in one prepared-shape statement (the quote's
    hot path, promotions.quoting): the base level's when never evaluated, (0, 1000) with no levels."""
    q = connection.ops.quote_name
    levels_table, tiers_table = q(TierLevel._meta.db_table), q(MemberTier._meta.db_table)
    sql = (
        f"SELECT rank, discount_permille FROM {levels_table} WHERE id = COALESCE("  # noqa: S608 (names from meta)
        f"(SELECT level_id FROM {tiers_table} WHERE member_id = %s),"
        f" (SELECT id FROM {levels_table} ORDER BY rank LIMIT 1))"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [member_id])
        row = cursor.fetchone()
    return (row[0], row[1] or 1000) if row else (0, 1000)


@dataclass(frozen=True)
class Progress:
    level: TierLevel
    value: int
    next_level: TierLevel | None
    missing: int  # what the member still needs for the next level (0 at the top)
    percent: int  # 0..100 of the way from this level's threshold to the next one's
    basis: str


def tier_progress(member_id: int) -> Progress:
    prog = programme()
    all_levels = levels()
    level = member_level(member_id)
    value = member_value(member_id, prog=prog)
    higher = [lv for lv in all_levels if lv.rank > level.rank]
    nxt = higher[0] if higher else None
    if nxt is None:
        return Progress(level, value, None, 0, 100, prog.basis)
    span = max(1, nxt.threshold - level.threshold)
    done = min(max(0, value - level.threshold), span)
    return Progress(level, value, nxt, max(0, nxt.threshold - value), done * 100 // span, prog.basis)


def tier_points_multiplier_permille(member_id: int, at: datetime | None = None) -> int:
    """The member's level's order-points multiplier (registered with loyalty.earning)."""
    return member_level(member_id).points_multiplier_permille


def tier_discount_permille(member_id: int) -> int:
    return member_level(member_id).discount_permille


# ---------------------------------------------------------------------------------------------------
# Evaluation


def _notify(member_id: int, change: TierChange) -> None:
    """Queue the member's notice in the transaction of the change (the outbox is in the database):
    after the commit, a crash lost it and a failing write made a committed order a 500."""
    outbox_enqueue(
        member_id=member_id,
        channels=list(settings.LOYALTY_TIER_NOTICE_CHANNELS),
        template=TEMPLATE,
        context={"change_id": change.pk},
        ref=f"tier:{member_id}",
        dedupe=str(change.pk),
    )


def _move(
    row: MemberTier, to: TierLevel, *, value: int, why: str, now: datetime, prog: TierProgramme
) -> None:
    row_rank_before = row.level.rank
    change = TierChange.objects.create(
        member_id=row.member_id, from_level=row.level, to_level=to, value=value, why=why, at=now
    )
    row.level, row.since, row.value = to, now, value
    row.review_at = _add_months(now, prog.cycle_months)
    _notify(row.member_id, change)
    if row_rank_before < to.rank:
        activity_publish(
            Activity(
                ActivityKind.TIER_UPGRADED,
                row.member_id,
                key=f"tier:{change.pk}",
                at=now,
                data={"rank": to.rank},
            )
        )


def tier_evaluate(member_id: int, *, now: datetime | None = None, downgrade: bool = True) -> TierLevel:
    """Put the member on the level their value earns now: up at once; down only when `downgrade`
    (the periodic job) and the programme's policy says so. Idempotent; locks the member's tier row."""
    now = now or timezone.now()
    _programme_ensure()
    prog = programme()
    all_levels = levels()
    value = member_value(member_id, at=now, prog=prog)
    earned = level_for(value, all_levels)
    with transaction.atomic():
        row = (
            MemberTier.objects.select_for_update(of=("self",))
            .select_related("level")
            .filter(member_id=member_id)
            .first()
        )
        if row is None:
            if not Member.objects.filter(pk=member_id).exists():
                raise DomainError(LoyaltyError.MEMBER_NOT_FOUND)
            try:
                with transaction.atomic():
                    MemberTier.objects.create(
                        member_id=member_id, level=all_levels[0], value=0, since=now, evaluated_at=now,
                        review_at=_add_months(now, prog.cycle_months),
                    )  # fmt: skip
            except IntegrityError:
                pass  # a concurrent evaluation created it
            row = (
                MemberTier.objects.select_for_update(of=("self",))
                .select_related("level")
                .get(member_id=member_id)
            )
        current = row.level
        if earned.rank > current.rank:
            _move(row, earned, value=value, why="upgrade", now=now, prog=prog)
        elif earned.rank < current.rank and downgrade:
            policy = prog.downgrade_policy
            if policy == DowngradePolicy.BY_VALUE:
                _move(row, earned, value=value, why="downgrade", now=now, prog=prog)
            elif now >= row.review_at:
                if policy == DowngradePolicy.ONE_LEVEL:
                    one_down = [lv for lv in all_levels if lv.rank < current.rank][-1]
                    _move(row, one_down, value=value, why="downgrade", now=now, prog=prog)
                else:
                    _move(row, earned, value=value, why="downgrade", now=now, prog=prog)
        elif downgrade and now >= row.review_at:
            row.review_at = _add_months(now, prog.cycle_months)  # kept: a new cycle
        row.value, row.evaluated_at = value, now
        row.save()
        return row.level


MAX_EXTENSION_DAYS = 3650


def tier_extend(
    *, member_id: int, days: int, actor: Actor, reason: str = "", now: datetime | None = None
) -> MemberTier:
    """Keep the member's level `days` longer (会员有效期延长, e.g. a breach's compensation): their next
    downgrade review moves `days` later, counted from now when it is already due. Audited.

    Not idempotent on its own: the caller keeps the grant's key (privacy's compensation row) and
    calls this in the transaction that claims it. Under the BY_VALUE policy a level follows the value
    at every evaluation, so an extension delays nothing there (docs/privacy.md).

    Raises: loyalty.member_not_found, loyalty.extension_invalid."""
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise DomainError(LoyaltyError.EXTENSION_INVALID)
    now = now or timezone.now()
    with transaction.atomic():
        row = MemberTier.objects.select_for_update(of=("self",)).filter(member_id=member_id).first()
        if row is None:
            tier_evaluate(member_id, now=now, downgrade=False)  # creates the row (member_not_found)
            row = MemberTier.objects.select_for_update(of=("self",)).get(member_id=member_id)
        before = row.review_at
        row.review_at = max(row.review_at, now) + timedelta(days=days)
        row.save(update_fields=["review_at"])
        audit_record(
            actor=actor, action="tier.extend", object_type="member_tier", object_id=member_id,
            before={"review_at": before.isoformat()}, after={"review_at": row.review_at.isoformat()},
            reason=reason or _("Level extended by %(days)d days") % {"days": days},
        )  # fmt: skip
    return row


def tiers_evaluate_due(now: datetime | None = None) -> dict[str, int]:
    """The periodic job: evaluate members whose evaluation is older than a day (and members never
    evaluated who have orders or growth), in batches; upgrades and downgrades by the policy."""
    now = now or timezone.now()
    stale = now - timedelta(days=1)
    changed = 0
    due = list(MemberTier.objects.filter(evaluated_at__lt=stale).values_list("member_id", flat=True)[:1000])
    never = (
        GrowthPosting.objects.exclude(member__tier__isnull=False)
        .values_list("member_id", flat=True)
        .distinct()[:1000]
    )
    for member_id in [*due, *never]:
        before = MemberTier.objects.filter(member_id=member_id).values_list("level_id", flat=True).first()
        after = tier_evaluate(member_id, now=now)
        changed += before != after.pk
    return {"tiers_changed": changed} if changed else {}


# ---------------------------------------------------------------------------------------------------
# Growth from orders


def _order_growth(order: Order, prog: TierProgramme) -> int:
    if order.status == OrderStatus.CANCELLED:
        return 0
    return (order.total_fen - order.refunded_fen) // 100 * prog.growth_per_yuan


def on_order_fact(fact: OrderFact) -> None:
    """commerce.events handler, in the recording transaction: the order's growth value follows what
    is left of it (a refund takes its share back), posted as the difference under a key of the fact;
    an upgrade it earns happens at once."""
    prog = programme()
    order = Order.objects.get(pk=fact.order_id)
    target = _order_growth(order, prog)
    posted = (
        GrowthPosting.objects.filter(ref=f"order:{order.pk}").aggregate(total=Sum("points"))["total"] or 0
    )
    if target != posted:
        key = f"growth:order:{order.pk}:{fact.kind}:{fact.event_id or 0}"
        if not GrowthPosting.objects.filter(business_key=key).exists():
            GrowthPosting.objects.create(
                member_id=order.member_id, business_key=key, points=target - posted, source="order",
                ref=f"order:{order.pk}", at=order.paid_at,
            )  # fmt: skip
    tier_evaluate(order.member_id, downgrade=False)


# ---------------------------------------------------------------------------------------------------
# The message


def messages_load(contexts: list[dict]):
    changes = {
        change.pk: change
        for change in TierChange.objects.select_related("to_level").filter(
            pk__in=[c.get("change_id") for c in contexts]
        )
    }

    def render(template: str, context: dict, channel: str):
        change = changes.get(context.get("change_id"))
        if change is None:
            return None
        if change.why == "upgrade":
            body = _("Congratulations: you are now a %(level)s member. See your benefits in my centre.")
        else:
            body = _("Your member level is now %(level)s. Keep shopping to move up again.")
        return _("Member level"), body % {"level": change.to_level.name}

    return render


# ---------------------------------------------------------------------------------------------------
# The birthday gift


def birthday_gifts_due(now: datetime | None = None) -> dict[str, int]:
    """The periodic job: on a member's birthday (in settings.TIME_ZONE) their level's birthday points,
    once a year (key "birthday:<member>:<year>"). Members born on 29 February get theirs on 28 February
    in other years."""
    import calendar

    from yunying.loyalty.ledger import points_earn
    from yunying.loyalty.models import PostingSource
    from yunying.loyalty.rules import points_rules_current, rules_expiry_at

    now = now or timezone.now()
    today = timezone.localdate(now)
    days = [today.day]
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        days.append(29)
    gifted_levels = {level.pk: level for level in TierLevel.objects.filter(birthday_points__gt=0)}
    base = next((level for level in gifted_levels.values() if level.rank == 0), None)
    if not gifted_levels:
        return {}
    rules = points_rules_current()
    expires_at = rules_expiry_at(rules, now) if rules is not None else None
    paid = 0
    born_today = Member.objects.filter(birth_date__month=today.month, birth_date__day__in=days)
    for member_id, level_id in born_today.values_list("pk", "tier__level_id").iterator():
        level = gifted_levels.get(level_id) if level_id is not None else base
        if level is None:
            continue
        posted = points_earn(
            member_id=member_id, points=level.birthday_points, key=f"birthday:{member_id}:{today.year}",
            source=PostingSource.BIRTHDAY, actor=_BIRTHDAY, expires_at=expires_at, memo=level.name, now=now,
        )  # fmt: skip
        paid += not posted.replayed
    return {"birthday_gifts": paid} if paid else {}


_BIRTHDAY = Actor(kind="system", id=None, label="loyalty birthday")
