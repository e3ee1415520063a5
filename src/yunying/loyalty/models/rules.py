"""The points rules an operator edits (L2 earning, L3 new-member points and birthday month).

Versions, never edits: saving the rules appends a row with the next `version`, and the latest row is
the rules in force (loyalty.rules.points_rules_current). The older rows stay as the history of what
applied when, next to the audit row (before/after) each save writes. Only loyalty.rules writes here.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ExpiryPolicy(models.TextChoices):
    # The common Chinese rule (Tmall, JD and most brand programmes): points earned in a year are
    # good until 31 December of the following year, so they all expire together at a year's end.
    YEAR_END = "year_end", _("At the end of the Nth calendar year after earning")
    DAYS = "days", _("N days after earning")
    NEVER = "never", _("Never")


class PointsRules(models.Model):
    version = models.PositiveIntegerField(unique=True)
    # Orders: `points_per_unit` points for every `unit_fen` fen paid, per order line, rounded down.
    points_per_unit = models.PositiveIntegerField(default=1)
    unit_fen = models.PositiveIntegerField(default=100)
    return_window_days = models.PositiveIntegerField(default=7)  # order points pending until it closes
    expiry_policy = models.CharField(
        max_length=10, choices=ExpiryPolicy.choices, default=ExpiryPolicy.YEAR_END
    )
    expiry_days = models.PositiveIntegerField(default=365)  # DAYS
    expiry_years = models.PositiveIntegerField(default=1)  # YEAR_END: 0 = this year's end, 1 = next year's
    signup_points = models.PositiveIntegerField(default=0)  # a confirmed campaign sign-up
    attendance_points = models.PositiveIntegerField(default=0)  # checked in at the event
    welcome_points = models.PositiveIntegerField(default=0)  # a new member
    birthday_permille = models.PositiveIntegerField(default=1000)  # order points in the birthday month
    # History: orders paid before this instant earn nothing (the rules did not exist then), and
    # orders imported from files (commerce source "import") earn nothing unless `import_earns`.
    orders_paid_from = models.DateTimeField()
    import_earns = models.BooleanField(default=False)
    note = models.CharField(max_length=500, blank=True)  # why this version (the operator's reason)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(unit_fen__gte=1), name="points_rules_unit_positive"),
            models.CheckConstraint(
                condition=models.Q(birthday_permille__gte=1000) & models.Q(birthday_permille__lte=10000),
                name="points_rules_birthday_within_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Points rules v{self.version}"
