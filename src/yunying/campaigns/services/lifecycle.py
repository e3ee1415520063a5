"""Campaign planning and lifecycle (C1, C12): draft → published → closed → finished, or cancelled.

Transitions are conditional UPDATEs on the current status, so two operators acting at once cannot
both move a campaign. Once published, the rules members agreed to are locked (C12); only cosmetic
fields, more capacity and a later sign-up deadline may change, and every refused field is named.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from yunying.campaigns.eligibility import eligibility_parse, eligibility_problems
from yunying.campaigns.errors import CampaignError
from yunying.campaigns.messages import message_context
from yunying.campaigns.models import (
    LIVE_STATUSES,
    AdmissionMode,
    Campaign,
    CampaignStatus,
    Channel,
    LotteryDraw,
    Signup,
    SignupStatus,
)
from yunying.campaigns.questions import form_parse, form_problems
from yunying.campaigns.selectors import campaign_get
from yunying.campaigns.services.events import signups_end
from yunying.campaigns.services.lottery_seed import lottery_commit
from yunying.campaigns.services.notices import notices_campaign_edited
from yunying.core.audit import audit_changes, audit_record
from yunying.core.errors import CoreError, DomainError, FieldError, ValidationFailed
from yunying.core.permissions import Actor
from yunying.notify.services import outbox_add, outbox_build, outbox_cancel

S = CampaignStatus
TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.PUBLISHED, S.CANCELLED},
    S.PUBLISHED: {S.CLOSED, S.CANCELLED},
    S.CLOSED: {S.FINISHED, S.CANCELLED},
    S.FINISHED: set(),
    S.CANCELLED: set(),
}

COSMETIC_FIELDS = {"title", "theme", "description", "notify_channels", "reminder_hours_before", "channels"}
RULE_FIELDS = {
    "type", "rules_text", "reward_description", "eligibility", "form", "review_mode", "admission_mode",
    "waitlist_enabled", "signup_start_at", "event_start_at", "event_end_at", "capacity", "signup_end_at",
}  # fmt: skip
EDITABLE_FIELDS = COSMETIC_FIELDS | RULE_FIELDS
NOTIFY_CHANNELS = {"sms", "email", "push"}


def _definition_problems(values: dict[str, Any]) -> list[FieldError]:
    """Every reason a full set of campaign values cannot work, each naming its field."""
    errors: list[FieldError] = []
    invalid = CoreError.INVALID
    if not str(values.get("title") or "").strip():
        errors.append(FieldError("title", invalid, gettext("The title cannot be blank.")))
    if values["signup_end_at"] <= values["signup_start_at"]:
        errors.append(FieldError("signup_end_at", invalid, gettext("Sign-up must end after it starts.")))
    if values["signup_end_at"] > values["event_start_at"]:
        errors.append(
            FieldError("signup_end_at", invalid, gettext("Sign-up must end before the event starts."))
        )
    if values["event_end_at"] < values["event_start_at"]:
        errors.append(
            FieldError("event_end_at", invalid, gettext("The event must not end before it starts."))
        )
    if values["capacity"] < 1:
        errors.append(FieldError("capacity", invalid, gettext("Capacity must be at least 1.")))
    unknown = set(values.get("channels") or []) - set(Channel.values)
    if unknown:
        errors.append(FieldError("channels", invalid, gettext("Unknown channels: %s") % sorted(unknown)))
    unknown = set(values.get("notify_channels") or []) - NOTIFY_CHANNELS
    if unknown:
        errors.append(
            FieldError("notify_channels", invalid, gettext("Unknown channels: %s") % sorted(unknown))
        )
    questions, form_errors = form_problems(values.get("form") or [])
    rules, rule_errors = eligibility_problems(values.get("eligibility") or {})
    errors += form_errors + rule_errors
    by_key = {q.key: q for q in questions}
    for n, required in enumerate(rules.required_answers if rules else []):
        question = by_key.get(required.question)
        field = f"eligibility.required_answers.{n}"
        if question is None:
            if not form_errors:  # a question that failed to parse is reported already
                errors.append(
                    FieldError(f"{field}.question", invalid, gettext("No question of the form has this key."))
                )
            continue
        options = {o.value for o in question.options}
        if question.type == "consent":
            options = {"true", "false"}
        if options and not set(required.allowed) <= options:
            errors.append(
                FieldError(
                    f"{field}.allowed",
                    invalid,
                    gettext("An allowed answer is not an option of the question."),
                )
            )
    return errors


def campaign_problems(values: dict[str, Any]) -> list[FieldError]:
    """Every problem campaign_create / campaign_update would refuse in this full set of values, without
    writing: the console's editor shows them while the operator types (the same check, not a copy)."""
    return _definition_problems(values)


def _validate(values: dict[str, Any]) -> None:
    """Check a full set of campaign values; raise core.invalid naming every bad field at once.

    Raises: core.invalid (each problem in `errors`; form definition problems have the code
    form.definition_invalid)."""
    errors = _definition_problems(values)
    if errors:
        raise ValidationFailed(errors)


def campaign_snapshot(campaign: Campaign) -> dict[str, Any]:
    """The definition and state of a campaign, as the audit trail records it."""
    return {f: getattr(campaign, f) for f in sorted(EDITABLE_FIELDS)} | {"status": campaign.status}


def campaign_create(*, actor: Actor, values: dict[str, Any]) -> Campaign:
    """Create a draft campaign. Raises: core.invalid, form.definition_invalid."""
    unknown = set(values) - EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed([FieldError(f, "core.invalid", "unknown field") for f in sorted(unknown)])
    values = {"channels": [], "notify_channels": ["sms"], "eligibility": {}, "form": [], **values}
    _validate(values)
    with transaction.atomic():
        campaign = Campaign(created_by=actor.label[:150], status=S.DRAFT, **values)
        campaign.save()
        audit_record(
            actor=actor, action="campaign.create", object_type="campaign", object_id=campaign.pk,
            after=campaign_snapshot(campaign),
        )  # fmt: skip
    return campaign


def _same_rule(field: str, current: Any, proposed: Any) -> bool:
    """Equal as rules, not as JSON text: {} and {"min_age": null, …} are the same eligibility."""
    if field == "eligibility":
        return eligibility_parse(current) == eligibility_parse(proposed)
    if field == "form":
        return form_parse(current or []) == form_parse(proposed or [])
    return current == proposed


def _locked_changes(campaign: Campaign, changes: dict[str, Any]) -> list[str]:
    """Fields whose change a published or closed campaign refuses."""
    locked = []
    for field, value in changes.items():
        if field in COSMETIC_FIELDS or _same_rule(field, getattr(campaign, field), value):
            continue
        if field == "capacity" and value > campaign.capacity:
            continue  # more places never hurts anyone who signed up
        if field == "signup_end_at" and campaign.status == S.PUBLISHED and value > campaign.signup_end_at:
            continue  # a later deadline only lets more people in
        locked.append(field)
    return sorted(locked)


def campaign_update(*, campaign_id: int, actor: Actor, changes: dict[str, Any]) -> Campaign:
    """Edit a campaign. Drafts change freely; published ones refuse rule changes (never silently).

    Raises: campaign.not_found, campaign.rules_locked (with `fields`), core.invalid."""
    from yunying.campaigns.services.admission import waitlist_fill

    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed([FieldError(f, "core.invalid", "unknown field") for f in sorted(unknown)])
    with transaction.atomic():
        campaign = campaign_get(campaign_id, for_update=True)
        if campaign.status in (S.FINISHED, S.CANCELLED):
            raise DomainError(CampaignError.RULES_LOCKED, fields=sorted(changes), status=campaign.status)
        if campaign.status != S.DRAFT:
            locked = _locked_changes(campaign, changes)
            if locked:
                raise DomainError(CampaignError.RULES_LOCKED, fields=locked, status=campaign.status)
        values = {f: getattr(campaign, f) for f in EDITABLE_FIELDS} | changes
        _validate(values)
        grew = changes.get("capacity", campaign.capacity) > campaign.capacity
        before, after = audit_changes({f: getattr(campaign, f) for f in changes}, changes)
        # Write only the edited fields: seats_taken is moved by concurrent admissions meanwhile.
        Campaign.objects.filter(pk=campaign.pk).update(updated_at=timezone.now(), **changes)
        audit_record(
            actor=actor, action="campaign.update", object_type="campaign", object_id=campaign.pk,
            before=before, after=after,
        )  # fmt: skip
        campaign.refresh_from_db()
        if grew and campaign.status != S.DRAFT:
            # More seats: the waiting list fills them in this transaction, before any newcomer.
            waitlist_fill(campaign=campaign, actor=actor)
        if campaign.status != S.DRAFT:  # messages already queued follow the edit
            notices_campaign_edited(campaign, changed=set(changes))
    campaign.refresh_from_db()
    return campaign


def _publish_problems(campaign: Campaign, now: datetime) -> tuple[list[str], list[FieldError]]:
    """What stops a draft from going live: the fields missing, and every problem of its definition
    (a draft saved before a check existed is checked again here)."""
    missing = []
    if not campaign.title.strip():
        missing.append("title")
    if not campaign.rules_text.strip():
        missing.append("rules_text")  # C12: rules are explicit before sign-up opens
    if not campaign.channels:
        missing.append("channels")
    if campaign.signup_end_at <= now:
        missing.append("signup_end_at")
    if campaign.event_end_at < campaign.signup_start_at:
        missing.append("event_end_at")
    errors = [
        FieldError(f, CampaignError.INCOMPLETE, gettext("This must be set before publishing."))
        for f in missing
    ]
    errors += _definition_problems({f: getattr(campaign, f) for f in EDITABLE_FIELDS})
    return missing, errors


def campaign_publish_problems(campaign: Campaign) -> list[FieldError]:
    """What would stop campaign_publish now, each naming its field (the same check, not a copy): the
    console's editor lists them before the operator presses Publish."""
    return _publish_problems(campaign, timezone.now())[1]


ACTION_FOR_STATUS = {
    S.PUBLISHED: "campaign.publish",
    S.CLOSED: "campaign.close",
    S.FINISHED: "campaign.finish",
    S.CANCELLED: "campaign.cancel",
}


def _transition(
    campaign: Campaign, to: str, *, actor: Actor | None = None, reason: str = "", **extra: Any
) -> Campaign:
    """Move the campaign on; with an actor, audit the move in the caller's transaction."""
    if to not in TRANSITIONS[campaign.status]:
        raise DomainError(CampaignError.INVALID_TRANSITION, status=campaign.status, to=to)
    moved = Campaign.objects.filter(pk=campaign.pk, status=campaign.status).update(
        status=to, status_reason=reason[:500], updated_at=timezone.now(), **extra
    )
    if not moved:  # someone else moved it first
        campaign.refresh_from_db()
        raise DomainError(CampaignError.INVALID_TRANSITION, status=campaign.status, to=to)
    before = {"status": campaign.status} | {f: getattr(campaign, f) for f in extra}
    campaign.refresh_from_db()
    if actor is not None:
        audit_record(
            actor=actor, action=ACTION_FOR_STATUS[to], object_type="campaign", object_id=campaign.pk,
            before=before, after={"status": to} | extra, reason=reason,
        )  # fmt: skip
    return campaign


def campaign_publish(*, campaign_id: int, actor: Actor) -> Campaign:
    """Raises: campaign.invalid_transition, campaign.incomplete (with `missing`)."""
    with transaction.atomic():
        campaign = campaign_get(campaign_id)
        if campaign.status == S.DRAFT:
            missing, errors = _publish_problems(campaign, timezone.now())
            if errors:
                raise DomainError(CampaignError.INCOMPLETE, missing=missing, errors=errors)
        published = _transition(campaign, S.PUBLISHED, actor=actor, published_at=timezone.now())
        if published.admission_mode == AdmissionMode.LOTTERY:
            # The draw's seed, fixed before the first entry and published as its hash (P6).
            lottery_commit(campaign_id=published.pk)
            published.refresh_from_db()
        return published


def campaign_close(*, campaign_id: int, actor: Actor, reason: str = "") -> Campaign:
    """Stop taking sign-ups. Raises: campaign.invalid_transition."""
    with transaction.atomic():
        return _transition(
            campaign_get(campaign_id), S.CLOSED, actor=actor, reason=reason, closed_at=timezone.now()
        )


def campaign_finish(*, campaign_id: int, actor: Actor) -> Campaign:
    with transaction.atomic():
        return _transition(campaign_get(campaign_id), S.FINISHED, actor=actor)


def campaign_cancel(*, campaign_id: int, actor: Actor, reason: str) -> Campaign:
    """Cancel, ending every live sign-up in the same transaction: each becomes `cancelled`, its seat
    is given back, its pending notices and reminders are withdrawn, and its member is told once.
    Nothing moves afterwards (every later transition finds no live sign-up).

    Raises: campaign.reason_required, campaign.invalid_transition."""
    if not reason.strip():
        raise DomainError(CampaignError.REASON_REQUIRED, field="reason")
    with transaction.atomic():
        # The status UPDATE locks the campaign row first (the lock order of every sign-up change);
        # sign-ups still committing hold it (seats.entry_hold / seat_take) and are waited for.
        campaign = _transition(
            campaign_get(campaign_id), S.CANCELLED, actor=actor, reason=reason, seats_taken=0
        )
        live = list(
            Signup.objects.select_for_update(no_key=True)
            .filter(campaign=campaign, status__in=LIVE_STATUSES)
            .order_by("pk")
            .values_list("pk", "status", "member_id")
        )
        signups_end(
            campaign_id=campaign.pk, ended=live, to=SignupStatus.CANCELLED, actor=actor, reason=reason
        )
        outbox_cancel(refs=[f"signup:{signup_id}" for signup_id, _, _ in live])
        outbox_add(
            [
                message
                for signup_id, _, member_id in live
                for message in outbox_build(
                    member_id=member_id,
                    channels=campaign.notify_channels,
                    template="campaign_cancelled",
                    context=message_context(campaign, signup_id=signup_id, reason=reason),
                    ref=f"signup:{signup_id}",
                    dedupe="cancelled",
                )
            ]
        )
    return campaign


def campaign_copy(*, campaign_id: int, actor: Actor) -> Campaign:
    """A new draft with the same definition, its title marked as a copy and its dates kept for the
    operator to edit (they are checked again on every edit and at publish).

    Raises: campaign.not_found."""
    source = campaign_get(campaign_id)
    suffix = gettext(" (copy)")
    values = {f: getattr(source, f) for f in EDITABLE_FIELDS}
    values["title"] = source.title[: 200 - len(suffix)] + suffix
    with transaction.atomic():
        campaign = Campaign(created_by=actor.label[:150], status=S.DRAFT, **values)
        campaign.save()
        audit_record(
            actor=actor, action="campaign.copy", object_type="campaign", object_id=campaign.pk,
            after={"copied_from": source.pk} | campaign_snapshot(campaign),
        )  # fmt: skip
    return campaign


def campaign_delete(*, campaign_id: int, actor: Actor) -> None:
    """Delete a draft that has no sign-ups (anything published stays, for its history).

    Raises: campaign.not_found, campaign.not_deletable."""
    with transaction.atomic():
        campaign = campaign_get(campaign_id, for_update=True)
        has_signups = Signup.objects.filter(campaign_id=campaign.pk).exists()
        if campaign.status != S.DRAFT or has_signups:
            raise DomainError(CampaignError.NOT_DELETABLE, status=campaign.status, has_signups=has_signups)
        before = campaign_snapshot(campaign)
        Campaign.objects.filter(pk=campaign.pk, status=S.DRAFT).delete()
        audit_record(
            actor=actor, action="campaign.delete", object_type="campaign", object_id=campaign_id,
            before=before,
        )  # fmt: skip


def campaign_extend(*, campaign_id: int, actor: Actor, signup_end_at: datetime, reason: str = "") -> Campaign:
    """Reopen a closed campaign with a later sign-up deadline (closed → published), while its rules
    allow: the event has not started, the new deadline is in the future, later than the old one and
    before the event, and a lottery is not drawn yet.

    Raises: campaign.not_found, campaign.invalid_transition, campaign.event_started,
    campaign.already_drawn, core.invalid (signup_end_at)."""
    now = timezone.now()
    with transaction.atomic():
        campaign = campaign_get(campaign_id, for_update=True)
        if campaign.status != S.CLOSED:
            raise DomainError(CampaignError.INVALID_TRANSITION, status=campaign.status, to=S.PUBLISHED)
        if campaign.event_start_at <= now:
            raise DomainError(CampaignError.EVENT_STARTED, event_start_at=campaign.event_start_at.isoformat())
        if LotteryDraw.objects.filter(campaign_id=campaign.pk).exists():
            raise DomainError(CampaignError.ALREADY_DRAWN)
        problems = []
        if signup_end_at <= max(now, campaign.signup_end_at):
            problems.append(gettext("The new deadline must be later than the old one and in the future."))
        if signup_end_at > campaign.event_start_at:
            problems.append(gettext("The new deadline must not be after the event starts."))
        if problems:
            raise ValidationFailed([FieldError("signup_end_at", "core.invalid", p) for p in problems])
        before = {"status": campaign.status, "signup_end_at": campaign.signup_end_at}
        # Conditional on the state read under the row lock; a draw needs the campaign closed.
        Campaign.objects.filter(pk=campaign.pk, status=S.CLOSED).update(
            status=S.PUBLISHED, signup_end_at=signup_end_at, closed_at=None,
            status_reason=reason[:500], updated_at=now,
        )  # fmt: skip
        audit_record(
            actor=actor, action="campaign.extend", object_type="campaign", object_id=campaign.pk,
            before=before, after={"status": S.PUBLISHED, "signup_end_at": signup_end_at}, reason=reason,
        )  # fmt: skip
    campaign.refresh_from_db()
    return campaign
