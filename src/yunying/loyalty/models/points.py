"""The points ledger (L2): append-only postings that earn into lots and take out of them.

Every earning is a lot (PointLot) with its own expiry; every other posting moves points out of (or
back into) specific lots, and says which through its allocations (PointAllocation, signed). So:
- a lot's `remaining` is the sum of its allocations;
- a posting's `points` is the sum of its allocations (EARN: +points into its own new lot);
- an account's `balance` + `pending` is the sum of its postings' points, `balance` being what sits in
  available lots and `pending` what sits in lots still waiting for their order's return window.
`remaining`, `balance` and `pending` are derived, kept in step by loyalty.ledger in the same
transaction, and `ledger_rebuild` recomputes them from the allocations; `ledger_reconcile` finds any
drift. Postings and allocations are never updated or deleted.

`debt` is what a refund could not take back because the member had already spent it; later
earnings pay it first (a DEBT_SETTLE posting), so a balance is never negative and a refund never
leaves points behind (odoo#257854).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from yunying.members.models import Member


class PointAccount(models.Model):
    """One member's points. Its row is the lock every posting to the member takes first."""

    member = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="point_account")
    balance = models.BigIntegerField(default=0)  # spendable now: the remaining of available lots
    pending = models.BigIntegerField(default=0)  # earned, spendable when the return window closes
    debt = models.BigIntegerField(default=0)  # taken back by refunds after being spent: paid first
    earned_total = models.BigIntegerField(default=0)  # every EARN ever, for statistics
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0) & models.Q(pending__gte=0) & models.Q(debt__gte=0),
                name="point_account_not_negative",
            )
        ]

    def __str__(self) -> str:
        return f"Points of member {self.member_id}"


class PostingKind(models.TextChoices):
    EARN = "earn", _("Earned")
    SPEND = "spend", _("Spent")
    RESTORE = "restore", _("Given back")  # a spend cancelled or refunded: back into its lots
    REVERSE = "reverse", _("Taken back")  # an earning refunded
    EXPIRE = "expire", _("Expired")
    MATURE = "mature", _("Became available")  # pending lots whose return window closed (moves 0)
    DEBT_SETTLE = "debt_settle", _("Paid a refund debt")
    ADJUST_OUT = "adjust_out", _("Deducted by an operator")  # an operator's deduction (ADJUST in is EARN)


class PostingSource(models.TextChoices):
    ORDER = "order", _("Order")
    SIGNUP = "signup", _("Campaign sign-up")
    ATTENDANCE = "attendance", _("Attendance")
    CHECKIN = "checkin", _("Daily check-in")
    TASK = "task", _("Task")
    REFERRAL = "referral", _("Referral")
    WELCOME = "welcome", _("New member")
    BIRTHDAY = "birthday", _("Birthday")
    MANUAL = "manual", _("Operator adjustment")
    REDEEM = "redeem", _("Redemption")
    CHECKOUT = "checkout", _("Paid at checkout")
    GIFT = "gift", _("Gift")
    SYSTEM = "system", _("System")


class PointPosting(models.Model):
    account = models.ForeignKey(PointAccount, on_delete=models.PROTECT, related_name="postings")
    kind = models.CharField(max_length=12, choices=PostingKind.choices)
    source = models.CharField(max_length=12, choices=PostingSource.choices)
    # Unique: an order line, a task, a referral, an Idempotency-Key. A retry or a replayed event
    # finds the first posting and posts nothing.
    business_key = models.CharField(max_length=160, unique=True)
    points = models.BigIntegerField()  # signed: what it changes balance + pending by
    # What it answers: the earning a REVERSE takes back, the spend a RESTORE gives back.
    related = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="followers"
    )
    shortfall = models.BigIntegerField(default=0)  # REVERSE: points already spent, added to the debt
    # REVERSE: points that had expired out of the earning's lot: they never served the member, so they
    # are neither taken from other lots nor made debt.
    written_off = models.BigIntegerField(default=0)
    ref = models.CharField(max_length=120, blank=True)  # the order id, campaign id, task… as text
    memo = models.CharField(max_length=200, blank=True)  # shown to the member
    reason = models.CharField(max_length=500, blank=True)  # an operator's reason (audited)
    actor_kind = models.CharField(max_length=20)
    actor_label = models.CharField(max_length=150)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["account", "-id"]), models.Index(fields=["kind", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(shortfall__gte=0) & models.Q(written_off__gte=0),
                name="point_posting_shortfall_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points:+d} ({self.business_key})"


class PointLot(models.Model):
    """What one EARN put in: spent, reversed and expired oldest-expiring first."""

    account = models.ForeignKey(PointAccount, on_delete=models.PROTECT, related_name="lots")
    posting = models.OneToOneField(PointPosting, on_delete=models.PROTECT, related_name="lot")
    points = models.BigIntegerField()  # as earned
    remaining = models.BigIntegerField()  # derived: the sum of its allocations
    pending_until = models.DateTimeField(null=True, blank=True)  # null once available
    expires_at = models.DateTimeField(null=True, blank=True)  # null: never
    earned_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The expiry sweep: lots with points left whose date passed.
            models.Index(
                fields=["expires_at"], name="point_lot_expiring", condition=models.Q(remaining__gt=0)
            ),
            models.Index(
                fields=["pending_until"],
                name="point_lot_maturing",
                condition=models.Q(pending_until__isnull=False),
            ),
            models.Index(fields=["account", "expires_at", "id"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points__gt=0)
                & models.Q(remaining__gte=0)
                & models.Q(remaining__lte=models.F("points")),
                name="point_lot_remaining_within_points",
            )
        ]


class PointAllocation(models.Model):
    """How many points one posting put into (+) or took out of (−) one lot."""

    posting = models.ForeignKey(PointPosting, on_delete=models.PROTECT, related_name="allocations")
    lot = models.ForeignKey(PointLot, on_delete=models.PROTECT, related_name="allocations")
    points = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["lot"])]
        constraints = [
            models.CheckConstraint(condition=~models.Q(points=0), name="point_allocation_not_zero"),
        ]
