"""Risk control's tables. Personal values never appear here: keys are keyed hashes (signals.keyed_hash),
list entries keep a hash and a masked hint, decisions keep classes, counts and rule names."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    LIVE = "live", _("Live")
    SHADOW = "shadow", _("Shadow")
    RETIRED = "retired", _("Retired")


class RuleVersion(models.Model):
    """One version of the rule set. Exactly one is live; at most one runs in shadow beside it."""

    number = models.PositiveIntegerField(unique=True)
    rules = models.JSONField()
    state = models.CharField(max_length=10, choices=RuleState.choices, default=RuleState.DRAFT)
    author = models.CharField(max_length=150)
    reason = models.CharField(max_length=500)
    based_on = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["state"], condition=models.Q(state="live"), name="risk_one_live_rules"),
            models.UniqueConstraint(fields=["state"], condition=models.Q(state="shadow"), name="risk_one_shadow_rules"),
        ]  # fmt: skip


class ListKind(models.TextChoices):
    PHONE = "phone", _("Phone number")
    DEVICE = "device", _("Device")
    IP = "ip", _("IP address or range")
    IDENTITY = "identity", _("Identity number")


class ListVerdict(models.TextChoices):
    ALLOW = "allow", _("Allow list")
    BLOCK = "block", _("Block list")


class ListEntry(models.Model):
    kind = models.CharField(max_length=10, choices=ListKind.choices)
    # A keyed hash (phone, device, identity, single IP) or a CIDR (an IP range: not personal data).
    value = models.CharField(max_length=64)
    verdict = models.CharField(max_length=5, choices=ListVerdict.choices)
    hint = models.CharField(max_length=64, blank=True)  # masked: 138****5678, a device id's first characters
    note = models.CharField(max_length=500)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="risk_list_one_entry")]


class Hit(models.Model):
    """One event seen under one key: the velocity counters count these (the embedded default; with
    REDIS_URL they live in Redis sorted sets instead). Pruned after a day."""

    key = models.CharField(max_length=48)
    entry = models.CharField(max_length=20)
    member_ref = models.CharField(max_length=64, blank=True)
    campaign_ref = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["key", "at"], name="risk_hit_key_at"), models.Index(fields=["at"], name="risk_hit_at")]  # fmt: skip


class Component(models.Model):
    """A connected group of members who share a device, payer, address, identity or an invite edge."""

    members = models.PositiveIntegerField(default=0)
    small_first_orders = models.PositiveIntegerField(default=0)


class Node(models.Model):
    """A member ("m:<ref>") or a shared attribute ("device:<hash>") in the shared-attribute graph."""

    key = models.CharField(max_length=80, unique=True)
    component = models.ForeignKey(Component, on_delete=models.PROTECT, related_name="nodes")
    first_seen_at = models.DateTimeField()
    first_order_fen = models.BigIntegerField(null=True, blank=True)  # members only

    class Meta:
        indexes = [models.Index(fields=["component"], name="risk_node_component")]


class Invite(models.Model):
    invitee = models.CharField(max_length=64, unique=True)
    inviter = models.CharField(max_length=64, db_index=True)


class Decision(models.Model):
    entry = models.CharField(max_length=20)
    subject_type = models.CharField(max_length=10)
    subject_ref = models.CharField(max_length=64)
    member_ref = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField()
    score = models.PositiveSmallIntegerField()
    action = models.CharField(max_length=10)
    reasons = models.JSONField(default=list)
    signals = models.JSONField(default=dict)
    rule_version = models.PositiveIntegerField(null=True, blank=True)
    shadow = models.BooleanField(default=False)  # a shadow version's would-be decision: never acted on
    label = models.CharField(max_length=6, blank=True)  # fraud | honest, from a review
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["at"], name="risk_decision_at"),
            models.Index(fields=["subject_type", "subject_ref"], name="risk_decision_subject"),
            models.Index(fields=["member_ref", "at"], name="risk_decision_member"),
            models.Index(fields=["entry", "action", "at"], name="risk_decision_entry"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__lte=100), name="risk_decision_score_range"),
            models.CheckConstraint(condition=models.Q(action__in=["allow", "challenge", "review", "block"]), name="risk_decision_action"),
        ]  # fmt: skip


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Waiting for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Case(models.Model):
    """A decision a person looks at: the engine asked for review, or the member asked for a human
    review of an automated decision (PIPL Art. 24)."""

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="case")
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    asked_by_member = models.BooleanField(default=False)
    member_note = models.CharField(max_length=500, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    outcome = models.CharField(max_length=200, blank=True)  # what approving or rejecting did to the subject
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="risk_case_status")]


class Challenge(models.Model):
    """Extra verification asked of a caller; passing it lets the same attempt through once."""

    token = models.CharField(max_length=32, unique=True)
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="challenges")
    entry = models.CharField(max_length=20)
    member_ref = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField()
    passed_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Every allowed event asks whether its member has a challenge pending at its entry point.
        indexes = [models.Index(fields=["member_ref", "entry"], name="risk_challenge_member")]


class RegisterStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MITIGATED = "mitigated", _("Mitigated")
    CLOSED = "closed", _("Closed")


class RegisterItem(models.Model):
    """The risk register (R5): a risk the operations team tracks, on a probability × impact matrix."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    probability = models.PositiveSmallIntegerField()  # 1 (rare) .. 5 (almost certain)
    impact = models.PositiveSmallIntegerField()  # 1 (negligible) .. 5 (severe)
    owner = models.CharField(max_length=150)
    response_plan = models.TextField()
    status = models.CharField(max_length=10, choices=RegisterStatus.choices, default=RegisterStatus.OPEN)
    review_on = models.DateField(null=True, blank=True)
    updated_by = models.CharField(max_length=150)
    updated_at = models.DateTimeField(auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(probability__gte=1, probability__lte=5), name="risk_register_probability"),
            models.CheckConstraint(condition=models.Q(impact__gte=1, impact__lte=5), name="risk_register_impact"),
        ]  # fmt: skip


class EarlyWarning(models.Model):
    """One early-warning alert (docs/risk.md "Early warning"): a code, a scope (campaign and channel,
    entry point, category) and the window it fired for. Unique, so two workers or a second pass over
    the same window raise it once; the core Alert row and the outbox message are written with it."""

    code = models.CharField(max_length=40)
    scope = models.CharField(max_length=160)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    data = models.JSONField(default=dict)  # counts, median, threshold: never personal data
    alert_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["code", "scope", "window_end"], name="risk_warning_once")
        ]


class MoneyFact(models.Model):
    """An order fact risk counts for payment and refund anomalies (from commerce.events: risk never
    reads commerce's tables). Amounts and times only; the order id makes a replay a no-op."""

    kind = models.CharField(max_length=10)  # recorded | refunded | cancelled
    order_id = models.BigIntegerField()
    event_id = models.BigIntegerField(default=0)  # the refund's or cancellation's OrderEvent; 0 for recorded
    amount_fen = models.BigIntegerField()
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["at"], name="risk_moneyfact_at")]
        constraints = [models.UniqueConstraint(fields=["kind", "order_id", "event_id"], name="risk_moneyfact_once")]  # fmt: skip


class ComplaintCategory(models.TextChoices):
    FRAUD = "fraud", _("Fraud or scam")
    PAYMENT = "payment", _("Payment problem")
    DELIVERY = "delivery", _("Delivery problem")
    PROMOTION = "promotion", _("Promotion not honoured")
    ACCOUNT = "account", _("Account misuse")
    HARASSMENT = "harassment", _("Unwanted messages")
    OTHER = "other", _("Other")


class Complaint(models.Model):
    """A customer complaint reported by customer service tools (POST /api/v1/risk/complaints); counted
    for complaint spikes. The note is free text from an agent: it is never put into an alert."""

    subject_ref = models.CharField(max_length=64, blank=True)  # what it is about: an order or sign-up ref
    member_ref = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=20, blank=True)
    category = models.CharField(max_length=12, choices=ComplaintCategory.choices)
    at = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)
    reported_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["at"], name="risk_complaint_at")]
