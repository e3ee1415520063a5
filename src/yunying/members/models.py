import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    UNKNOWN = "unknown", _("Unknown")


# No 0/O, 1/I/L: a code read aloud or typed from a poster is not mistaken.
INVITE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
INVITE_CODE_LENGTH = 8
# An erased member's external id starts so (members.personal_data.profile_erase): no storefront id can
# take it, and the services that write to a member refuse such a row (services._member_lock_live).
ERASED_PREFIX = "erased:"


def invite_code_new() -> str:
    """A member's invite code (M4): random, so codes cannot be walked to find members."""
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def row_token_new() -> str:
    """A stable random token per row, there before the insert: what each encrypted field is bound to
    (core.crypto), so a ciphertext moved to another member's row does not decrypt."""
    return secrets.token_urlsafe(16)


class IdentityCheckResult(models.TextChoices):
    PASSED = "passed", pgettext_lazy("identity check", "Passed")
    FAILED = "failed", pgettext_lazy("identity check", "Failed")


class Member(models.Model):
    """Minimal member identity. Phone, name and e-mail are stored encrypted (core.crypto) with
    keyed blind indexes for look-up; only members.services reads or writes them."""

    external_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    phone_encrypted = models.TextField(blank=True)
    phone_index = models.CharField(max_length=40, unique=True, null=True, blank=True)
    name_encrypted = models.TextField(blank=True)
    email_encrypted = models.TextField(blank=True)
    # No name or e-mail index: nothing looks members up by them, and an unused index of personal
    # data is only something to leak. Phone (unique) is the one blind index.
    row_token = models.CharField(max_length=32, default=row_token_new, editable=False)
    gender = models.CharField(max_length=8, choices=Gender.choices, default=Gender.UNKNOWN)
    birth_date = models.DateField(null=True, blank=True)
    region_code = models.CharField(max_length=6, blank=True)
    language = models.CharField(max_length=10, default="zh-hans")
    source_channel = models.CharField(max_length=20, blank=True)
    # Where the member came from (M4), recorded once at registration and never overwritten.
    utm_source = models.CharField(max_length=64, blank=True)
    utm_medium = models.CharField(max_length=64, blank=True)
    utm_campaign = models.CharField(max_length=64, blank=True)
    invited_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="invitees"
    )
    # The member's own code for inviting others (their invite link): stable for life.
    invite_code = models.CharField(max_length=12, unique=True, default=invite_code_new, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # The real-name check (members.identity): its result and a keyed hash of the identity number,
    # never the number; only with the separate consent for sensitive information, erased when it goes.
    identity_index = models.CharField(max_length=40, blank=True)
    identity_check = models.CharField(max_length=8, choices=IdentityCheckResult.choices, blank=True)
    identity_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(phone_index__isnull=False) | models.Q(external_id__isnull=False),
                name="member_has_identity",
            )
        ]

    def __str__(self) -> str:
        return f"Member #{self.pk}"


class SigninCode(models.Model):
    """A one-time SMS sign-in code (M1). Neither the phone nor the code is stored in clear: the
    phone as a keyed blind index of its own, the code as a keyed hash bound to that phone. Only
    members.signin writes it."""

    phone_index = models.CharField(max_length=40)
    code_hash = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["phone_index", "created_at"]),
            models.Index(fields=["created_at"]),  # the day's send budget
        ]


class ConsentRecord(models.Model):
    """Append-only: a member accepted version `policy_version` of the privacy notice, with the
    optional marketing and sensitive-data choices made at that moment (M3). The latest row is the
    member's current choice; nothing updates or deletes one (members.consent only inserts)."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="consents")
    policy_version = models.CharField(max_length=20)
    marketing = models.BooleanField()
    sensitive = models.BooleanField()
    ip_hash = models.CharField(max_length=40, blank=True)  # keyed hash of the client address
    accepted_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["member", "-id"])]


class TagKind(models.TextChoices):
    MANUAL = "manual", _("Manual")
    RULE = "rule", _("Rule-based")


class Tag(models.Model):
    """A label on members. Manual tags are put on and taken off by operators; a rule-based tag's
    members are whoever its rule (an analytics segment definition) matches at its last recompute."""

    name = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=10, choices=TagKind.choices, default=TagKind.MANUAL)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class MemberTag(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="member_links")
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.CharField(max_length=80, blank=True)  # the operator's label, or "rule"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "tag"], name="member_tag_unique")]
        indexes = [models.Index(fields=["tag", "member"])]


class ConsentPurpose(models.TextChoices):
    """What a member's data may be used for (M3, N3). Service is required to be a member at all;
    the others are optional, each granted and withdrawn on its own."""

    SERVICE = "service", _("Service (required)")
    MARKETING = "marketing", _("Marketing messages and offers")
    ANALYTICS = "analytics", _("Analytics to improve our service")
    SENSITIVE = "sensitive", _("Sensitive personal information")


class ConsentEvent(models.Model):
    """Append-only (database triggers, as ConsentRecord): a member granted or withdrew one purpose
    under one policy version, when, through which channel, from which (keyed-hashed) address. The
    latest row per purpose is the member's current choice; only members.consent inserts."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="consent_events")
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    granted = models.BooleanField()
    policy_version = models.CharField(max_length=20)
    channel = models.CharField(max_length=20)  # h5, api, console, migration
    ip_hash = models.CharField(max_length=40, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["member", "purpose", "-id"]),
            models.Index(fields=["purpose", "member", "-id"]),  # marketing_allowed over a batch
        ]


class QuestionnaireMoment(models.TextChoices):
    AFTER_SIGNUP = "after_signup", _("After sign-up")
    AFTER_FIRST_ORDER = "after_first_order", _("After the first order")
    MEMBER_CENTRE = "member_centre", _("In the member centre")


class QuestionKind(models.TextChoices):
    TEXT = "text", _("Text")
    CHOICE = "choice", _("Choice")
    DATE = "date", _("Date")
    REGION = "region", _("Region")


class Questionnaire(models.Model):
    """A short set of questions an operator attaches to a moment (M2). Only members.profiling writes."""

    name = models.CharField(max_length=80)
    moment = models.CharField(max_length=20, choices=QuestionnaireMoment.choices)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    """One question: what it fills (a Member field, or a profile attribute `attr:<key>`) and the
    consent purpose that needs the answer — a question without a purpose is refused (M2)."""

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=QuestionKind.choices)
    prompt = models.CharField(max_length=200)
    choices = models.JSONField(default=list, blank=True)  # option labels, for kind=choice
    target = models.CharField(max_length=50)  # "gender", "birth_date", "region_code" or "attr:<key>"
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    why = models.CharField(max_length=200)  # shown to the member: what the answer is used for

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(purpose=""), name="question_has_purpose"),
        ]


class ProfileAnswer(models.Model):
    """A member answered (or declined) a question. An attribute answer's value is stored encrypted,
    bound to the member's row; a Member-field answer lands on the Member and keeps no copy here.
    One row per member and question: nothing is asked twice."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="profile_answers")
    question = models.ForeignKey(Question, on_delete=models.SET_NULL, null=True, related_name="answers")
    target = models.CharField(max_length=50)
    value_encrypted = models.TextField(blank=True)
    declined = models.BooleanField(default=False)
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "question"], name="profile_answer_once"),
        ]
        indexes = [models.Index(fields=["member", "target"])]
