"""分销 brokerage (issue 11): promoters, who they brought, commission rules, the commission ledger and
monthly statements. Only loyalty.brokerage writes these tables.

- A Promoter is a member, or an outside partner (a name, no member account). Its row is the lock
  every ledger write for it takes first; `balance_fen` (what is owed to it) is the sum of its
  CommissionEntry rows, kept in step in the same transaction (brokerage_reconcile checks).
- A PromoterBinding says that a member was brought by a promoter, from `bound_at` until `ends_at`
  (null: for good). A member has at most one live binding (the service locks the member's row).
- CommissionEntry is append-only for money: its amount and business key never change. Two one-way
  stamps follow it: `released_at` (the return window closed) and `statement` (frozen into a monthly
  statement). A payout is an entry too (negative), so the balance is what is still owed.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from yunying.commerce.models import Order, OrderLine
from yunying.members.models import Member

MAX_LEVELS = 2  # one level by default, two when configured, never more (issue 11)


class PromoterState(models.TextChoices):
    APPLIED = "applied", _("Applied")  # a member asked in H5; an operator approves or refuses
    ACTIVE = "active", _("Active")
    REFUSED = "refused", _("Refused")
    SUSPENDED = "suspended", _("Suspended")  # brings no new members and earns on no new orders


class Promoter(models.Model):
    member = models.OneToOneField(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="promoter"
    )
    partner_name = models.CharField(max_length=80, blank=True)  # an outside partner without an account
    code = models.CharField(max_length=16, unique=True)
    state = models.CharField(max_length=10, choices=PromoterState.choices, default=PromoterState.ACTIVE)
    # The promoter's own promoter (level 2): whoever had brought this promoter's member when it
    # became a promoter, or an operator's choice for a partner. Never a loop (the service checks).
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    balance_fen = models.BigIntegerField(default=0)  # the sum of its entries: owed to it
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(member__isnull=False) | ~models.Q(partner_name=""),
                name="promoter_member_or_partner",
            ),
        ]

    def __str__(self) -> str:
        return f"Promoter {self.code}"


class PromoterBinding(models.Model):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="promoter_bindings")
    promoter = models.ForeignKey(Promoter, on_delete=models.PROTECT, related_name="bindings")
    source = models.CharField(max_length=10)  # link | code | api | console
    bound_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)  # null: for good (first binding wins)

    class Meta:
        indexes = [
            models.Index(fields=["member", "-bound_at"]),
            models.Index(fields=["promoter", "bound_at"]),
        ]


class CommissionRule(models.Model):
    """Per order-line category ("*": any category without its own rule), in permille of paid_fen."""

    DEFAULT_CATEGORY = "*"

    category = models.CharField(max_length=64, unique=True)
    level1_permille = models.PositiveIntegerField(default=0)
    level2_permille = models.PositiveIntegerField(default=0)  # paid only when two levels are configured
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level1_permille__lte=1000)
                & models.Q(level2_permille__lte=1000)
                & models.Q(level1_permille__gte=0)
                & models.Q(level2_permille__gte=0),
                name="commission_rule_permille_range",
            )
        ]


class BrokerageConfig(models.Model):
    """One row (pk=1): the programme's settings an operator changes in the console."""

    levels = models.PositiveSmallIntegerField(default=1)
    binding_days = models.PositiveIntegerField(default=0)  # 0: the first binding is for good
    applications_open = models.BooleanField(default=True)  # members may apply in H5
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(levels__gte=1) & models.Q(levels__lte=MAX_LEVELS),
                name="brokerage_levels_range",
            )
        ]


class EntryKind(models.TextChoices):
    EARN = "earn", _("Commission")
    REVERSE = "reverse", _("Taken back")  # a refund or a cancellation
    ADJUST = "adjust", _("Adjusted")  # rounding back up after a refund elsewhere in the order
    PAYOUT = "payout", _("Paid out")


class StatementState(models.TextChoices):
    OPEN = "open", _("To be paid")
    PAID = "paid", _("Paid")


class Statement(models.Model):
    promoter = models.ForeignKey(Promoter, on_delete=models.PROTECT, related_name="statements")
    month = models.DateField()  # the first day of the month (Asia/Shanghai) it closes
    total_fen = models.BigIntegerField()
    entries_count = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=6, choices=StatementState.choices, default=StatementState.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_reference = models.CharField(max_length=80, blank=True)
    paid_by = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["promoter", "month"], name="statement_one_per_month"),
            models.CheckConstraint(condition=models.Q(total_fen__gt=0), name="statement_total_positive"),
        ]
        indexes = [models.Index(fields=["state", "month"])]


class CommissionEntry(models.Model):
    promoter = models.ForeignKey(Promoter, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=8, choices=EntryKind.choices)
    business_key = models.CharField(max_length=80, unique=True)
    amount_fen = models.BigIntegerField()  # signed
    level = models.PositiveSmallIntegerField(default=0)  # 1 or 2; 0 for a payout
    order = models.ForeignKey(Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    buyer = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    permille = models.PositiveIntegerField(default=0)  # the rule when earned, kept with every entry
    base_fen = models.BigIntegerField(default=0)  # the line's non-refunded part the amount follows
    created_at = models.DateTimeField()
    releases_at = models.DateTimeField()  # when the order's return window closes
    released_at = models.DateTimeField(null=True, blank=True)
    statement = models.ForeignKey(
        Statement, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )

    class Meta:
        constraints = [
            # Never pays a line twice: one earning per line and level (the key says so too).
            models.UniqueConstraint(
                fields=["line", "level"],
                condition=models.Q(kind="earn"),
                name="commission_one_earn_per_line_level",
            ),
            models.CheckConstraint(condition=models.Q(level__lte=MAX_LEVELS), name="commission_level_range"),
        ]
        indexes = [
            models.Index(fields=["promoter", "created_at"]),
            models.Index(fields=["released_at", "releases_at"]),
            models.Index(fields=["line", "level"]),
        ]
