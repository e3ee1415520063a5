import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from yunying.members.models import Member


class CampaignType(models.TextChoices):
    PROMOTION = "promotion", _("Promotion")
    PRODUCT_LAUNCH = "product_launch", _("Product launch")
    BRAND_EVENT = "brand_event", _("Brand event")
    OFFLINE_EVENT = "offline_event", _("Offline event")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CLOSED = "closed", _("Sign-up closed")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")


class ReviewMode(models.TextChoices):
    AUTO = "auto", _("Automatic")
    MANUAL = "manual", _("Manual review")


class AdmissionMode(models.TextChoices):
    FIRST_COME = "first_come", _("First come, first served")
    LOTTERY = "lottery", _("Lottery")


class Channel(models.TextChoices):
    WEB = "web", _("Website")
    H5 = "h5", _("H5")
    APP = "app", _("App")
    MINI_PROGRAM = "mini_program", _("Mini program")
    SOCIAL = "social", _("Social media")
    SMS = "sms", _("SMS link")
    EMAIL = "email", _("E-mail")
    OFFLINE = "offline", _("Offline")


class Campaign(models.Model):
    """A campaign members sign up for (C1). Only campaigns.services writes it.

    `seats_taken` is the capacity counter: the number of confirmed sign-ups, changed only by one
    conditional UPDATE per admission so it can never pass `capacity`."""

    title = models.CharField(max_length=200)
    theme = models.CharField(max_length=200, blank=True)
    type = models.CharField(max_length=20, choices=CampaignType.choices)
    description = models.TextField(blank=True)
    rules_text = models.TextField(blank=True)
    reward_description = models.TextField(blank=True)
    signup_start_at = models.DateTimeField()
    signup_end_at = models.DateTimeField()
    event_start_at = models.DateTimeField()
    event_end_at = models.DateTimeField()
    capacity = models.PositiveIntegerField()
    seats_taken = models.PositiveIntegerField(default=0)
    waitlist_enabled = models.BooleanField(default=False)
    review_mode = models.CharField(max_length=10, choices=ReviewMode.choices, default=ReviewMode.AUTO)
    admission_mode = models.CharField(
        max_length=12, choices=AdmissionMode.choices, default=AdmissionMode.FIRST_COME
    )
    eligibility = models.JSONField(default=dict, blank=True)
    form = models.JSONField(default=list, blank=True)
    channels = models.JSONField(default=list, blank=True)
    notify_channels = models.JSONField(default=list, blank=True)
    reminder_hours_before = models.PositiveIntegerField(default=24)
    status = models.CharField(max_length=12, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    status_reason = models.CharField(max_length=500, blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # A lottery's seed is chosen when the campaign is published, kept sealed (encrypted) until the
    # draw reveals it, and its SHA-256 is public from the start: nobody can pick a seed that favours
    # an entrant once the entrants are known (P6, services.lottery).
    lottery_seed_sealed = models.TextField(blank=True)
    lottery_seed_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(seats_taken__lte=models.F("capacity")), name="seats_within_capacity"),
            models.CheckConstraint(condition=models.Q(signup_end_at__gt=models.F("signup_start_at")), name="signup_window_order"),
            models.CheckConstraint(condition=models.Q(event_end_at__gte=models.F("event_start_at")), name="event_window_order"),
        ]  # fmt: skip
        indexes = [models.Index(fields=["status", "signup_end_at"])]

    def __str__(self) -> str:
        return self.title


class SignupStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered for the draw")
    PENDING_REVIEW = "pending_review", _("Waiting for review")
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("On the waiting list")
    NOT_SELECTED = "not_selected", _("Not drawn")
    REJECTED = "rejected", _("Not accepted")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CANCELLED = (
        "cancelled",
        _("Campaign cancelled"),
    )  # the campaign was cancelled: final, frees nobody's seat later


# A member holds at most one sign-up per campaign in these states (C4). Withdrawn frees the member
# to sign up again; rejected and not-selected do not, so review and the draw cannot be bypassed.
# (Cancelled sign-ups belong to a campaign nobody can sign up for again.)
BLOCKING_STATUSES = [
    s for s in SignupStatus.values if s not in (SignupStatus.WITHDRAWN, SignupStatus.CANCELLED)
]
LIVE_STATUSES = [
    SignupStatus.REGISTERED,
    SignupStatus.PENDING_REVIEW,
    SignupStatus.CONFIRMED,
    SignupStatus.WAITLISTED,
]


def signup_public_id() -> str:
    """How integrators address a sign-up: 128 random bits, so no caller can guess another's sign-up
    the way it could count through sequential ids."""
    return "su_" + secrets.token_urlsafe(16)


CHECKIN_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed at a venue


def signup_checkin_code() -> str:
    """What the member's attendance QR code carries and what staff type when a camera cannot read it:
    10 random characters (50 bits), so nobody checks in by guessing another member's code."""
    return "".join(secrets.choice(CHECKIN_ALPHABET) for _ in range(10))


class Signup(models.Model):
    # The integrator's handle on the sign-up (withdraw); sequential `id` stays the operators' handle.
    public_id = models.CharField(max_length=32, unique=True, default=signup_public_id, editable=False)
    # Every index is written on every sign-up: the foreign keys lead the composite indexes below and
    # need none of their own.
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="signups", db_index=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="signups", db_index=False)
    status = models.CharField(max_length=16, choices=SignupStatus.choices)
    answers_encrypted = models.TextField(blank=True)  # the whole answer set: it may hold phone/address
    channel = models.CharField(max_length=20, choices=Channel.choices)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    # The client's address and device id are personal data (PIPL): stored only as keyed hashes
    # (equal values still match, for risk control), and cleared after CLIENT_DATA_RETENTION_DAYS.
    client_ip_hash = models.CharField(max_length=40, blank=True)
    device_id_hash = models.CharField(max_length=40, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # Milliseconds from the form's first display to its submission, as the member's page measured
    # it (a client signal for risk control: a form filled in 300 ms was not filled in by a person).
    form_fill_ms = models.PositiveIntegerField(null=True, blank=True)
    waitlist_rank = models.PositiveIntegerField(default=0)  # set by a lottery draw; first-come uses id
    status_reason = models.CharField(max_length=500, blank=True)  # member-facing: sent to the member
    status_note = models.CharField(max_length=1000, blank=True)  # internal: operators only, never sent
    checkin_code = models.CharField(max_length=12, unique=True, default=signup_checkin_code, editable=False)
    attended_at = models.DateTimeField(null=True, blank=True)  # checked in at the event (C10)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "member"],
                condition=models.Q(status__in=BLOCKING_STATUSES),
                name="signup_one_live_per_member",
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "status", "waitlist_rank", "id"]),
            models.Index(fields=["member", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"Signup #{self.pk} {self.status}"


class SignupEvent(models.Model):
    """Append-only history of every sign-up state change; counts can be rebuilt from it (C6)."""

    signup = models.ForeignKey(Signup, on_delete=models.PROTECT, related_name="events")
    # (campaign, id) below serves look-ups by campaign: no second index to write per event.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="signup_events", db_index=False
    )
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    reason = models.CharField(max_length=500, blank=True)  # member-facing
    note = models.CharField(max_length=1000, blank=True)  # internal: operators only
    actor_kind = models.CharField(max_length=20)
    actor_id = models.BigIntegerField(null=True)
    actor_label = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["campaign", "id"])]


class LotteryDraw(models.Model):
    """The record that lets anyone re-run a draw and get the same winners (P6 fairness)."""

    campaign = models.OneToOneField(Campaign, on_delete=models.PROTECT, related_name="lottery_draw")
    algorithm = models.CharField(max_length=40)
    seed = models.CharField(max_length=128)
    seed_sha256 = models.CharField(max_length=64, blank=True)  # the commitment published before; "" if none
    entrant_count = models.PositiveIntegerField()  # live entrants the draw ranked
    entrants_digest = models.CharField(max_length=64)  # SHA-256 of the sorted entrant sign-up ids
    winner_count = models.PositiveIntegerField()
    actor_label = models.CharField(max_length=150)
    drawn_at = models.DateTimeField(auto_now_add=True)


class SignupRefusal(models.Model):
    """Append-only: a sign-up attempt refused for a reason operators watch in the live monitor and
    on the dashboard — ineligible (with its reason codes), duplicate, previously refused, rate-limited.
    Written after the refused work has rolled back (campaigns.services.refusals); no personal data:
    the member may not even exist. A full or closed campaign is not recorded (the flash crowd's common
    answer; seats left tell that story)."""

    # No database foreign key: a rate-limited request may name a campaign id that does not exist,
    # and recording it must not fail; readers always filter by a campaign they loaded.
    campaign_id = models.BigIntegerField()
    code = models.CharField(max_length=64)  # the refusal's error code: "signup.ineligible", …
    reasons = models.CharField(max_length=300, blank=True)  # eligibility reason codes, comma-separated
    channel = models.CharField(max_length=20, blank=True)
    # The member refused, when known (a signed-in member on the member pages): their data centre
    # shows them the automated refusal and its reasons (PIPL art. 24). No foreign key, as campaign_id.
    member_id = models.BigIntegerField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["campaign_id", "at"]),
            models.Index(fields=["at"]),
            models.Index(fields=["member_id", "-id"], name="signup_refusal_member"),
        ]
