"""Promotions, coupons, budgets and redemptions (P1, P2, P7, P8). Only promotions' services write them.

- A Promotion is what an operator plans: an automatic offer (limited-time price, member price, 满减,
  满折, N件M折, gift with purchase) or a coupon template (the coupon kinds). Its terms are the pure
  engine's (promotions.engine), checked by promotions.terms before they are saved.
- A Coupon is one member's copy of a coupon template, with its own validity window.
- Redemption rows are the ledger of what orders took: written in the order's transaction by
  conditional updates (`used_count < use_limit`, `spent_fen + amount <= cap`), given back by refunds.
- A Budget caps what promotions may give away, per promotion, campaign or channel; BudgetEntry is
  its append-only ledger (spend, release, top-up) and spent_fen its running sum, kept in step.
Money is integer fen."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from yunying.commerce.models import Order
from yunying.members.models import Member


class PromotionKind(models.TextChoices):
    # Automatic offers (the engine's ITEM and SHOP layers)
    SPECIAL_PRICE = "special_price", _("Limited-time price")
    MEMBER_PRICE = "member_price", _("Member price")
    SPEND_OFF = "spend_off", _("Spend and save")
    SPEND_PERCENT = "spend_percent", _("Spend and get a discount")
    ITEMS_PERCENT = "items_percent", _("Buy N, get a discount")
    GIFT = "gift", _("Gift with purchase")
    # Coupon templates (the engine's coupon layers)
    COUPON_OFF = "coupon_off", _("Money-off coupon")
    COUPON_PERCENT = "coupon_percent", _("Discount coupon")
    COUPON_SHIPPING = "coupon_shipping", _("Free-shipping coupon")
    COUPON_GIFT = "coupon_gift", _("Gift coupon")


COUPON_KINDS = frozenset(
    {
        PromotionKind.COUPON_OFF,
        PromotionKind.COUPON_PERCENT,
        PromotionKind.COUPON_SHIPPING,
        PromotionKind.COUPON_GIFT,
    }
)


class PromotionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")


class CouponIssuer(models.TextChoices):
    SHOP = "shop", _("Shop coupon")
    PLATFORM = "platform", _("Platform coupon")


class IssueEvent(models.TextChoices):
    """Events on which a coupon template hands a coupon to the member, once per member and event."""

    REGISTRATION = "registration", _("New member registers")
    FIRST_ORDER = "first_order", _("First order")
    SIGNUP = "signup", _("Campaign sign-up confirmed")
    TIER_UPGRADE = "tier_upgrade", _("Tier upgrade")


class Promotion(models.Model):
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=PromotionKind.choices)
    state = models.CharField(max_length=10, choices=PromotionState.choices, default=PromotionState.DRAFT)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)  # None: until stopped
    # {skus: [...], categories: [...], exclude_skus: [...], exclude_categories: [...]}; empty: everything
    scope = models.JSONField(default=dict, blank=True)
    # The engine's terms for the kind (promotions.terms): price_fen, permille, steps, repeat,
    # threshold_fen, off_fen, cap_fen, gift_sku, gift_quantity, min_tier_rank.
    terms = models.JSONField(default=dict, blank=True)
    channels = models.JSONField(default=list, blank=True)  # empty: every channel
    priority = models.IntegerField(default=0)  # higher first among offers of one layer
    exclusive = models.BooleanField(default=False)  # 不与其他优惠同享
    not_with = models.JSONField(default=list, blank=True)  # engine layers (1-4) it doesn't combine with
    campaign_id = models.BigIntegerField(null=True, blank=True)  # the campaign it belongs to, for budgets
    use_limit = models.PositiveIntegerField(null=True, blank=True)  # orders it may apply to in all
    used_count = models.PositiveIntegerField(default=0)
    # Coupon templates only
    issuer = models.CharField(max_length=10, choices=CouponIssuer.choices, default=CouponIssuer.SHOP)
    claimable = models.BooleanField(default=False)  # members may claim it in the coupon centre
    issue_limit = models.PositiveIntegerField(null=True, blank=True)  # coupons it may hand out in all
    issued_count = models.PositiveIntegerField(default=0)
    per_member_limit = models.PositiveIntegerField(default=1)  # coupons one member may ever hold
    valid_days = models.PositiveIntegerField(null=True, blank=True)  # N days from issue; else the window
    coupon_valid_from = models.DateTimeField(null=True, blank=True)
    coupon_valid_until = models.DateTimeField(null=True, blank=True)
    issue_on = models.JSONField(default=list, blank=True)  # IssueEvent values
    points_price = models.PositiveIntegerField(null=True, blank=True)  # points for one coupon, if on sale
    version = models.PositiveIntegerField(default=1)
    created_by = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["state", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(use_limit__isnull=True) | Q(used_count__lte=F("use_limit")),
                name="promotion_used_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(issue_limit__isnull=True) | Q(issued_count__lte=F("issue_limit")),
                name="promotion_issued_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_coupon(self) -> bool:
        return self.kind in COUPON_KINDS


class CouponState(models.TextChoices):
    AVAILABLE = "available", _("Available")
    USED = "used", _("Used")
    EXPIRED = "expired", _("Expired")
    VOID = "void", _("Withdrawn")


class CouponSource(models.TextChoices):
    CLAIM = "claim", _("Claimed")
    ISSUE = "issue", _("Issued by an operator")
    EVENT = "event", _("Issued on an event")
    CODE = "code", _("Redeemed a code")
    POINTS = "points", _("Exchanged for points")


class Coupon(models.Model):
    promotion = models.ForeignKey(Promotion, on_delete=models.PROTECT, related_name="coupons")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="coupons")
    state = models.CharField(max_length=10, choices=CouponState.choices, default=CouponState.AVAILABLE)
    source = models.CharField(max_length=10, choices=CouponSource.choices)
    # What issued it, unique per template and member when set: an event ("registration"), an
    # operator's batch ("batch:12"), a points exchange key — the same issue twice gives one coupon.
    source_ref = models.CharField(max_length=100, blank=True)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)  # None: no end
    issued_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["member", "state", "valid_until"])]
        constraints = [
            models.UniqueConstraint(
                fields=["promotion", "member", "source_ref"],
                condition=~Q(source_ref=""),
                name="coupon_issue_once",
            ),
            models.CheckConstraint(
                condition=Q(state="used", order__isnull=False) | ~Q(state="used"),
                name="coupon_used_has_order",
            ),
        ]


class CodeBatch(models.Model):
    """Codes a member types in to get a coupon (printed, sent by partners, or imported)."""

    promotion = models.ForeignKey(Promotion, on_delete=models.PROTECT, related_name="code_batches")
    name = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    imported = models.BooleanField(default=False)
    created_by = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class CouponCode(models.Model):
    batch = models.ForeignKey(CodeBatch, on_delete=models.PROTECT, related_name="codes")
    code = models.CharField(max_length=32, unique=True)  # upper-case, unguessable (secrets), or imported
    coupon = models.OneToOneField(Coupon, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    redeemed_at = models.DateTimeField(null=True, blank=True)


class BudgetScope(models.TextChoices):
    PROMOTION = "promotion", _("Promotion")
    CAMPAIGN = "campaign", _("Campaign")
    CHANNEL = "channel", _("Channel")


class Budget(models.Model):
    """A cap on what promotions give away. spent_fen never passes base + approved top-ups (a CHECK,
    and the conditional update that charges it)."""

    scope = models.CharField(max_length=10, choices=BudgetScope.choices)
    promotion = models.OneToOneField(
        Promotion, on_delete=models.PROTECT, null=True, blank=True, related_name="budget"
    )
    campaign_id = models.BigIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=20, blank=True)
    name = models.CharField(max_length=100, blank=True)
    base_fen = models.BigIntegerField()
    topup_fen = models.BigIntegerField(default=0)  # approved top-ups
    spent_fen = models.BigIntegerField(default=0)
    alerted_80_at = models.DateTimeField(null=True, blank=True)
    alerted_100_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(spent_fen__gte=0)
                & Q(base_fen__gte=0)
                & Q(topup_fen__gte=0)
                & Q(spent_fen__lte=F("base_fen") + F("topup_fen")),
                name="budget_spent_within_cap",
            ),
            models.UniqueConstraint(
                fields=["campaign_id"], condition=Q(scope="campaign"), name="budget_one_per_campaign"
            ),
            models.UniqueConstraint(
                fields=["channel"], condition=Q(scope="channel"), name="budget_one_per_channel"
            ),
        ]

    @property
    def cap_fen(self) -> int:
        return self.base_fen + self.topup_fen

    @property
    def left_fen(self) -> int:
        return self.cap_fen - self.spent_fen

    @property
    def key(self) -> str:
        """The engine's budget key (Offer.budget_keys)."""
        if self.scope == BudgetScope.PROMOTION:
            return f"promotion:{self.promotion_id}"
        if self.scope == BudgetScope.CAMPAIGN:
            return f"campaign:{self.campaign_id}"
        return f"channel:{self.channel}"


class TopUpState(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class BudgetTopUp(models.Model):
    """A dynamic top-up of a budget: asked by one operator, approved by another."""

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="topups")
    amount_fen = models.BigIntegerField()
    reason = models.CharField(max_length=200)
    state = models.CharField(max_length=10, choices=TopUpState.choices, default=TopUpState.PENDING)
    requested_by = models.CharField(max_length=80)
    requested_by_id = models.BigIntegerField(null=True, blank=True)
    decided_by = models.CharField(max_length=80, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="topup_positive")]


class Redemption(models.Model):
    """What one promotion or coupon took off one order; released_fen is what refunds gave back."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="redemptions")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    promotion = models.ForeignKey(Promotion, on_delete=models.PROTECT, related_name="redemptions")
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    offer_key = models.CharField(max_length=20)  # the engine's key: "p12", "c345"
    amount_fen = models.BigIntegerField()  # off the lines
    shipping_fen = models.BigIntegerField(default=0)  # off shipping
    released_fen = models.BigIntegerField(default=0)
    channel = models.CharField(max_length=20, blank=True)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    gift_sku = models.CharField(max_length=64, blank=True)
    gift_quantity = models.PositiveIntegerField(default=0)
    redeemed_at = models.DateTimeField()
    returned = models.BooleanField(default=False)  # the use (and the coupon) given back: full refund

    class Meta:
        indexes = [models.Index(fields=["promotion", "redeemed_at"]), models.Index(fields=["channel"])]
        constraints = [
            models.UniqueConstraint(fields=["order", "offer_key"], name="redemption_once_per_order"),
            models.CheckConstraint(
                condition=Q(released_fen__gte=0) & Q(released_fen__lte=F("amount_fen") + F("shipping_fen")),
                name="redemption_release_within_amount",
            ),
        ]

    @property
    def cost_fen(self) -> int:
        return self.amount_fen + self.shipping_fen - self.released_fen


class RedemptionLine(models.Model):
    redemption = models.ForeignKey(Redemption, on_delete=models.PROTECT, related_name="lines")
    line_no = models.PositiveIntegerField()
    discount_fen = models.BigIntegerField()
    released_fen = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(released_fen__gte=0) & Q(released_fen__lte=F("discount_fen")),
                name="redemption_line_release_within",
            )
        ]


class BudgetEntryKind(models.TextChoices):
    SPEND = "spend", _("Spend")
    RELEASE = "release", _("Given back")
    TOPUP = "topup", _("Top-up")


class BudgetEntry(models.Model):
    """Append-only: every change of a budget's spend or cap. spent_fen = spends − releases."""

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10, choices=BudgetEntryKind.choices)
    amount_fen = models.BigIntegerField()
    redemption = models.ForeignKey(
        Redemption, on_delete=models.PROTECT, null=True, blank=True, related_name="budget_entries"
    )
    topup = models.ForeignKey(BudgetTopUp, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["budget", "created_at"])]
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="budget_entry_positive")]


class QuoteUse(models.Model):
    """A quote redeemed by an order: one order per quote (its token's digest is unique)."""

    digest = models.CharField(max_length=64, unique=True)  # sha256 of the token
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="+")
    used_at = models.DateTimeField(auto_now_add=True)
