"""Incentives (L3): daily check-in, task lists, referral rewards. Only loyalty.checkin, loyalty.tasks
and loyalty.referrals write these tables; points they pay go through loyalty.ledger, each posting
under a business key that names the fact once (a check-in day, a task, a referral)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from yunying.members.models import Member


class MissedDayPolicy(models.TextChoices):
    RESET = "reset", _("A missed day starts the streak again at day 1")
    GRACE = "grace", _("Keep the streak over a few missed days (grace days)")


class CheckinRule(models.Model):
    """The operator's check-in configuration; the newest row is in force (a history of edits)."""

    # Points for day 1..N of a streak: [5, 5, 5, 5, 5, 5, 30] gives a day-7 bonus.
    rewards = models.JSONField(default=list)
    missed_policy = models.CharField(
        max_length=10, choices=MissedDayPolicy.choices, default=MissedDayPolicy.RESET
    )
    grace_days = models.PositiveSmallIntegerField(default=0)  # missed days a streak survives (GRACE)
    # After this many days the streak restarts at day 1 (0: the length of `rewards`).
    cycle_days = models.PositiveSmallIntegerField(default=0)
    points_expire_days = models.PositiveIntegerField(default=365)  # 0: never
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)


class Checkin(models.Model):
    """One member's check-in on one calendar day of settings.TIME_ZONE (members have no zone of
    their own), with the streak day it counted as and the points it paid."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="checkins")
    day = models.DateField()
    streak = models.PositiveIntegerField()  # consecutive days so far, counting this one
    cycle_day = models.PositiveIntegerField()  # 1..cycle length: which reward it got
    points = models.PositiveIntegerField(default=0)
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "day"], name="checkin_once_a_day")]
        indexes = [models.Index(fields=["member", "-day"])]


class TaskKind(models.TextChoices):
    PROFILE_COMPLETED = "profile_completed", _("Complete your profile")
    FIRST_SIGNUP = "first_signup", _("Sign up for a first event")
    FIRST_ATTENDANCE = "first_attendance", _("Attend a first event")
    FIRST_ORDER = "first_order", _("Place a first order")
    INVITED_FRIEND = "invited_friend", _("Invite a friend")
    CHECKINS = "checkins", _("Check in a number of days")


class RewardKind(models.TextChoices):
    POINTS = "points", _("Points")
    # COUPON arrives with the promotions issue: a coupon template id in reward_ref.


class TaskList(models.Model):
    """An operator's task list: complete `required` of its tasks to unlock the list's reward."""

    name = models.CharField(max_length=80)
    description = models.CharField(max_length=200, blank=True)
    required = models.PositiveSmallIntegerField(default=0)  # 0: every task
    reward_kind = models.CharField(max_length=10, choices=RewardKind.choices, default=RewardKind.POINTS)
    reward_points = models.PositiveIntegerField(default=0)
    reward_ref = models.CharField(max_length=64, blank=True)  # e.g. a coupon template, later
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def required_count(self) -> int:
        count = self.tasks.count()
        return min(self.required, count) if self.required else count


class Task(models.Model):
    task_list = models.ForeignKey(TaskList, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=20, choices=TaskKind.choices)
    target = models.PositiveIntegerField(default=1)  # CHECKINS: how many days
    points = models.PositiveIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class TaskCompletion(models.Model):
    """A member completed a task; once (unique), whatever replays."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="task_completions")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="completions")
    source_key = models.CharField(max_length=120)  # the activity that completed it
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "task"], name="task_completed_once")]


class TaskListReward(models.Model):
    """A member unlocked a task list's reward; once."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="task_list_rewards")
    task_list = models.ForeignKey(TaskList, on_delete=models.CASCADE, related_name="rewards")
    reward_kind = models.CharField(max_length=10, choices=RewardKind.choices)
    points = models.PositiveIntegerField(default=0)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "task_list"], name="task_list_rewarded_once")
        ]


class ReferralRule(models.Model):
    """Referral rewards in force: the newest row."""

    inviter_points = models.PositiveIntegerField(default=0)
    invitee_points = models.PositiveIntegerField(default=0)  # a welcome reward for the friend
    monthly_cap = models.PositiveIntegerField(default=20)  # paid referrals per inviter per month
    return_window_days = models.PositiveIntegerField(default=7)  # the first order must survive this
    # Invitees sharing one device/network signal before the next goes to review.
    same_signal_limit = models.PositiveIntegerField(default=2)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)


class ReferralStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for the friend's first order")
    ORDERED = "ordered", _("First order placed, return window open")
    REVIEW = "review", _("Held for review")
    PAID = "paid", _("Rewarded")
    REJECTED = "rejected", _("Rejected")
    VOID = "void", _("First order refunded or cancelled")
    CAPPED = "capped", _("Over the monthly limit")


class Referral(models.Model):
    """An invitee and who invited them; the inviter's reward follows the invitee's first order."""

    inviter = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="referrals_made")
    invitee = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="referral")
    status = models.CharField(max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.WAITING)
    signal_hash = models.CharField(max_length=40, blank=True)  # the invitee's sign-in address hash
    order_id = models.BigIntegerField(null=True, blank=True)  # the invitee's first order
    order_paid_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.CharField(max_length=40, blank=True)
    inviter_points = models.PositiveIntegerField(default=0)
    invitee_points = models.PositiveIntegerField(default=0)
    decided_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "order_paid_at"]),
            models.Index(fields=["inviter", "settled_at"]),
        ]
