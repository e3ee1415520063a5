"""分销 brokerage: the only writer of loyalty.models.brokerage (docs/loyalty-brokerage.md).

Promoters bring members (a binding); orders of a bound member earn its promoter commission per
order-line category, in permille of the line's paid_fen, on one level (or two: the promoter's own
promoter too, when configured; never more). The rounding rule, the one rule: a line's commission at a
level is floor(non-refunded part × permille / 1000), in fen, so it never pays a fen more than the rule.

Commission follows the order facts (commerce.events), inside the transaction that records them:
- recorded: an EARN entry per line and level, held until the order's return window closes;
- refunded: each line's commission is brought to floor(rule × what is left of the line), cumulative,
  an entry per refund (the refund's key), so a refund never takes back twice and a replay posts nothing;
  an order-level refund (the storefront named no line) is spread over the lines (`lines_net`);
- cancelled: everything taken back.
An entry for a line whose commission was already released is released at once, so a refund after
release becomes a negative entry carried into the next statement.

Every ledger write locks the promoters' rows first (sorted by id): `balance_fen` moves with the entry.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from yunying.commerce.events import OrderFact, OrderFactKind
from yunying.commerce.models import Order, OrderStatus
from yunying.core.audit import audit_record
from yunying.core.errors import DomainError
from yunying.core.permissions import Actor
from yunying.core.scrub import scrub_personal
from yunying.loyalty.errors import BrokerageError
from yunying.loyalty.models.brokerage import (
    MAX_LEVELS,
    BrokerageConfig,
    CommissionEntry,
    CommissionRule,
    EntryKind,
    Promoter,
    PromoterBinding,
    PromoterState,
    Statement,
    StatementState,
)
from yunying.loyalty.rules import points_rules_current
from yunying.members.errors import MemberError
from yunying.members.models import Member

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand
CODE_LENGTH = 8
MAX_CHAIN = 10_000  # a bound on walking parents (a loop cannot exist; this only stops a corrupt one)
_SYSTEM_JOB = Actor(kind="system", id=None, label="brokerage")


# ---------------------------------------------------------------------------------------------------
# The rules, pure


def commission_fen(net_fen: int, permille: int) -> int:
    """The one rounding rule: round down to the fen."""
    return (max(net_fen, 0) * permille) // 1000


def lines_net(lines: list[tuple[int, int]], order_refunded_fen: int) -> list[int]:
    """What is left of each line (paid_fen, refunded_fen) once the order-level refunds are spread over
    them too: in proportion to what each line has left, rounded down, the fen left over going to the
    largest remainders (then the earlier line). The result sums to the order's paid less refunded."""
    left = [max(paid - refunded, 0) for paid, refunded in lines]
    whole = sum(left)
    spread = order_refunded_fen - sum(refunded for _, refunded in lines)
    if whole <= 0 or spread >= whole:
        return [0] * len(lines)
    if spread <= 0:
        return left
    shares = [spread * each // whole for each in left]
    remainders = sorted(range(len(left)), key=lambda i: (-(spread * left[i] % whole), i))
    for i in remainders[: spread - sum(shares)]:
        shares[i] += 1
    return [each - share for each, share in zip(left, shares, strict=True)]


def levels_check(levels: int) -> None:
    if isinstance(levels, bool) or not isinstance(levels, int) or not 1 <= levels <= MAX_LEVELS:
        raise DomainError(BrokerageError.LEVELS_INVALID, levels=levels if isinstance(levels, int) else None)


def rates_check(level1_permille: int, level2_permille: int) -> None:
    for value in (level1_permille, level2_permille):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
            raise DomainError(BrokerageError.RATE_INVALID)
    if level1_permille + level2_permille > 1000:
        raise DomainError(BrokerageError.RATE_INVALID)


# ---------------------------------------------------------------------------------------------------
# Settings and rules


def config_get() -> BrokerageConfig:
    config = BrokerageConfig.objects.filter(pk=1).first()
    return config or BrokerageConfig(pk=1)


def brokerage_configure(
    *, levels: int, binding_days: int, applications_open: bool, actor: Actor
) -> BrokerageConfig:
    """Raises: brokerage.levels_invalid."""
    levels_check(levels)
    binding_days = max(int(binding_days), 0)
    with transaction.atomic():
        config, _ = BrokerageConfig.objects.select_for_update().get_or_create(pk=1)
        before = {
            "levels": config.levels,
            "binding_days": config.binding_days,
            "open": config.applications_open,
        }
        config.levels, config.binding_days, config.applications_open = levels, binding_days, applications_open
        config.save()
        after = {"levels": levels, "binding_days": binding_days, "open": applications_open}
        audit_record(actor=actor, action="brokerage.configure", object_type="brokerage", object_id=1,
                     before=before, after=after)  # fmt: skip
    return config


def rule_set(*, category: str, level1_permille: int, level2_permille: int, actor: Actor) -> CommissionRule:
    """Create or change the rule of a category. Raises: brokerage.category_invalid, brokerage.rate_invalid."""
    category = (category or "").strip()
    if not category or len(category) > 64:
        raise DomainError(BrokerageError.CATEGORY_INVALID)
    rates_check(level1_permille, level2_permille)
    with transaction.atomic():
        rule = CommissionRule.objects.select_for_update().filter(category=category).first()
        before = {"level1": rule.level1_permille, "level2": rule.level2_permille} if rule else {}
        rule = rule or CommissionRule(category=category)
        rule.level1_permille, rule.level2_permille = level1_permille, level2_permille
        rule.save()
        audit_record(actor=actor, action="brokerage.rule_set", object_type="commission_rule",
                     object_id=category, before=before,
                     after={"level1": level1_permille, "level2": level2_permille})  # fmt: skip
    return rule


def rule_delete(*, category: str, actor: Actor) -> bool:
    with transaction.atomic():
        rule = CommissionRule.objects.select_for_update().filter(category=category).first()
        if rule is None:
            return False
        audit_record(actor=actor, action="brokerage.rule_delete", object_type="commission_rule",
                     object_id=category, before={"level1": rule.level1_permille, "level2": rule.level2_permille})  # fmt: skip
        rule.delete()
    return True


# ---------------------------------------------------------------------------------------------------
# Promoters


def _code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _unique_code() -> str:
    while True:
        code = _code_new()
        if not Promoter.objects.filter(code=code).exists():
            return code


def _member_locked(member_id: int) -> Member:
    member = Member.objects.select_for_update().filter(pk=member_id).first()
    if member is None:
        raise DomainError(MemberError.NOT_FOUND)
    return member


def _live_binding(member_id: int, at: datetime) -> PromoterBinding | None:
    return (
        PromoterBinding.objects.select_related("promoter")
        .filter(member_id=member_id, bound_at__lte=at)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
        .order_by("-bound_at", "-pk")
        .first()
    )


def promoter_get(code: str) -> Promoter:
    """Raises: brokerage.promoter_not_found."""
    promoter = Promoter.objects.filter(code=(code or "").strip().upper()[:16]).first()
    if promoter is None:
        raise DomainError(BrokerageError.PROMOTER_NOT_FOUND)
    return promoter


def promoter_of_member(member_id: int) -> Promoter | None:
    return Promoter.objects.filter(member_id=member_id).first()


def promoter_create(
    *,
    member_id: int | None = None,
    partner_name: str = "",
    parent_code: str = "",
    note: str = "",
    actor: Actor,
) -> Promoter:
    """Make a member (or an outside partner) an active promoter. A member's parent is whoever had
    brought them; a partner's, the promoter the operator names.

    Raises: member.not_found, brokerage.promoter_exists, brokerage.partner_name_required,
    brokerage.promoter_not_found."""
    partner_name = (partner_name or "").strip()[:80]
    if member_id is None and not partner_name:
        raise DomainError(BrokerageError.PARTNER_NAME_REQUIRED)
    with transaction.atomic():
        promoter = _promoter_new(member_id=member_id, partner_name=partner_name, parent_code=parent_code,
                                 note=note, state=PromoterState.ACTIVE)  # fmt: skip
        audit_record(actor=actor, action="brokerage.promoter_create", object_type="promoter",
                     object_id=promoter.pk, after={"code": promoter.code, "member_id": member_id,
                     "partner": partner_name, "parent": promoter.parent_id})  # fmt: skip
    return promoter


def _promoter_new(*, member_id, partner_name, parent_code, note, state) -> Promoter:
    parent = None
    now = timezone.now()
    if member_id is not None:
        _member_locked(member_id)
        if Promoter.objects.filter(member_id=member_id).exists():
            raise DomainError(BrokerageError.PROMOTER_EXISTS)
        binding = _live_binding(member_id, now)
        parent = binding.promoter if binding else None
    elif parent_code:
        parent = promoter_get(parent_code)
    return Promoter.objects.create(
        member_id=member_id,
        partner_name="" if member_id is not None else partner_name,
        code=_unique_code(),
        state=state,
        parent=parent,
        note=scrub_personal(note or "")[:200],  # an operator's words about a person: no phone or id in clear
        approved_at=now if state == PromoterState.ACTIVE else None,
    )


def promoter_apply(*, member_id: int, actor: Actor) -> Promoter:
    """A member asks to become a promoter (H5); an operator decides.

    Raises: brokerage.applications_closed, brokerage.promoter_exists, member.not_found."""
    if not config_get().applications_open:
        raise DomainError(BrokerageError.APPLICATIONS_CLOSED)
    with transaction.atomic():
        return _promoter_new(member_id=member_id, partner_name="", parent_code="", note="",
                             state=PromoterState.APPLIED)  # fmt: skip


_TRANSITIONS = {
    PromoterState.APPLIED: {PromoterState.ACTIVE, PromoterState.REFUSED},
    PromoterState.ACTIVE: {PromoterState.SUSPENDED},
    PromoterState.SUSPENDED: {PromoterState.ACTIVE},
    PromoterState.REFUSED: set(),
}


def promoter_transition(*, promoter_id: int, state: str, actor: Actor, reason: str = "") -> Promoter:
    """Approve or refuse an application, suspend or resume a promoter: one conditional UPDATE, so two
    operators deciding at once cannot both win.

    Raises: brokerage.promoter_not_found, brokerage.invalid_transition."""
    with transaction.atomic():
        promoter = Promoter.objects.filter(pk=promoter_id).first()
        if promoter is None:
            raise DomainError(BrokerageError.PROMOTER_NOT_FOUND)
        if state not in _TRANSITIONS.get(promoter.state, set()):
            raise DomainError(BrokerageError.INVALID_TRANSITION, state=promoter.state)
        fields = {"state": state}
        if state == PromoterState.ACTIVE and promoter.approved_at is None:
            fields["approved_at"] = timezone.now()
        if not Promoter.objects.filter(pk=promoter.pk, state=promoter.state).update(**fields):
            raise DomainError(BrokerageError.INVALID_TRANSITION, state=promoter.state)
        audit_record(actor=actor, action="brokerage.promoter_state", object_type="promoter", object_id=promoter.pk,
                     before={"state": promoter.state}, after={"state": state}, reason=reason)  # fmt: skip
        promoter.refresh_from_db()
    return promoter


def _chain(promoter: Promoter) -> list[int]:
    """The promoter's id and its ancestors' ids, nearest first."""
    ids = [promoter.pk]
    parent_id = promoter.parent_id
    while parent_id is not None and len(ids) < MAX_CHAIN:
        if parent_id in ids:
            break
        ids.append(parent_id)
        parent_id = Promoter.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    return ids


@dataclass(frozen=True)
class Bound:
    binding: PromoterBinding
    created: bool


def member_bind(
    *, member_id: int, code: str, source: str, actor: Actor, now: datetime | None = None
) -> Bound:
    """Bind a member to the promoter whose link or code brought them. The first live binding wins
    (with a binding period configured, a binding ends after it and a later link binds anew); binding
    again to the same promoter answers the live binding. A member who is a promoter and has no
    parent gets this promoter as parent.

    Raises: member.not_found, brokerage.promoter_not_found, brokerage.promoter_inactive,
    brokerage.self_binding, brokerage.circular, brokerage.already_bound."""
    now = now or timezone.now()
    code = promoter_get(code).code
    with transaction.atomic():
        _member_locked(member_id)  # one live binding per member: binders of one member queue here
        # Read again under the lock: the promoter may have been suspended since.
        promoter = Promoter.objects.get(code=code)
        if promoter.state != PromoterState.ACTIVE:
            raise DomainError(BrokerageError.PROMOTER_INACTIVE)
        if promoter.member_id == member_id:
            raise DomainError(BrokerageError.SELF_BINDING)
        live = _live_binding(member_id, now)
        if live is not None:
            if live.promoter_id == promoter.pk:
                return Bound(live, created=False)
            raise DomainError(BrokerageError.ALREADY_BOUND)
        own = Promoter.objects.filter(member_id=member_id).first()
        if own is not None:
            # Two bindings that would close a loop between them (A's member to B, B's member to A, at
            # once) both lock the promoters of the chain and read it again: the second sees the first.
            _lock_promoters([own.pk, *_chain(promoter)])
            own.refresh_from_db()
            promoter.refresh_from_db()
            if own.pk in _chain(promoter):
                raise DomainError(BrokerageError.CIRCULAR)
        days = config_get().binding_days
        binding = PromoterBinding.objects.create(
            member_id=member_id,
            promoter=promoter,
            source=source[:10],
            bound_at=now,
            ends_at=now + timedelta(days=days) if days else None,
        )
        if own is not None and own.parent_id is None:
            Promoter.objects.filter(pk=own.pk, parent__isnull=True).update(parent=promoter)
        audit_record(actor=actor, action="brokerage.bind", object_type="member", object_id=member_id,
                     after={"promoter": promoter.code, "source": source})  # fmt: skip
    return Bound(binding, created=True)


# ---------------------------------------------------------------------------------------------------
# Commission from order facts


def _window() -> timedelta:
    """The merchant's return window: the points rules' (one window for points and commission), or
    BROKERAGE_RETURN_WINDOW_DAYS before any points rules were saved."""
    rules = points_rules_current()
    days = rules.return_window_days if rules is not None else settings.BROKERAGE_RETURN_WINDOW_DAYS
    return timedelta(days=int(days))


def order_fact_handle(fact: OrderFact) -> None:
    """commerce.events subscriber; runs in the transaction recording the fact (the order row locked)."""
    if fact.kind == OrderFactKind.RECORDED:
        # Most buyers were brought by no one: one query (their binding) and done, also in an import.
        if _live_binding(fact.member_id, fact.at) is not None:
            commission_earn(order_id=fact.order_id)
    else:
        commission_follow(order_id=fact.order_id, event_id=fact.event_id)


def _rules() -> dict[str, CommissionRule]:
    return {rule.category: rule for rule in CommissionRule.objects.all()}


def _lock_promoters(ids) -> dict[int, Promoter]:
    return {p.pk: p for p in Promoter.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")}


def commission_earn(*, order_id: int, now: datetime | None = None) -> int:
    """Held commission for a new order of a bound member; returns the entries written. Idempotent:
    a line and level earns once (its key, and a unique constraint)."""
    now = now or timezone.now()
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.status == OrderStatus.CANCELLED:
        return 0
    binding = _live_binding(order.member_id, order.paid_at)
    if binding is None or binding.promoter.state != PromoterState.ACTIVE:
        return 0
    earners = [(1, binding.promoter)]
    config = config_get()
    parent = binding.promoter.parent
    if config.levels >= 2 and parent is not None and parent.state == PromoterState.ACTIVE:
        earners.append((2, parent))
    # Self-purchase earns nothing: no level pays a promoter for their own order.
    earners = [(level, p) for level, p in earners if p.member_id != order.member_id]
    if not earners:
        return 0
    rules = _rules()
    lines = list(order.lines.order_by("line_no"))
    nets = lines_net([(line.paid_fen, line.refunded_fen) for line in lines], order.refunded_fen)
    done = set(
        CommissionEntry.objects.filter(order=order, kind=EntryKind.EARN).values_list(
            "business_key", flat=True
        )
    )
    locked = _lock_promoters(p.pk for _, p in earners)
    written = 0
    for line, net in zip(lines, nets, strict=True):
        rule = rules.get(line.category) or rules.get(CommissionRule.DEFAULT_CATEGORY)
        if rule is None:
            continue
        for level, earner in earners:
            permille = rule.level1_permille if level == 1 else rule.level2_permille
            amount = commission_fen(net, permille)
            key = f"earn:{line.pk}:{level}"
            if amount <= 0 or key in done:
                continue
            _entry(locked[earner.pk], kind=EntryKind.EARN, key=key, amount=amount, level=level, order=order,
                   line=line, permille=permille, base=net, now=now, releases_at=order.paid_at + _window())  # fmt: skip
            written += 1
    return written


def commission_follow(*, order_id: int, event_id: int | None, now: datetime | None = None) -> int:
    """Bring every line's commission to the rule × what is left of it, after a refund or cancellation
    (event `event_id`); returns the entries written. Cumulative and keyed by the event: a replay
    writes nothing."""
    now = now or timezone.now()
    earns = list(
        CommissionEntry.objects.filter(order_id=order_id, kind=EntryKind.EARN).select_related("line")
    )
    if not earns:
        return 0
    order = Order.objects.get(pk=order_id)
    lines = list(order.lines.order_by("line_no"))
    if order.status == OrderStatus.CANCELLED:
        nets = [0] * len(lines)
    else:
        nets = lines_net([(line.paid_fen, line.refunded_fen) for line in lines], order.refunded_fen)
    net_of = {line.pk: net for line, net in zip(lines, nets, strict=True)}
    sums = defaultdict(int)
    for line_id, level, total in (
        CommissionEntry.objects.filter(order_id=order_id).exclude(kind=EntryKind.PAYOUT)
        .values("line_id", "level").annotate(total=Sum("amount_fen")).values_list("line_id", "level", "total")
    ):  # fmt: skip
        sums[(line_id, level)] = total
    locked = _lock_promoters(earn.promoter_id for earn in earns)
    written = 0
    for earn in sorted(earns, key=lambda e: (e.line_id, e.level)):
        target = commission_fen(net_of[earn.line_id], earn.permille)
        delta = target - sums[(earn.line_id, earn.level)]
        key = f"ev:{event_id or 0}:{earn.line_id}:{earn.level}"
        if delta == 0 or CommissionEntry.objects.filter(business_key=key).exists():
            continue
        released = earn.released_at is not None
        _entry(locked[earn.promoter_id], kind=EntryKind.REVERSE if delta < 0 else EntryKind.ADJUST, key=key,
               amount=delta, level=earn.level, order=order, line=earn.line, permille=earn.permille,
               base=net_of[earn.line_id], now=now, releases_at=now if released else earn.releases_at,
               released_at=now if released else None)  # fmt: skip
        written += 1
    return written


def _entry(promoter: Promoter, *, kind, key, amount, level, order, line, permille, base, now, releases_at,
           released_at=None, statement=None) -> CommissionEntry:  # fmt: skip
    """Write one entry and move the promoter's balance with it. Needs the promoter's row locked."""
    entry = CommissionEntry.objects.create(
        promoter=promoter, kind=kind, business_key=key, amount_fen=amount, level=level, order=order,
        line=line, buyer_id=order.member_id if order else None, permille=permille, base_fen=base,
        created_at=now, releases_at=releases_at, released_at=released_at, statement=statement,
    )  # fmt: skip
    Promoter.objects.filter(pk=promoter.pk).update(balance_fen=F("balance_fen") + amount)
    promoter.balance_fen += amount
    return entry


def commission_release_due(now: datetime | None = None) -> dict[str, int]:
    """Periodic job: held commission whose return window closed becomes available. One conditional
    UPDATE (only entries not yet released), so several workers may run it at once."""
    now = now or timezone.now()
    released = CommissionEntry.objects.filter(released_at__isnull=True, releases_at__lte=now).update(
        released_at=now
    )
    return {"released": released} if released else {}


# ---------------------------------------------------------------------------------------------------
# Statements and payouts


def month_start(day: date) -> date:
    return day.replace(day=1)


def _month_end(month: date) -> datetime:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return timezone.make_aware(datetime.combine(following, datetime.min.time()))


def statements_make(*, month: date, actor: Actor, now: datetime | None = None) -> int:
    """Freeze, per promoter, the released entries not in a statement whose return window closed
    before the month ended into that month's statement; returns how many statements were made. A promoter whose sum is
    zero or less gets none (a negative carries on into the next). Idempotent per promoter and month.

    Raises: brokerage.month_not_closed."""
    now = now or timezone.now()
    month = month_start(month)
    end = _month_end(month)
    if end > now:
        raise DomainError(BrokerageError.MONTH_NOT_CLOSED)
    due = (
        CommissionEntry.objects.filter(statement__isnull=True, released_at__isnull=False, releases_at__lt=end)
        .exclude(kind=EntryKind.PAYOUT).values_list("promoter_id", flat=True).distinct()
    )  # fmt: skip
    made = 0
    for promoter_id in sorted(set(due)):
        with transaction.atomic():
            _lock_promoters([promoter_id])
            if Statement.objects.filter(promoter_id=promoter_id, month=month).exists():
                continue
            open_entries = CommissionEntry.objects.filter(
                promoter_id=promoter_id,
                statement__isnull=True,
                released_at__isnull=False,
                releases_at__lt=end,
            ).exclude(kind=EntryKind.PAYOUT)
            totals = open_entries.aggregate(total=Sum("amount_fen"), n=Count("pk"))
            if (totals["total"] or 0) <= 0:
                continue
            statement = Statement.objects.create(
                promoter_id=promoter_id, month=month, total_fen=totals["total"], entries_count=totals["n"]
            )
            open_entries.update(statement=statement)
            audit_record(actor=actor, action="brokerage.statement_make", object_type="statement",
                         object_id=statement.pk, after={"total_fen": statement.total_fen, "month": str(month)})  # fmt: skip
            made += 1
    return made


def statements_due(now: datetime | None = None) -> dict[str, int]:
    """Periodic job: last month's statements, once the month has ended (idempotent)."""
    now = now or timezone.now()
    last_month = month_start(timezone.localdate(now) - timedelta(days=timezone.localdate(now).day))
    made = statements_make(month=last_month, actor=_SYSTEM_JOB, now=now)
    return {"statements": made} if made else {}


def statement_pay(
    *, statement_id: int, reference: str, actor: Actor, now: datetime | None = None
) -> Statement:
    """Mark a statement paid with the payment's reference: a PAYOUT entry takes its total off the
    promoter's balance. One conditional UPDATE: paying twice cannot both succeed.

    Raises: brokerage.statement_not_found, brokerage.statement_paid, brokerage.reference_required."""
    now = now or timezone.now()
    reference = (reference or "").strip()[:80]
    if not reference:
        raise DomainError(BrokerageError.REFERENCE_REQUIRED)
    with transaction.atomic():
        statement = Statement.objects.filter(pk=statement_id).first()
        if statement is None:
            raise DomainError(BrokerageError.STATEMENT_NOT_FOUND)
        promoter = _lock_promoters([statement.promoter_id])[statement.promoter_id]
        won = Statement.objects.filter(pk=statement.pk, state=StatementState.OPEN).update(
            state=StatementState.PAID, paid_at=now, paid_reference=reference, paid_by=actor.label[:150]
        )
        if not won:
            raise DomainError(BrokerageError.STATEMENT_PAID)
        _entry(promoter, kind=EntryKind.PAYOUT, key=f"payout:{statement.pk}", amount=-statement.total_fen,
               level=0, order=None, line=None, permille=0, base=0, now=now, releases_at=now, released_at=now,
               statement=statement)  # fmt: skip
        audit_record(actor=actor, action="brokerage.statement_pay", object_type="statement", object_id=statement.pk,
                     before={"state": StatementState.OPEN},
                     after={"state": StatementState.PAID, "reference": reference, "total_fen": statement.total_fen})  # fmt: skip
        statement.refresh_from_db()
    return statement


# ---------------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class Summary:
    held_fen: int  # waiting for the return window
    available_fen: int  # released, not yet in a statement
    statements_open_fen: int  # in statements not yet paid
    paid_fen: int
    balance_fen: int  # owed: held + available + open statements = the sum of the ledger
    bound_members: int
    orders: int


def promoter_summary(promoter: Promoter, *, now: datetime | None = None) -> Summary:
    now = now or timezone.now()
    entries = CommissionEntry.objects.filter(promoter=promoter)
    money = entries.exclude(kind=EntryKind.PAYOUT).aggregate(
        held=Sum("amount_fen", filter=Q(released_at__isnull=True)),
        available=Sum("amount_fen", filter=Q(released_at__isnull=False, statement__isnull=True)),
        open=Sum("amount_fen", filter=Q(statement__state=StatementState.OPEN)),
        orders=Count("order_id", distinct=True, filter=Q(kind=EntryKind.EARN)),
    )
    paid = -(entries.filter(kind=EntryKind.PAYOUT).aggregate(total=Sum("amount_fen"))["total"] or 0)
    bound = (
        PromoterBinding.objects.filter(promoter=promoter)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now)).values("member_id").distinct().count()
    )  # fmt: skip
    held, available, opened = money["held"] or 0, money["available"] or 0, money["open"] or 0
    return Summary(held, available, opened, paid, held + available + opened, bound, money["orders"] or 0)


def promoter_ranking(
    *, start: datetime | None = None, end: datetime | None = None, order_by: str = "commission"
):
    """Promoters with their commission, orders and newly bound members in [start, end), ranked."""
    period = Q()
    bound_period = Q()
    if start is not None:
        period &= Q(created_at__gte=start)
        bound_period &= Q(bound_at__gte=start)
    if end is not None:
        period &= Q(created_at__lt=end)
        bound_period &= Q(bound_at__lt=end)
    entries = CommissionEntry.objects.filter(period, promoter=OuterRef("pk")).exclude(kind=EntryKind.PAYOUT)
    commission = entries.values("promoter").annotate(v=Sum("amount_fen")).values("v")
    orders = (
        entries.filter(kind=EntryKind.EARN, level=1).values("promoter")
        .annotate(v=Count("order_id", distinct=True)).values("v")
    )  # fmt: skip
    bound = (
        PromoterBinding.objects.filter(bound_period, promoter=OuterRef("pk")).values("promoter")
        .annotate(v=Count("member_id", distinct=True)).values("v")
    )  # fmt: skip
    zero = Value(0, output_field=IntegerField())
    rows = Promoter.objects.select_related("member").annotate(
        commission_fen=Coalesce(Subquery(commission, output_field=IntegerField()), zero),
        orders_count=Coalesce(Subquery(orders, output_field=IntegerField()), zero),
        bound_count=Coalesce(Subquery(bound, output_field=IntegerField()), zero),
    )
    key = {"commission": "commission_fen", "orders": "orders_count", "bound": "bound_count"}.get(
        order_by, "commission_fen"
    )
    return rows.order_by(f"-{key}", "pk")


@dataclass(frozen=True)
class BrokerageDrift:
    promoter_id: int
    field: str
    stored: int
    computed: int


def brokerage_reconcile() -> list[BrokerageDrift]:
    """Where stored figures disagree with the ledger: a promoter's balance against the sum of its
    entries; a statement's total against its entries (payout aside); a line and level whose
    commission is below zero or above the rule on the line's paid_fen."""
    drifts = []
    sums = dict(
        CommissionEntry.objects.values("promoter_id")
        .annotate(t=Sum("amount_fen"))
        .values_list("promoter_id", "t")
    )
    for pk, balance in Promoter.objects.values_list("pk", "balance_fen"):
        if balance != (sums.get(pk) or 0):
            drifts.append(BrokerageDrift(pk, "balance", balance, sums.get(pk) or 0))
    for statement in Statement.objects.annotate(
        t=Sum("entries__amount_fen", filter=~Q(entries__kind=EntryKind.PAYOUT))
    ):
        if statement.total_fen != (statement.t or 0):
            drifts.append(BrokerageDrift(statement.promoter_id, f"statement:{statement.pk}", statement.total_fen,
                                         statement.t or 0))  # fmt: skip
    per_line = (
        CommissionEntry.objects.exclude(kind=EntryKind.PAYOUT)
        .values("promoter_id", "line_id", "level", "line__paid_fen")
        .annotate(t=Sum("amount_fen"), permille=Sum("permille", filter=Q(kind=EntryKind.EARN)))
    )
    for row in per_line:
        ceiling = commission_fen(row["line__paid_fen"] or 0, row["permille"] or 0)
        if not 0 <= row["t"] <= ceiling:
            drifts.append(
                BrokerageDrift(row["promoter_id"], f"line:{row['line_id']}:{row['level']}", row["t"], ceiling)
            )
    return drifts


def promoter_bound_members(promoter: Promoter, *, limit: int = 200):
    return (
        PromoterBinding.objects.filter(promoter=promoter)
        .select_related("member")
        .order_by("-bound_at")[:limit]
    )


def promoter_entries(promoter: Promoter, *, limit: int = 200):
    return (
        CommissionEntry.objects.filter(promoter=promoter)
        .select_related("order", "line", "statement").order_by("-created_at", "-pk")[:limit]
    )  # fmt: skip


def promoter_find(promoter_id: int) -> Promoter | None:
    return Promoter.objects.select_related("member", "parent").filter(pk=promoter_id).first()


def promoter_applications(*, limit: int = 50) -> list[Promoter]:
    return list(
        Promoter.objects.filter(state=PromoterState.APPLIED).select_related("member").order_by("pk")[:limit]
    )


def rule_list() -> list[CommissionRule]:
    return list(CommissionRule.objects.order_by("category"))


def statement_list(
    *, state: str | None = None, promoter: Promoter | None = None, limit: int = 200
) -> list[Statement]:
    rows = Statement.objects.select_related("promoter", "promoter__member").order_by("-month", "pk")
    if state in StatementState.values:
        rows = rows.filter(state=state)
    if promoter is not None:
        rows = rows.filter(promoter=promoter)
    return list(rows[:limit])
