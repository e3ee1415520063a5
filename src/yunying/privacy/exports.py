"""Two-person rule for personal data in clear in bulk (S2).

An operator with pii.reveal_bulk asks (`approval_request`) to download one campaign's sign-ups in
clear, saying what (format, filters) and why (a purpose); a second operator with pii.export_approve
approves or rejects (`approval_decide`). Nobody approves their own request: not the same actor, and
not the same person through another API key or through the console (an API key's person is its
owner; a key without an owner neither requests nor approves: its holder could approve its request
from the console as somebody else). An approval opens one download by its requester,
of exactly its scope, within APPROVAL_HOURS (`approval_use`, a compare-and-set: two downloads at
once get one file); a "list" approval opens the API's paginated list in clear until it expires.
Every step is audited; the file names the requester and the approval (`watermark`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yunying.campaigns import selectors
from yunying.campaigns.models import Channel, SignupStatus
from yunying.core.audit import audit_record
from yunying.core.errors import DomainError
from yunying.core.people import actor_person
from yunying.core.permissions import Actor, Perm
from yunying.core.purposes import PURPOSE_LABELS, Purpose, reveal_authorize
from yunying.core.scrub import scrub_personal
from yunying.privacy.errors import ExportError
from yunying.privacy.models import ExportApproval

APPROVAL_HOURS = 24


@dataclass(frozen=True)
class Scope:
    campaign_id: int
    format: str  # csv, xlsx, list
    status: str = ""
    channel: str = ""


def person_of(actor: Actor) -> str | None:
    """Who stands behind an actor (core.apikeys.actor_person): a key's owner, not the key."""
    return actor_person(actor)


def approval_request(*, actor: Actor, scope: Scope, purpose: str, note: str = "") -> ExportApproval:
    """Raises: core.permission_denied, core.invalid (purpose), campaign.not_found, export.format_invalid,
    export.filter_invalid,
    export.requester_unidentified."""
    actor.require(Perm.SIGNUP_EXPORT)
    actor.require(Perm.PII_REVEAL_BULK)
    person = person_of(actor)
    if person is None or person.startswith("api_key:"):
        raise DomainError(ExportError.REQUESTER_UNIDENTIFIED)
    if scope.format not in ExportApproval.FORMATS:
        raise DomainError(ExportError.FORMAT_INVALID, format=scope.format)
    if scope.status not in ("", *SignupStatus.values) or scope.channel not in ("", *Channel.values):
        # such an approval could never match an export, yet a second operator would be asked
        raise DomainError(ExportError.FILTER_INVALID, status=scope.status[:20], channel=scope.channel[:20])
    campaign = selectors.campaign_get(scope.campaign_id)
    stated = str(Purpose(purpose))
    with transaction.atomic():
        approval = ExportApproval.objects.create(
            requester_kind=actor.kind, requester_id=actor.id, requester_label=actor.label,
            requester_person=person, campaign=campaign, format=scope.format,
            status_filter=scope.status, channel_filter=scope.channel, purpose=stated,
            purpose_note=scrub_personal(note.strip())[:200], requested_at=timezone.now(),
        )  # fmt: skip
        audit_record(
            actor=actor, action="export.request", object_type="export_approval", object_id=approval.pk,
            after={"campaign": campaign.pk, "format": scope.format, "status": scope.status,
                   "channel": scope.channel}, reason=stated,
        )  # fmt: skip
    return approval


def approval_get(approval_id: int) -> ExportApproval:
    approval = ExportApproval.objects.filter(pk=approval_id).select_related("campaign").first()
    if approval is None:
        raise DomainError(ExportError.APPROVAL_NOT_FOUND, id=approval_id)
    return approval


def approval_decide(*, actor: Actor, approval_id: int, approve: bool, note: str = "") -> ExportApproval:
    """Raises: core.permission_denied, export.approval_not_found, export.self_approval,
    export.approver_unidentified, export.not_pending."""
    actor.require(Perm.PII_EXPORT_APPROVE)
    with transaction.atomic():
        approval = ExportApproval.objects.select_for_update().filter(pk=approval_id).first()
        if approval is None:
            raise DomainError(ExportError.APPROVAL_NOT_FOUND, id=approval_id)
        person = person_of(actor)
        if (actor.kind, actor.id) == (approval.requester_kind, approval.requester_id) or (
            person is not None and person == approval.requester_person
        ):
            raise DomainError(ExportError.SELF_APPROVAL, id=approval_id)
        if person is None or person.startswith("api_key:"):
            raise DomainError(ExportError.APPROVER_UNIDENTIFIED, id=approval_id)
        if approval.state != ExportApproval.REQUESTED:
            raise DomainError(ExportError.NOT_PENDING, id=approval_id, state=approval.state)
        now = timezone.now()
        approval.state = ExportApproval.APPROVED if approve else ExportApproval.REJECTED
        approval.approver_kind, approval.approver_id, approval.approver_label = (
            actor.kind,
            actor.id,
            actor.label,
        )
        approval.decision_note, approval.decided_at = scrub_personal(note.strip())[:500], now
        approval.expires_at = now + timedelta(hours=APPROVAL_HOURS) if approve else None
        approval.save()
        audit_record(
            actor=actor, action="export.approve" if approve else "export.reject",
            object_type="export_approval", object_id=approval.pk,
            before={"state": ExportApproval.REQUESTED}, after={"state": approval.state}, reason=approval.decision_note,
        )  # fmt: skip
    return approval


def approval_use(*, actor: Actor, approval_id: int | None, scope: Scope) -> ExportApproval:
    """Consume an approval for one download in clear (the caller then reveals with its purpose).
    Raises: export.approval_required, export.approval_not_found, export.not_requester,
    export.not_approved, export.approval_used, export.approval_expired, export.scope_mismatch."""
    if approval_id is None:
        raise DomainError(ExportError.APPROVAL_REQUIRED)
    approval = approval_get(approval_id)
    if (approval.requester_kind, approval.requester_id) != (actor.kind, actor.id):
        raise DomainError(ExportError.NOT_REQUESTER, id=approval_id)
    wanted = Scope(approval.campaign_id, approval.format, approval.status_filter, approval.channel_filter)
    if wanted != scope:
        raise DomainError(ExportError.SCOPE_MISMATCH, id=approval_id)
    now = timezone.now()
    if (
        approval.expires_at is not None
        and approval.expires_at <= now
        and approval.state in (ExportApproval.APPROVED, ExportApproval.USED)
    ):
        ExportApproval.objects.filter(pk=approval.pk, state=ExportApproval.APPROVED).update(
            state=ExportApproval.EXPIRED
        )
        raise DomainError(ExportError.APPROVAL_EXPIRED, id=approval_id)
    if approval.state == ExportApproval.EXPIRED:
        raise DomainError(ExportError.APPROVAL_EXPIRED, id=approval_id)
    if approval.state == ExportApproval.USED and approval.format == "list":
        return approval  # the pages of one list, until the approval expires
    if approval.state == ExportApproval.USED:
        raise DomainError(ExportError.APPROVAL_USED, id=approval_id)
    if approval.state != ExportApproval.APPROVED:
        raise DomainError(ExportError.NOT_APPROVED, id=approval_id, state=approval.state)
    with transaction.atomic():
        # compare-and-set: of two downloads at once, one gets the file
        if not ExportApproval.objects.filter(pk=approval.pk, state=ExportApproval.APPROVED).update(
            state=ExportApproval.USED, used_at=now
        ):
            raise DomainError(ExportError.APPROVAL_USED, id=approval_id)
        audit_record(
            actor=actor, action="export.use", object_type="export_approval", object_id=approval.pk,
            before={"state": ExportApproval.APPROVED}, after={"state": ExportApproval.USED},
            reason=approval.purpose,
        )  # fmt: skip
    approval.state, approval.used_at = ExportApproval.USED, now
    return approval


def approved_reveal(*, actor: Actor, approval_id: int | None, scope: Scope) -> tuple[ExportApproval, str]:
    """The whole gate of a bulk reveal: the approval (consumed), then the reveal under its purpose
    (permission, alert). Returns the approval and the purpose as the access log states it."""
    actor.require(Perm.PII_REVEAL_BULK)
    approval = approval_use(actor=actor, approval_id=approval_id, scope=scope)
    purpose = reveal_authorize(
        actor, purpose=approval.purpose, note=approval.purpose_note, bulk=True,
        campaign_id=scope.campaign_id, kind="export" if scope.format != "list" else "list",
        format=scope.format, approval=approval.pk,
    )  # fmt: skip
    return approval, purpose


def _named(person: str | None, kind: str, label: str) -> str:
    """Who, as a file names them: the person, and the key they used when it was one (a key's name is
    free text its maker chose; its holder is who answers for the file)."""
    name = person.split(":", 1)[1] if person and person.startswith("user:") else label
    return _("%(person)s (API key %(key)s)") % {"person": name, "key": label} if kind == "api_key" else name


def watermark(approval: ExportApproval) -> str:
    """The line a file in clear carries: who asked, who approved (people, not keys), which approval,
    when."""
    approver = Actor(kind=approval.approver_kind, id=approval.approver_id, label=approval.approver_label)
    return _(
        "Personal data in clear, for %(purpose)s only. Exported by %(requester)s, approved by "
        "%(approver)s, approval #%(approval)s, at %(at)s. Do not forward."
    ) % {
        "purpose": PURPOSE_LABELS.get(approval.purpose, approval.purpose),
        "requester": _named(approval.requester_person, approval.requester_kind, approval.requester_label),
        "approver": _named(person_of(approver), approval.approver_kind, approval.approver_label),
        "approval": approval.pk, "at": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
    }  # fmt: skip


def approvals_expire(*, now=None) -> int:
    """Mark approvals past their time expired, so the console's lists say so before anyone tries
    (approval_use refuses them either way). A used file approval stays used: that is its record."""
    now = now or timezone.now()
    lapsed = ExportApproval.objects.filter(expires_at__lte=now).filter(
        Q(state=ExportApproval.APPROVED) | Q(state=ExportApproval.USED, format="list")
    )
    return lapsed.update(state=ExportApproval.EXPIRED)


def approvals_pending():
    return (
        ExportApproval.objects.filter(state=ExportApproval.REQUESTED)
        .select_related("campaign")
        .order_by("id")
    )


def approvals_recent():
    """Every request, newest first: the register the auditor reads (pii.export_view)."""
    return ExportApproval.objects.select_related("campaign").order_by("-id")


def approvals_of(actor: Actor):
    """What the person behind `actor` asked for, with any of their keys or in the console."""
    person = person_of(actor)
    mine = Q(requester_kind=actor.kind, requester_id=actor.id)
    if person is not None and not person.startswith("api_key:"):
        mine |= Q(requester_person=person)
    return ExportApproval.objects.filter(mine).select_related("campaign").order_by("-id")


def approval_visible(*, actor: Actor, approval_id: int) -> ExportApproval:
    """One approval for someone who asked for it (with any of their keys) or may decide it; for
    anyone else it does not exist, so ids cannot be walked to learn which are taken.

    Raises: export.approval_not_found."""
    approvals = ExportApproval.objects if actor.can(Perm.PII_EXPORT_APPROVE) else approvals_of(actor)
    approval = approvals.filter(pk=approval_id).select_related("campaign").first()
    if approval is None:
        raise DomainError(ExportError.APPROVAL_NOT_FOUND, id=approval_id)
    return approval
