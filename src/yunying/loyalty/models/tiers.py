"""Member tiers (L1): a programme of levels by growth value or paid amount over a rolling period,
each level with its benefits; every member's current level and the history of changes; and the
growth-value ledger (append-only, one business key per fact, like the points ledger).

Only loyalty.tiers writes these tables."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from yunying.members.models import Member


class TierBasis(models.TextChoices):
    GROWTH = "growth", _("Growth value")
    PAID = "paid", _("Amount paid")


class DowngradePolicy(models.TextChoices):
    BY_VALUE = "by_value", _("Straight to the level the current value earns")
    ONE_LEVEL = "one_level", _("One level at a time, once a cycle")
    END_OF_CYCLE = "end_of_cycle", _("At the end of the cycle, to the level the value earns")


class TierProgramme(models.Model):
    """One row (pk 1): how levels are earned and lost."""

    basis = models.CharField(max_length=10, choices=TierBasis.choices, default=TierBasis.GROWTH)
    period_days = models.PositiveIntegerField(default=365)  # the rolling window the value counts over
    downgrade_policy = models.CharField(
        max_length=15, choices=DowngradePolicy.choices, default=DowngradePolicy.END_OF_CYCLE
    )
    cycle_months = models.PositiveSmallIntegerField(default=12)  # how long a level is kept before review
    growth_per_yuan = models.PositiveIntegerField(
        default=1
    )  # growth value per ¥1 paid (rounded down per order)
    updated_at = models.DateTimeField(auto_now=True)


class TierLevel(models.Model):
    rank = models.PositiveSmallIntegerField(unique=True)  # 0 is the base level every member has
    name = models.CharField(max_length=40)
    threshold = models.BigIntegerField(default=0)  # growth value, or fen paid, over the period
    discount_permille = models.PositiveIntegerField(default=1000)  # tier price: 950 = 5 % off
    points_multiplier_permille = models.PositiveIntegerField(default=1000)  # 1500 = ×1.5 order points
    birthday_points = models.PositiveIntegerField(default=0)
    priority_service = models.BooleanField(default=False)
    exclusive_campaigns = models.BooleanField(default=False)
    benefits_text = models.CharField(max_length=200, blank=True)  # other benefits, as members read them

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(condition=models.Q(threshold__gte=0), name="tier_threshold_not_negative"),
            models.CheckConstraint(
                condition=models.Q(discount_permille__gte=1, discount_permille__lte=1000),
                name="tier_discount_within_price",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MemberTier(models.Model):
    member = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="tier")
    level = models.ForeignKey(TierLevel, on_delete=models.PROTECT, related_name="members")
    value = models.BigIntegerField(default=0)  # at the last evaluation
    since = models.DateTimeField()  # when the member reached this level
    review_at = models.DateTimeField()  # when a downgrade may next be considered (cycle policies)
    evaluated_at = models.DateTimeField()


class TierChange(models.Model):
    """Append-only history of a member's levels."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="tier_changes")
    from_level = models.ForeignKey(TierLevel, on_delete=models.PROTECT, null=True, related_name="+")
    to_level = models.ForeignKey(TierLevel, on_delete=models.PROTECT, related_name="+")
    value = models.BigIntegerField()
    why = models.CharField(max_length=20)  # upgrade | downgrade | programme
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["member", "-at"])]


class GrowthPosting(models.Model):
    """Growth value, append-only: +when an order is paid, −when it is refunded or cancelled."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="growth_postings")
    business_key = models.CharField(max_length=160, unique=True)
    points = models.BigIntegerField()
    source = models.CharField(max_length=12)  # order | task | manual
    ref = models.CharField(max_length=120, blank=True)
    at = models.DateTimeField()  # when the fact happened (the order's payment): the window counts it

    class Meta:
        indexes = [models.Index(fields=["member", "at"]), models.Index(fields=["ref"])]
