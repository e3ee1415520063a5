"""The only writer of the points ledger (models/points.py explains its shape).

Every posting locks the member's PointAccount row first (select_for_update; on SQLite the write
transaction is already exclusive), then reads and changes the member's lots: two spends of the same
points cannot both succeed, and the balance never goes below zero (also a CHECK).

Every posting has a business key. Posting again under a key already used for the same thing (same
member, kind and points) returns the first posting with replayed=True and writes nothing; under a key
used for something else, loyalty.key_conflict.

Lots are consumed oldest-expiring first (a lot that never expires last), then oldest earned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from yunying.core.errors import DomainError
from yunying.core.permissions import Actor
from yunying.loyalty.errors import LoyaltyError
from yunying.loyalty.models import (
    PointAccount,
    PointAllocation,
    PointLot,
    PointPosting,
    PostingKind,
    PostingSource,
)
from yunying.members.models import Member


@dataclass(frozen=True)
class Posted:
    posting: PointPosting
    replayed: bool


# ---------------------------------------------------------------------------------------------------
# Locking, replays


def _account_locked(member_id: int) -> PointAccount:
    """The member's account, locked for this transaction; created on the first posting."""
    account = PointAccount.objects.select_for_update().filter(member_id=member_id).first()
    if account is not None:
        return account
    if not Member.objects.filter(pk=member_id).exists():
        raise DomainError(LoyaltyError.MEMBER_NOT_FOUND)
    try:
        with transaction.atomic():
            PointAccount.objects.create(member_id=member_id)
    except IntegrityError:
        pass  # a concurrent first posting created it
    return PointAccount.objects.select_for_update().get(member_id=member_id)


def _replay(key: str, *, member_id: int, kind: str, points: int | None) -> Posted | None:
    """The posting already made under `key`, when it is the same one; conflict when it is not."""
    posting = PointPosting.objects.select_related("account").filter(business_key=key).first()
    if posting is None:
        return None
    same = posting.account.member_id == member_id and posting.kind == kind
    if same and points is not None:
        same = abs(posting.points) + posting.shortfall + posting.written_off == points
    if not same:
        raise DomainError(LoyaltyError.KEY_CONFLICT, key=key)
    return Posted(posting, replayed=True)


def _posting_or_replay(post, key: str, *, member_id: int, kind: str, points: int | None) -> Posted:
    """Run `post()` (which writes under `key`) in a savepoint; a concurrent writer of the same key on
    another member's account meets the unique index, and then the first posting answers."""
    try:
        with transaction.atomic():
            return post()
    except IntegrityError:
        replay = _replay(key, member_id=member_id, kind=kind, points=points)
        if replay is None:
            raise
        return replay


def _check_points(points: int | None, *, allow_none: bool = False) -> None:
    if points is None and allow_none:
        return
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise DomainError(LoyaltyError.POINTS_INVALID)


def _posting(
    account: PointAccount,
    *,
    kind: str,
    source: str,
    key: str,
    points: int,
    actor: Actor,
    now: datetime,
    ref: str = "",
    memo: str = "",
    reason: str = "",
    related: PointPosting | None = None,
    shortfall: int = 0,
) -> PointPosting:
    return PointPosting.objects.create(
        account=account,
        kind=kind,
        source=source,
        business_key=key[:160],
        points=points,
        related=related,
        shortfall=shortfall,
        ref=ref[:120],
        memo=memo[:200],
        reason=reason[:500],
        actor_kind=actor.kind,
        actor_label=actor.label[:150],
        created_at=now,
    )


def _spending_order(lots):
    """Oldest-expiring first, a lot that never expires last, then oldest earned."""
    return lots.order_by(F("expires_at").asc(nulls_last=True), "earned_at", "id")


def _take(account: PointAccount, posting: PointPosting, points: int, lots: Iterable[PointLot]) -> int:
    """Take up to `points` out of `lots` in their order, for `posting`; returns what was taken.
    Keeps the lots' remaining and the account's balance/pending in step (the caller saves the account)."""
    taken = 0
    allocations = []
    for lot in lots:
        if taken == points:
            break
        part = min(lot.remaining, points - taken)
        if part <= 0:
            continue
        lot.remaining -= part
        lot.save(update_fields=["remaining"])
        allocations.append(PointAllocation(posting=posting, lot=lot, points=-part))
        if lot.pending_until is None:
            account.balance -= part
        else:
            account.pending -= part
        taken += part
    PointAllocation.objects.bulk_create(allocations)
    return taken


def _available_lots(account: PointAccount, *, exclude: int | None = None):
    lots = PointLot.objects.filter(account=account, remaining__gt=0, pending_until__isnull=True)
    if exclude is not None:
        lots = lots.exclude(pk=exclude)
    return _spending_order(lots)


def _settle_debt(account: PointAccount, lot: PointLot, *, key: str, actor: Actor, now: datetime) -> None:
    """Pay the account's refund debt from a lot that just became spendable."""
    if account.debt <= 0 or lot.pending_until is not None or lot.remaining <= 0:
        return
    part = min(account.debt, lot.remaining)
    posting = _posting(
        account,
        kind=PostingKind.DEBT_SETTLE,
        source=PostingSource.SYSTEM,
        key=key,
        points=-part,
        actor=actor,
        now=now,
        related=lot.posting,
    )
    _take(account, posting, part, [lot])
    account.debt -= part


# ---------------------------------------------------------------------------------------------------
# Earning and spending


def points_earn(
    *,
    member_id: int,
    points: int,
    key: str,
    source: str,
    actor: Actor,
    expires_at: datetime | None,
    pending_until: datetime | None = None,
    ref: str = "",
    memo: str = "",
    reason: str = "",
    now: datetime | None = None,
) -> Posted:
    """Put `points` in a new lot that expires at `expires_at` (None: never). With `pending_until`
    (an order's return window) the lot is pending, not spendable, until then. Pays any refund debt
    first, with a DEBT_SETTLE posting of its own.

    Raises: loyalty.points_invalid, loyalty.member_not_found, loyalty.key_conflict."""
    _check_points(points)
    now = now or timezone.now()
    if pending_until is not None and pending_until <= now:
        pending_until = None

    def post() -> Posted:
        account = _account_locked(member_id)
        replay = _replay(key, member_id=member_id, kind=PostingKind.EARN, points=points)
        if replay:
            return replay
        posting = _posting(
            account,
            kind=PostingKind.EARN,
            source=source,
            key=key,
            points=points,
            actor=actor,
            now=now,
            ref=ref,
            memo=memo,
            reason=reason,
        )
        lot = PointLot.objects.create(
            account=account,
            posting=posting,
            points=points,
            remaining=points,
            pending_until=pending_until,
            expires_at=expires_at,
            earned_at=now,
        )
        PointAllocation.objects.create(posting=posting, lot=lot, points=points)
        if pending_until is None:
            account.balance += points
        else:
            account.pending += points
        account.earned_total += points
        _settle_debt(account, lot, key=f"{key}:debt", actor=actor, now=now)
        account.save(update_fields=["balance", "pending", "debt", "earned_total", "updated_at"])
        return Posted(posting, replayed=False)

    return _posting_or_replay(post, key, member_id=member_id, kind=PostingKind.EARN, points=points)


def points_spend(
    *,
    member_id: int,
    points: int,
    key: str,
    source: str,
    actor: Actor,
    ref: str = "",
    memo: str = "",
    reason: str = "",
    kind: str = PostingKind.SPEND,
    now: datetime | None = None,
) -> Posted:
    """Take `points` from the member's spendable lots, oldest-expiring first. All or nothing.
    `kind` is SPEND, or ADJUST_OUT for an operator's deduction.

    Raises: loyalty.points_invalid, loyalty.insufficient_points (with balance), loyalty.member_not_found,
    loyalty.key_conflict."""
    _check_points(points)
    now = now or timezone.now()

    def post() -> Posted:
        account = _account_locked(member_id)
        replay = _replay(key, member_id=member_id, kind=kind, points=points)
        if replay:
            return replay
        if account.balance < points:
            raise DomainError(LoyaltyError.INSUFFICIENT_POINTS, balance=account.balance, needed=points)
        posting = _posting(
            account,
            kind=kind,
            source=source,
            key=key,
            points=-points,
            actor=actor,
            now=now,
            ref=ref,
            memo=memo,
            reason=reason,
        )
        taken = _take(account, posting, points, _available_lots(account))
        assert taken == points, "balance and lots disagree: run ledger_reconcile"
        account.save(update_fields=["balance", "pending", "updated_at"])
        return Posted(posting, replayed=False)

    return _posting_or_replay(post, key, member_id=member_id, kind=kind, points=points)


def _related(key: str, kinds: set[str]) -> PointPosting:
    posting = PointPosting.objects.select_related("account").filter(business_key=key, kind__in=kinds).first()
    if posting is None:
        raise DomainError(LoyaltyError.POSTING_NOT_FOUND, key=key)
    return posting


def points_restore(
    *,
    spend_key: str,
    key: str,
    actor: Actor,
    points: int | None = None,
    memo: str = "",
    reason: str = "",
    now: datetime | None = None,
) -> Posted:
    """Give back points a spend took (a cancelled checkout, a refunded order): `points`, or all that
    is left to give back. They go back into the lots they came from, so they keep their expiry; any
    whose lot has expired since expire at once (an EXPIRE posting under `key` + ":expired").

    Raises: loyalty.posting_not_found, loyalty.over_restore, loyalty.points_invalid, loyalty.key_conflict."""
    _check_points(points, allow_none=True)
    now = now or timezone.now()
    spend = _related(spend_key, {PostingKind.SPEND})
    member_id = spend.account.member_id

    def post() -> Posted:
        account = _account_locked(member_id)
        replay = _replay(key, member_id=member_id, kind=PostingKind.RESTORE, points=points)
        if replay:
            return replay
        # What each lot gave the spend, less what earlier restores of it put back.
        owed: dict[int, int] = defaultdict(int)
        for lot_id, part in PointAllocation.objects.filter(posting=spend).values_list("lot_id", "points"):
            owed[lot_id] -= part
        for lot_id, part in PointAllocation.objects.filter(
            posting__related=spend, posting__kind=PostingKind.RESTORE
        ).values_list("lot_id", "points"):
            owed[lot_id] -= part
        restorable = sum(owed.values())
        wanted = restorable if points is None else points
        if wanted > restorable or wanted <= 0:
            raise DomainError(LoyaltyError.OVER_RESTORE, restorable=restorable)
        posting = _posting(
            account,
            kind=PostingKind.RESTORE,
            source=spend.source,
            key=key,
            points=wanted,
            actor=actor,
            now=now,
            ref=spend.ref,
            memo=memo,
            reason=reason,
            related=spend,
        )
        # Latest-expiring lots first: what the member gets back lasts as long as it can.
        lots = PointLot.objects.filter(pk__in=[lot_id for lot_id, part in owed.items() if part > 0])
        lots = lots.order_by(F("expires_at").desc(nulls_first=True), "-id")
        left = wanted
        allocations, expired = [], []
        for lot in lots:
            part = min(owed[lot.pk], left)
            if part <= 0:
                continue
            lot.remaining += part
            lot.save(update_fields=["remaining"])
            allocations.append(PointAllocation(posting=posting, lot=lot, points=part))
            account.balance += part  # spends only ever take from available lots
            left -= part
            if lot.expires_at is not None and lot.expires_at <= now:
                expired.append(lot)
            if left == 0:
                break
        PointAllocation.objects.bulk_create(allocations)
        if expired:
            gone = sum(lot.remaining for lot in expired)
            expiry = _posting(
                account,
                kind=PostingKind.EXPIRE,
                source=PostingSource.SYSTEM,
                key=f"{key}:expired",
                points=-gone,
                actor=actor,
                now=now,
                related=spend,
            )
            _take(account, expiry, gone, expired)
        account.save(update_fields=["balance", "pending", "updated_at"])
        return Posted(posting, replayed=False)

    return _posting_or_replay(post, key, member_id=member_id, kind=PostingKind.RESTORE, points=points)


def points_reverse(
    *,
    earn_key: str,
    key: str,
    actor: Actor,
    points: int | None = None,
    memo: str = "",
    reason: str = "",
    now: datetime | None = None,
) -> Posted:
    """Take back points an earning gave (its order was refunded): `points`, or all not yet taken back.
    They come out of the earning's own lot first, then the member's other points (spendable, oldest-
    expiring first, then pending); what the member already spent becomes debt (`shortfall`), paid from
    later earnings. A refund never leaves earned points behind (odoo#257854). What expired out of the
    earning's own lot never served the member: that part is written off (`written_off`), not taken
    from their other points nor made debt.

    Raises: loyalty.posting_not_found, loyalty.over_reverse, loyalty.points_invalid, loyalty.key_conflict."""
    _check_points(points, allow_none=True)
    now = now or timezone.now()
    earn = _related(earn_key, {PostingKind.EARN})
    member_id = earn.account.member_id

    def post() -> Posted:
        account = _account_locked(member_id)
        replay = _replay(key, member_id=member_id, kind=PostingKind.REVERSE, points=points)
        if replay:
            return replay
        reversed_already = written_off_before = 0
        for taken, shortfall, written_off in PointPosting.objects.filter(
            related=earn, kind=PostingKind.REVERSE
        ).values_list("points", "shortfall", "written_off"):
            reversed_already += -taken + shortfall + written_off
            written_off_before += written_off
        reversible = earn.points - reversed_already
        wanted = reversible if points is None else points
        if wanted > reversible or wanted <= 0:
            raise DomainError(LoyaltyError.OVER_REVERSE, reversible=reversible)
        posting = _posting(
            account,
            kind=PostingKind.REVERSE,
            source=earn.source,
            key=key,
            points=0,
            actor=actor,
            now=now,
            ref=earn.ref,
            memo=memo,
            reason=reason,
            related=earn,
        )
        own = PointLot.objects.get(posting=earn)
        others_pending = _spending_order(
            PointLot.objects.filter(account=account, remaining__gt=0, pending_until__isnull=False).exclude(
                pk=own.pk
            )
        )
        taken = _take(account, posting, wanted, [own])
        expired_own = -(
            PointAllocation.objects.filter(lot=own, posting__kind=PostingKind.EXPIRE).aggregate(
                total=Sum("points")
            )["total"]
            or 0
        )
        written_off = min(wanted - taken, max(0, expired_own - written_off_before))
        rest = wanted - taken - written_off
        from_others = _take(account, posting, rest, _available_lots(account, exclude=own.pk))
        from_others += _take(account, posting, rest - from_others, others_pending)
        taken += from_others
        shortfall = rest - from_others
        account.debt += shortfall
        PointPosting.objects.filter(pk=posting.pk).update(
            points=-taken, shortfall=shortfall, written_off=written_off
        )
        posting.points, posting.shortfall, posting.written_off = -taken, shortfall, written_off
        account.save(update_fields=["balance", "pending", "debt", "updated_at"])
        return Posted(posting, replayed=False)

    return _posting_or_replay(post, key, member_id=member_id, kind=PostingKind.REVERSE, points=points)


# ---------------------------------------------------------------------------------------------------
# The periodic jobs: maturing and expiring


BATCH = 500


def points_mature_due(now: datetime | None = None) -> dict[str, int]:
    """Pending lots whose return window closed become spendable (a MATURE posting each, moving no
    points), and pay any refund debt. Idempotent: a lot matures once (its posting's key)."""
    now = now or timezone.now()
    matured = 0
    while True:
        due = list(
            PointLot.objects.filter(pending_until__lte=now)
            .order_by("pending_until", "id")
            .values_list("id", "account__member_id")[:BATCH]
        )
        if not due:
            break
        for lot_id, member_id in due:
            with transaction.atomic():
                account = _account_locked(member_id)
                lot = (
                    PointLot.objects.select_related("posting")
                    .filter(pk=lot_id, pending_until__lte=now)
                    .first()
                )
                if lot is None:
                    continue  # another worker matured it
                lot.pending_until = None
                lot.save(update_fields=["pending_until"])
                account.pending -= lot.remaining
                account.balance += lot.remaining
                _posting(
                    account,
                    kind=PostingKind.MATURE,
                    source=lot.posting.source,
                    key=f"mature:{lot.pk}",
                    points=0,
                    actor=_SYSTEM_JOB,
                    now=now,
                    ref=lot.posting.ref,
                    related=lot.posting,
                )
                _settle_debt(account, lot, key=f"mature:{lot.pk}:debt", actor=_SYSTEM_JOB, now=now)
                account.save(update_fields=["balance", "pending", "debt", "updated_at"])
                matured += 1
    return {"matured": matured} if matured else {}


EXPIRE_BATCH = 2000  # lots a transaction expires (set-based: a few statements per batch, not per lot)


def points_expire_due(now: datetime | None = None) -> dict[str, int]:
    """Lots past their expiry lose what is left in them: an EXPIRE posting per lot (key "expire:<lot>"),
    set-based: each batch is one transaction that locks the accounts it touches in id order, re-reads
    their due lots under the lock, then inserts the postings and allocations in bulk, zeroes the lots
    in one UPDATE and writes each account's new balance. Two workers at once expire each lot once."""
    now = now or timezone.now()
    due = {"expires_at__lte": now, "remaining__gt": 0, "pending_until__isnull": True}
    expired_lots = expired_points = 0
    while True:
        account_ids = sorted(
            set(
                PointLot.objects.filter(**due)
                .order_by("account_id")
                .values_list("account_id", flat=True)[:EXPIRE_BATCH]
            )
        )
        if not account_ids:
            break
        with transaction.atomic():
            accounts = {
                account.pk: account
                for account in PointAccount.objects.select_for_update()
                .filter(pk__in=account_ids)
                .order_by("pk")
            }
            lots = list(
                PointLot.objects.filter(account_id__in=list(accounts), **due)
                .select_related("posting")
                .only("pk", "account_id", "remaining", "posting__source", "posting__ref")
            )
            if not lots:
                continue  # another worker expired them meanwhile
            postings = PointPosting.objects.bulk_create(
                [
                    PointPosting(
                        account_id=lot.account_id,
                        kind=PostingKind.EXPIRE,
                        source=lot.posting.source,
                        business_key=f"expire:{lot.pk}",
                        points=-lot.remaining,
                        related_id=lot.posting_id,
                        ref=lot.posting.ref,
                        actor_kind=_SYSTEM_JOB.kind,
                        actor_label=_SYSTEM_JOB.label,
                        created_at=now,
                    )
                    for lot in lots
                ],
                batch_size=500,
            )
            PointAllocation.objects.bulk_create(
                [
                    PointAllocation(posting_id=posting.pk, lot_id=lot.pk, points=-lot.remaining)
                    for posting, lot in zip(postings, lots, strict=True)
                ],
                batch_size=1000,
            )
            PointLot.objects.filter(pk__in=[lot.pk for lot in lots]).update(remaining=0)
            for lot in lots:
                accounts[lot.account_id].balance -= lot.remaining
                expired_points += lot.remaining
            expired_lots += len(lots)
            updated = timezone.now()
            for account in accounts.values():
                account.updated_at = updated
            PointAccount.objects.bulk_update(
                list(accounts.values()), ["balance", "updated_at"], batch_size=500
            )
    return {"expired_lots": expired_lots, "expired_points": expired_points} if expired_lots else {}


_SYSTEM_JOB = Actor(kind="system", id=None, label="loyalty")


# ---------------------------------------------------------------------------------------------------
# Reconciliation


@dataclass(frozen=True)
class Drift:
    member_id: int
    field: str  # "balance", "pending", "total", "debt", "lot:<id>"
    stored: int
    computed: int


def ledger_reconcile(member_ids: Iterable[int] | None = None) -> list[Drift]:
    """Where the stored figures disagree with the ledger: every lot's remaining against the sum of its
    allocations; every account's balance and pending against its lots; balance + pending against the
    sum of its postings; debt against the shortfalls of its reversals less what was settled.
    Lot sums are the stored `remaining` (checked against the allocations first)."""
    accounts = PointAccount.objects.all()
    if member_ids is not None:
        accounts = accounts.filter(member_id__in=list(member_ids))
    drifts: list[Drift] = []
    lot_drift = (
        PointLot.objects.filter(account__in=accounts)
        .annotate(allocated=Sum("allocations__points"))
        .exclude(remaining=F("allocated"))
        .values_list("account__member_id", "pk", "remaining", "allocated")
    )
    for member_id, lot_id, remaining, allocated in lot_drift:
        drifts.append(Drift(member_id, f"lot:{lot_id}", remaining, allocated or 0))
    lots_by_account: dict[int, dict[bool, int]] = defaultdict(lambda: {True: 0, False: 0})
    for pending in (True, False):
        sums = (
            PointLot.objects.filter(account__in=accounts, pending_until__isnull=not pending)
            .values("account_id")
            .annotate(total=Sum("remaining"))
            .values_list("account_id", "total")
        )
        for account_id, total in sums:
            lots_by_account[account_id][pending] = total or 0
    postings = dict(
        PointPosting.objects.filter(account__in=accounts)
        .values("account_id")
        .annotate(total=Sum("points"))
        .values_list("account_id", "total")
    )
    debts: dict[int, int] = defaultdict(int)
    for account_id, kind, points, shortfall in PointPosting.objects.filter(
        account__in=accounts, kind__in=[PostingKind.REVERSE, PostingKind.DEBT_SETTLE]
    ).values_list("account_id", "kind", "points", "shortfall"):
        debts[account_id] += shortfall if kind == PostingKind.REVERSE else points
    for account in accounts.only("pk", "member_id", "balance", "pending", "debt"):
        computed = lots_by_account[account.pk]
        if account.balance != computed[False]:
            drifts.append(Drift(account.member_id, "balance", account.balance, computed[False]))
        if account.pending != computed[True]:
            drifts.append(Drift(account.member_id, "pending", account.pending, computed[True]))
        total = postings.get(account.pk) or 0
        if account.balance + account.pending != total:
            drifts.append(Drift(account.member_id, "total", account.balance + account.pending, total))
        if account.debt != debts[account.pk]:
            drifts.append(Drift(account.member_id, "debt", account.debt, debts[account.pk]))
    return drifts


def ledger_rebuild(member_ids: Iterable[int] | None = None) -> list[Drift]:
    """Recompute the derived figures from the ledger: every lot's remaining from its allocations, every
    account's balance and pending from its lots, debt from its reversals' shortfalls less what was
    settled. Returns the drift it fixed (as ledger_reconcile saw it before). Accounts are locked."""
    drifts = ledger_reconcile(member_ids)
    if not drifts:
        return []
    with transaction.atomic():
        accounts = PointAccount.objects.select_for_update().filter(
            member_id__in={d.member_id for d in drifts}
        )
        for account in accounts.order_by("pk"):
            for lot in PointLot.objects.filter(account=account).annotate(
                allocated=Sum("allocations__points")
            ):
                if lot.remaining != (lot.allocated or 0):
                    PointLot.objects.filter(pk=lot.pk).update(remaining=lot.allocated or 0)
            lots = PointLot.objects.filter(account=account)
            account.balance = lots.filter(pending_until__isnull=True).aggregate(s=Sum("remaining"))["s"] or 0
            account.pending = lots.filter(pending_until__isnull=False).aggregate(s=Sum("remaining"))["s"] or 0
            debt = 0
            for kind, points, shortfall in PointPosting.objects.filter(
                account=account, kind__in=[PostingKind.REVERSE, PostingKind.DEBT_SETTLE]
            ).values_list("kind", "points", "shortfall"):
                debt += shortfall if kind == PostingKind.REVERSE else points
            account.debt = debt
            account.save(update_fields=["balance", "pending", "debt"])
    return drifts


def points_gift(
    from_member: int,
    to_member: int,
    points: int,
    key: str,
    *,
    actor: Actor,
    expires_at: datetime | None = None,
) -> Posted:
    """A member gives `points` to another: a spend from the giver and an earning for the receiver, in
    one transaction under `key` (postings "<key>:out" and "<key>:in"). Both accounts are locked in id
    order first, so crossing gifts cannot deadlock; parallel gifts never give more than the giver has
    (fuint#71). Returns the receiver's posting (replayed=True on a replay).

    Raises: loyalty.points_invalid, loyalty.insufficient_points, loyalty.member_not_found,
    loyalty.key_conflict."""
    _check_points(points)
    if from_member == to_member:
        raise DomainError(LoyaltyError.POINTS_INVALID)
    with transaction.atomic():
        for member_id in sorted({from_member, to_member}):
            _account_locked(member_id)
        out = points_spend(
            member_id=from_member, points=points, key=f"{key}:out", source=PostingSource.GIFT, actor=actor
        )
        received = points_earn(
            member_id=to_member,
            points=points,
            key=f"{key}:in",
            source=PostingSource.GIFT,
            actor=actor,
            expires_at=expires_at,
        )
        return Posted(received.posting, replayed=out.replayed and received.replayed)
