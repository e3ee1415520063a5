"""Breach response (S6): with privacy.breach_compensation, the only writer of the breach tables.

The runbook of the seed's "数据泄露应急预案": once an incident is opened, investigate within 1 hour,
publish progress (the member notice) within 24 hours, compensate the affected members within 72
hours, and draft the report to the regulator (PIPL art. 57). Each step is due a fixed time after the
breach was DISCOVERED (the law's clocks run from discovery, not from when someone opened the incident
here), assigned to an operator, marked done with notes; every operator action writes an audit row
with before / after in the transaction of the change. An incident closes only once every step is done
and its cause and measures are recorded (breach_close_blockers).

Affected members are rows (BreachAffected), derived from the access trail, a campaign's sign-ups or
an explicit list: the count a notice goes to and a compensation is issued to does not move while the
runbook runs. Erased members (members.personal_data) and ids of no member are never added, notified
or compensated: they are skipped and counted for the operator. Notices and compensation are recorded per row, so a re-run sends or issues only what
is missing, in batches: an interrupted run resumes.

A drill (`is_drill`) runs the same code: its notices are queued to the outbox under the ref
`breach-drill:<id>` with `drill: true` in their context, and the renderer drops them at send time
(the worker records them cancelled: no member is messaged); its compensation marks each row `drill`
and issues nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yunying.core.audit import audit_record
from yunying.core.errors import DomainError, FieldError, ValidationFailed, message_for
from yunying.core.models import PersonalDataAccess
from yunying.core.permissions import ROLE_PERMISSIONS, Actor, Perm
from yunying.core.scrub import scrub_personal
from yunying.members.models import Member
from yunying.members.personal_data import members_live
from yunying.notify.services import outbox_add, outbox_build
from yunying.notify.templates import Withheld
from yunying.privacy.breach_errors import BreachError
from yunying.privacy.models import (
    BreachAffected,
    BreachIncident,
    BreachStep,
    DataKind,
    IncidentStatus,
    StepKind,
)

NOTICE_TEMPLATE = "privacy.breach_notice"

# The runbook: each step's deadline after the breach was discovered (the seed: 1 h, 24 h, 72 h). The
# regulator report is drafted with the compensation: PIPL art. 57 asks for it "promptly"; 72 h is
# the team's own deadline (GDPR art. 33's), stated here so it can be changed in one place.
DEADLINES: dict[str, timedelta] = {
    StepKind.INVESTIGATE: timedelta(hours=1),
    StepKind.NOTIFY: timedelta(hours=24),
    StepKind.COMPENSATE: timedelta(hours=72),
    StepKind.REPORT: timedelta(hours=72),
}
STEP_ORDER = [StepKind.INVESTIGATE, StepKind.NOTIFY, StepKind.COMPENSATE, StepKind.REPORT]

BATCH = 500  # members per transaction when notifying; compensation takes its own batch size
MAX_LIST = 10000  # member ids in one explicit list
MAX_EXTENSION_DAYS = 3650
SAMPLES = 5
# How far back a discovery time may lie: a typo guard (1800, 2006 for 2026), and the runbook's clocks
# are hours: an incident found more than a year ago has no step left to time (docs/breach.md).
DISCOVERY_MAX_AGE = timedelta(days=365)
ACCESS_YEARS = (2000, 2100)  # an access window's ends (the console's datetime fields take the same)


# ---------------------------------------------------------------------------------------------------
# Reads


def breach_get(incident_id: int) -> BreachIncident:
    """Raises: breach.not_found."""
    incident = BreachIncident.objects.filter(pk=incident_id).first()
    if incident is None:
        raise DomainError(BreachError.NOT_FOUND)
    return incident


def breach_list() -> list[BreachIncident]:
    """Incidents, open ones first, newest first, with their affected count."""
    return list(
        BreachIncident.objects.annotate(affected_count=Count("affected"))
        .order_by("status", "-opened_at")
        .prefetch_related("steps")
    )


@dataclass(frozen=True)
class Clock:
    """Where a step stands against its deadline at `now`."""

    state: str  # done | late | due | overdue
    seconds_left: int  # negative once overdue; 0 when done


def step_clock(step: BreachStep, now: datetime) -> Clock:
    if step.done_at is not None:
        return Clock("late" if step.late else "done", 0)
    left = int((step.due_at - now).total_seconds())
    return Clock("due" if left >= 0 else "overdue", left)


@dataclass(frozen=True)
class AffectedSummary:
    total: int
    notified: int
    compensated: int
    samples: list[dict]  # member id and masked phone and name, never in clear
    unreachable: int = 0  # erased since they were added: never notified nor compensated


def breach_affected_summary(incident: BreachIncident) -> AffectedSummary:
    """Counts and a few masked samples: the page shows no list of people."""
    from yunying.members.services import member_contact

    rows = BreachAffected.objects.filter(incident=incident)
    counts = rows.aggregate(
        total=Count("id"),
        notified=Count("id", filter=Q(notified_at__isnull=False)),
        compensated=Count("id", filter=Q(compensated_at__isnull=False)),
        unreachable=Count("id", filter=~Q(member_id__in=members_live().values("pk"))),
    )
    ids = list(rows.order_by("id").values_list("member_id", flat=True)[:SAMPLES])
    members = Member.objects.in_bulk(ids)
    samples = []
    for member_id in ids:
        member = members.get(member_id)
        contact = member_contact(member, reveal=False) if member else {"phone": None, "name": None}
        samples.append({"member_id": member_id, **contact})
    return AffectedSummary(
        counts["total"], counts["notified"], counts["compensated"], samples, counts["unreachable"]
    )


def breach_operators() -> list[tuple[int, str]]:
    """Active operators who may run the breach response: the people a step can be assigned to."""
    roles = [role.value for role, perms in ROLE_PERMISSIONS.items() if Perm.BREACH_MANAGE in perms]
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=roles))
        .distinct()
        .order_by("username")
    )
    return [(user.pk, user.get_username()) for user in users]


# ---------------------------------------------------------------------------------------------------
# Opening an incident


def _incident_errors(*, title: str, data_kinds: list[str], discovered_at: datetime | None, now) -> list:
    errors = []
    if not title.strip():
        errors.append(FieldError("title", BreachError.INVALID, _("Give the incident a title.")))
    if not data_kinds or any(kind not in DataKind.values for kind in data_kinds):
        errors.append(FieldError("data_kinds", BreachError.INVALID, _("Choose the kinds of data exposed.")))
    if discovered_at is None or discovered_at > now + timedelta(minutes=5):
        errors.append(
            FieldError(
                "discovered_at", BreachError.INVALID, _("Give when it was discovered (not in the future).")
            )
        )
    elif discovered_at < now - DISCOVERY_MAX_AGE:
        errors.append(
            FieldError(
                "discovered_at",
                BreachError.INVALID,
                _("The discovery time is more than a year ago: check the date."),
            )
        )
    return errors


def incident_snapshot(incident: BreachIncident, fields: Iterable[str]) -> dict:
    values = {}
    for field in fields:
        value = getattr(incident, field)
        values[field] = value.isoformat() if isinstance(value, datetime) else value
    return values


def breach_open(
    *,
    title: str,
    description: str = "",
    discovered_at: datetime | None,
    data_kinds: list[str],
    scope: str = "",
    contact: str = "",
    is_drill: bool,
    actor: Actor,
    now: datetime | None = None,
) -> BreachIncident:
    """Open an incident and its runbook: four steps, each due a fixed time from the discovery
    (DEADLINES: an incident opened late starts with steps already overdue), and a first draft of the
    member notice.

    Raises: core.permission_denied, core.invalid (breach.invalid per field)."""
    actor.require(Perm.BREACH_MANAGE)
    now = now or timezone.now()
    kinds = list(dict.fromkeys(data_kinds))
    errors = _incident_errors(title=title, data_kinds=kinds, discovered_at=discovered_at, now=now)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic(durable=True):
        incident = BreachIncident(
            title=_about_people(title)[:200], description=_about_people(description), discovered_at=discovered_at,
            opened_at=now, opened_by_id=actor.id, opened_by_label=actor.label[:150], data_kinds=kinds,
            scope=_about_people(scope), contact=contact.strip()[:200], is_drill=is_drill,
        )  # fmt: skip
        _notice_draft(incident)
        incident.save()
        BreachStep.objects.bulk_create(
            BreachStep(incident=incident, kind=kind, position=i, due_at=discovered_at + DEADLINES[kind])
            for i, kind in enumerate(STEP_ORDER)
        )
        audit_record(
            actor=actor, action="breach.open", object_type="breach_incident", object_id=incident.pk,
            after=incident_snapshot(incident, ["title", "discovered_at", "opened_at", "data_kinds", "is_drill"]),
        )  # fmt: skip
    return incident


def _kinds_text(kinds: list[str]) -> str:
    labels = dict(DataKind.choices)
    return "、".join(str(labels.get(kind, kind)) for kind in kinds)


def _notice_draft(incident: BreachIncident) -> None:
    """Fill the notice's parts from the incident (the operator edits them before sending)."""
    happened = incident.discovered_at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d %H:%M")
    incident.notice_happened = _(
        "On %(when)s we found that some members' personal data may have been exposed: %(title)s."
    ) % {"when": happened, "title": incident.title}
    # The notice labels this part itself ("Which data: …"): the draft is the content only.
    incident.notice_data = _("The members' %(kinds)s.") % {"kinds": _kinds_text(incident.data_kinds)}
    # Drafted when the incident opens, before any report is filed: it says a report WILL be made.
    incident.notice_measures = _(
        "We are stopping the exposure and investigating its cause, and will report it to the regulator "
        "as the law requires."
    )
    incident.notice_advice = _(
        "Be wary of calls and messages that ask for codes, passwords or payments in our name; we never ask for them."
    )
    incident.notice_contact = incident.contact or _("Contact our customer service.")


def incident_lock(incident_id: int) -> BreachIncident:
    """The incident, its row locked for the rest of the caller's transaction.

    Raises: breach.not_found, breach.closed."""
    incident = BreachIncident.objects.select_for_update().filter(pk=incident_id).first()
    if incident is None:
        raise DomainError(BreachError.NOT_FOUND)
    if incident.status == IncidentStatus.CLOSED:
        raise DomainError(BreachError.CLOSED)
    return incident


_FACTS = ("title", "description", "scope", "cause", "measures", "contact")


def _about_people(text: str) -> str:
    """What investigators write about an incident names the people in it ("13911112222 陈美玲 …"):
    phones, e-mails and identity numbers are replaced before it is stored (attacker review: a
    breach description sat in a database dump in clear)."""
    return scrub_personal(text.strip())


def breach_update(*, incident_id: int, facts: dict[str, str], actor: Actor) -> BreachIncident:
    """Record what the investigation found: cause, measures taken, scope, contact (for the report).

    Raises: core.permission_denied, breach.not_found, breach.closed, core.invalid."""
    actor.require(Perm.BREACH_MANAGE)
    unknown = set(facts) - set(_FACTS)
    if unknown or not facts.get("title", "x").strip():
        raise ValidationFailed([FieldError("title", BreachError.INVALID, _("Give the incident a title."))])
    with transaction.atomic(durable=True):
        incident = incident_lock(incident_id)
        before = incident_snapshot(incident, facts)
        for field, value in facts.items():
            # the contact is the company's own line members call: kept as written
            text = value.strip() if field == "contact" else _about_people(value)
            setattr(incident, field, text[: 200 if field in ("title", "contact") else None])
        incident.save()
        after = incident_snapshot(incident, facts)
        if before != after:
            audit_record(
                actor=actor, action="breach.update", object_type="breach_incident", object_id=incident.pk,
                before={k: v for k, v in before.items() if after[k] != v},
                after={k: v for k, v in after.items() if before[k] != v},
            )  # fmt: skip
    return incident


@dataclass(frozen=True)
class Blocker:
    """What keeps an incident open: a stable code and what is missing, for the operator."""

    code: str
    message: str
    missing: list[str]  # step kinds, or fact fields


def breach_close_blockers(incident: BreachIncident) -> list[Blocker]:
    """Why the incident cannot be closed yet (empty when it can): every runbook step done, and the
    cause and the measures taken recorded (the report states them)."""
    labels = dict(StepKind.choices)
    pending = [
        step.kind for step in sorted(incident.steps.all(), key=lambda s: s.position) if step.done_at is None
    ]
    blockers = []
    if pending:
        blockers.append(
            Blocker(
                BreachError.STEPS_PENDING,
                message_for(BreachError.STEPS_PENDING)
                % {"steps": "、".join(str(labels.get(k, k)) for k in pending)},
                pending,
            )
        )
    fact_labels = {"cause": _("the cause"), "measures": _("the measures taken")}
    empty = [field for field in fact_labels if not getattr(incident, field).strip()]
    if empty:
        blockers.append(
            Blocker(
                BreachError.FINDINGS_MISSING,
                message_for(BreachError.FINDINGS_MISSING)
                % {"fields": "、".join(str(fact_labels[f]) for f in empty)},
                empty,
            )
        )
    return blockers


def breach_close(*, incident_id: int, actor: Actor) -> BreachIncident:
    """Close the incident: its record stays, nothing more is done under it. Only once every step is
    done and the cause and measures are recorded: the message names everything missing, the code is
    the first blocker's (`missing` in the data lists each blocker's code and items).

    Raises: core.permission_denied, breach.not_found, breach.closed, breach.steps_pending,
    breach.findings_missing."""
    actor.require(Perm.BREACH_MANAGE)
    with transaction.atomic(durable=True):
        incident = incident_lock(incident_id)
        blockers = breach_close_blockers(incident)
        if blockers:
            raise DomainError(
                blockers[0].code,
                " ".join(b.message for b in blockers),
                missing={b.code: b.missing for b in blockers},
            )
        incident.status = IncidentStatus.CLOSED
        incident.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor, action="breach.close", object_type="breach_incident", object_id=incident.pk,
            before={"status": IncidentStatus.OPEN}, after={"status": IncidentStatus.CLOSED},
        )  # fmt: skip
    return incident


# ---------------------------------------------------------------------------------------------------
# Steps


def _locked_step(step_id: int, incident_id: int | None) -> tuple[BreachStep, BreachIncident]:
    """The step (of `incident_id`, when given) and its incident, both locked."""
    step = BreachStep.objects.select_for_update().filter(pk=step_id).first()
    if step is None or (incident_id is not None and step.incident_id != incident_id):
        raise DomainError(BreachError.STEP_NOT_FOUND)
    return step, incident_lock(step.incident_id)


def breach_step_assign(
    *, step_id: int, assignee_id: int, actor: Actor, incident_id: int | None = None
) -> BreachStep:
    """Make an operator responsible for a step (again: reassigning is allowed until it is done).

    Raises: core.permission_denied, breach.step_not_found, breach.closed, breach.step_done,
    breach.assignee_invalid."""
    actor.require(Perm.BREACH_MANAGE)
    names = dict(breach_operators())
    if assignee_id not in names:
        raise DomainError(BreachError.ASSIGNEE_INVALID)
    with transaction.atomic(durable=True):
        step, _incident = _locked_step(step_id, incident_id)
        if step.done_at is not None:
            raise DomainError(BreachError.STEP_DONE)
        before = {"assignee": step.assignee_label}
        step.assignee_id, step.assignee_label = assignee_id, names[assignee_id][:150]
        step.save(update_fields=["assignee_id", "assignee_label"])
        audit_record(
            actor=actor, action="breach.step_assign", object_type="breach_step", object_id=step.pk,
            before=before, after={"assignee": step.assignee_label}, reason=step.kind,
        )  # fmt: skip
    return step


def breach_step_done(
    *, step_id: int, notes: str, actor: Actor, incident_id: int | None = None, now: datetime | None = None
) -> BreachStep:
    """Mark a step done with what was done; late when after its deadline (kept, shown, reported).

    Raises: core.permission_denied, breach.step_not_found, breach.closed, breach.step_done,
    core.invalid (notes are required)."""
    actor.require(Perm.BREACH_MANAGE)
    if not notes.strip():
        raise ValidationFailed([FieldError("notes", BreachError.INVALID, _("Say what was done."))])
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        step, _incident = _locked_step(step_id, incident_id)
        # Conditional: of two operators marking the same step, the second gets breach.step_done.
        taken = BreachStep.objects.filter(pk=step.pk, done_at__isnull=True).update(
            done_at=now, done_by_label=actor.label[:150], notes=_about_people(notes)
        )
        if not taken:
            raise DomainError(BreachError.STEP_DONE)
        step.refresh_from_db()
        audit_record(
            actor=actor, action="breach.step_done", object_type="breach_step", object_id=step.pk,
            before={"done_at": None},
            after={"done_at": now.isoformat(), "late": step.late, "notes": step.notes[:300]},
            reason=step.kind,
        )  # fmt: skip
    return step


# ---------------------------------------------------------------------------------------------------
# Affected members


@dataclass(frozen=True)
class AccessCriteria:
    """Which rows of the access trail the breach exposed: by whom, when, which fields (any of)."""

    actor_kind: str = ""
    actor_id: int | None = None
    actor_label: str = ""
    since: datetime | None = None
    until: datetime | None = None
    fields: tuple[str, ...] = ()

    def given(self) -> bool:
        return bool(self.actor_id or self.actor_label or self.since or self.until or self.fields)


def _from_access(criteria: AccessCriteria) -> set[int]:
    rows = PersonalDataAccess.objects.all()
    if criteria.actor_id is not None:
        rows = rows.filter(actor_id=criteria.actor_id)
        if criteria.actor_kind:
            rows = rows.filter(actor_kind=criteria.actor_kind)
    if criteria.actor_label:
        rows = rows.filter(actor_label=criteria.actor_label)
    if criteria.since:
        rows = rows.filter(at__gte=criteria.since)
    if criteria.until:
        rows = rows.filter(at__lt=criteria.until)
    if not criteria.fields:
        return set(rows.values_list("member_id", flat=True).distinct())
    # `fields` is a JSON list; "contains" on JSON is not portable (SQLite), so the overlap is checked
    # here, streaming the rows the other criteria left.
    wanted = set(criteria.fields)
    return {
        member_id
        for member_id, fields in rows.values_list("member_id", "fields").iterator(chunk_size=2000)
        if wanted & set(fields or [])
    }


def _actor_known(criteria: AccessCriteria) -> bool:
    """Whether the criteria's accessor is someone: an operator or API key (by name or id), or an
    actor the access trail recorded (one since deleted, a command). A typo would match no access and
    add nobody without saying why."""
    from yunying.core.models import ApiKey

    users = get_user_model().objects
    trail = PersonalDataAccess.objects
    if criteria.actor_id is not None:
        if criteria.actor_kind == "user" and users.filter(pk=criteria.actor_id).exists():
            return True
        if criteria.actor_kind == "api_key" and ApiKey.objects.filter(pk=criteria.actor_id).exists():
            return True
        by_id = trail.filter(actor_id=criteria.actor_id)
        return (
            by_id.filter(actor_kind=criteria.actor_kind).exists() if criteria.actor_kind else by_id.exists()
        )
    if criteria.actor_label:
        label = criteria.actor_label
        return (
            users.filter(**{get_user_model().USERNAME_FIELD: label}).exists()
            or ApiKey.objects.filter(name=label).exists()
            or trail.filter(actor_label=label).exists()
        )
    return True


def _window_errors(criteria: AccessCriteria) -> list[FieldError]:
    """The access window's ends within ACCESS_YEARS: year 1 in Beijing time is before year 1 in UTC,
    and the query's conversion raised OverflowError (a 500)."""
    first, last = ACCESS_YEARS
    return [
        FieldError(
            name, BreachError.INVALID,
            _("Enter a year between %(first)s and %(last)s.") % {"first": first, "last": last},
        )
        for name in ("since", "until")
        if (when := getattr(criteria, name)) is not None and not first <= when.year <= last
    ]  # fmt: skip


def _from_campaign(campaign_id: int) -> set[int]:
    from yunying.campaigns.models import Signup

    return set(Signup.objects.filter(campaign_id=campaign_id).values_list("member_id", flat=True).distinct())


def _derive(
    access: AccessCriteria | None, campaign_id: int | None, member_ids: list[int] | None
) -> dict[int, str]:
    """The members the criteria name, each with where it was found first (list, campaign, access).

    Raises: breach.criteria_required, breach.members_unknown, core.invalid (more than MAX_LIST ids; an
    access window outside ACCESS_YEARS; per field breach.campaign_unknown, breach.actor_unknown)."""
    if access is None and campaign_id is None and not member_ids:
        raise DomainError(BreachError.CRITERIA_REQUIRED)
    if access is not None and (window := _window_errors(access)):
        raise ValidationFailed(window)
    if access is not None and access.since and access.until and access.since >= access.until:
        raise ValidationFailed(
            [FieldError("until", BreachError.INVALID, _("The window must end after it starts."))]
        )
    unknown_criteria = []
    if campaign_id is not None:
        from yunying.campaigns.models import Campaign

        if not Campaign.objects.filter(pk=campaign_id).exists():
            unknown_criteria.append(FieldError("campaign_id", BreachError.CAMPAIGN_UNKNOWN))
    if access is not None and not _actor_known(access):
        unknown_criteria.append(FieldError("access_actor", BreachError.ACTOR_UNKNOWN))
    if unknown_criteria:
        raise ValidationFailed(unknown_criteria)
    if member_ids and len(set(member_ids)) > MAX_LIST:
        raise ValidationFailed(
            [FieldError("member_ids", BreachError.INVALID, _("At most 10,000 members at once."))]
        )
    found: dict[int, str] = {}
    if member_ids:
        listed = set(member_ids)
        known = set(Member.objects.filter(pk__in=listed).values_list("pk", flat=True))
        unknown = sorted(listed - known)
        if unknown:
            shown = ", ".join(map(str, unknown[:10]))
            raise DomainError(
                BreachError.MEMBERS_UNKNOWN,
                message_for(BreachError.MEMBERS_UNKNOWN) % {"ids": shown},
                ids=unknown[:10],
            )
        found.update(dict.fromkeys(listed, "list"))
    if campaign_id is not None:
        found.update({m: "campaign" for m in _from_campaign(campaign_id) if m not in found})
    if access is not None:
        found.update({m: "access" for m in _from_access(access) if m not in found})
    return found


def _reachable(found: dict[int, str]) -> tuple[dict[int, str], int, int]:
    """The members of `found` who exist and are not erased; and how many were erased, how many are
    ids of no member (the access trail and sign-ups keep the ids of members since gone)."""
    ids = sorted(found)
    live: set[int] = set()
    existing: set[int] = set()
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        existing.update(Member.objects.filter(pk__in=chunk).values_list("pk", flat=True))
        live.update(members_live().filter(pk__in=chunk).values_list("pk", flat=True))
    return {m: s for m, s in found.items() if m in live}, len(existing - live), len(ids) - len(existing)


@dataclass(frozen=True)
class Preview:
    matched: int  # members the criteria name
    new: int  # of them, not yet affected by this incident (and neither erased nor unknown)
    samples: list[dict]  # a few of the new ones, masked
    erased: int = 0  # named but erased: skipped
    unknown: int = 0  # ids of no member (from the access trail or a campaign): skipped


def breach_affected_preview(
    *,
    incident_id: int,
    access: AccessCriteria | None = None,
    campaign_id: int | None = None,
    member_ids: list[int] | None = None,
    actor: Actor,
) -> Preview:
    """What breach_affected_add would add, stored nowhere: a count and masked samples (a read of
    masked data only: nothing in clear, no access row).

    Raises: core.permission_denied, breach.not_found, breach.criteria_required, breach.members_unknown,
    core.invalid (per field: breach.invalid, breach.campaign_unknown, breach.actor_unknown)."""
    from yunying.members.services import member_contact

    actor.require(Perm.BREACH_VIEW)
    incident = breach_get(incident_id)
    access = access if access is not None and access.given() else None
    named = _derive(access, campaign_id, member_ids)
    found, erased, unknown = _reachable(named)
    present = (
        set(
            BreachAffected.objects.filter(incident=incident, member_id__in=list(found)).values_list(
                "member_id", flat=True
            )
        )
        if len(found) <= 5000
        else set(BreachAffected.objects.filter(incident=incident).values_list("member_id", flat=True))
    )
    new = sorted(set(found) - present)
    members = Member.objects.in_bulk(new[:SAMPLES])
    samples = [
        {"member_id": m, **member_contact(members[m], reveal=False)} for m in new[:SAMPLES] if m in members
    ]
    return Preview(matched=len(named), new=len(new), samples=samples, erased=erased, unknown=unknown)


@dataclass(frozen=True)
class Added:
    added: int  # members added by this call
    erased: int  # named but erased: not added (an erased member is never messaged nor given anything)
    unknown: int  # ids of no member: not added


def breach_affected_add(
    *,
    incident_id: int,
    access: AccessCriteria | None = None,
    campaign_id: int | None = None,
    member_ids: list[int] | None = None,
    actor: Actor,
    now: datetime | None = None,
) -> Added:
    """Add the members a breach affects, from the access trail, a campaign's sign-ups and/or an
    explicit list; a member already added stays once. Erased members and ids of no member (the access
    trail and sign-ups outlive a member) are skipped and counted. Returns how many were new, and
    how many were skipped and why.

    Raises: core.permission_denied, breach.not_found, breach.closed, breach.criteria_required,
    breach.members_unknown, core.invalid (more than MAX_LIST ids, a window outside ACCESS_YEARS; per
    field breach.campaign_unknown, breach.actor_unknown)."""
    actor.require(Perm.BREACH_MANAGE)
    access = access if access is not None and access.given() else None
    now = now or timezone.now()
    breach_get(incident_id)  # breach.not_found before the reads below
    # The reads run before the write transaction (they may stream many rows); the rows they give are
    # inserted once each (unique incident+member), so a concurrent add cannot double a member.
    found, erased, unknown = _reachable(_derive(access, campaign_id, member_ids))
    with transaction.atomic(durable=True):
        incident = incident_lock(incident_id)
        before = BreachAffected.objects.filter(incident=incident).count()
        BreachAffected.objects.bulk_create(
            [
                BreachAffected(incident=incident, member_id=member_id, source=source, added_at=now)
                for member_id, source in sorted(found.items())
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
        after = BreachAffected.objects.filter(incident=incident).count()
        criteria = {
            "campaign_id": campaign_id,
            "listed": len(set(member_ids or [])),
            "access": None
            if access is None
            else {
                "actor": access.actor_label
                or (f"{access.actor_kind}:{access.actor_id}" if access.actor_id else ""),
                "since": access.since.isoformat() if access.since else None,
                "until": access.until.isoformat() if access.until else None,
                "fields": list(access.fields),
            },
        }
        audit_record(
            actor=actor, action="breach.affected_add", object_type="breach_incident", object_id=incident.pk,
            before={"affected": before},
            after={"affected": after, "criteria": criteria, "skipped": {"erased": erased, "unknown": unknown}},
        )  # fmt: skip
    return Added(after - before, erased, unknown)


# ---------------------------------------------------------------------------------------------------
# The member notice

NOTICE_PARTS = ("notice_happened", "notice_data", "notice_measures", "notice_advice", "notice_contact")


def breach_notice_update(*, incident_id: int, parts: dict[str, str], actor: Actor) -> BreachIncident:
    """Edit the notice before it goes out.

    Raises: core.permission_denied, breach.not_found, breach.closed, breach.notice_sent."""
    actor.require(Perm.BREACH_MANAGE)
    with transaction.atomic(durable=True):
        incident = incident_lock(incident_id)
        if incident.notice_sent_at is not None:
            raise DomainError(BreachError.NOTICE_SENT)
        before = incident_snapshot(incident, NOTICE_PARTS)
        for part in NOTICE_PARTS:
            if part in parts:
                setattr(incident, part, parts[part].strip()[:2000])
        incident.save()
        after = incident_snapshot(incident, NOTICE_PARTS)
        changed = [k for k in NOTICE_PARTS if before[k] != after[k]]
        if changed:
            audit_record(
                actor=actor, action="breach.notice_edit", object_type="breach_incident", object_id=incident.pk,
                before={k: before[k] for k in changed}, after={k: after[k] for k in changed},
            )  # fmt: skip
    return incident


def notice_ref(incident: BreachIncident) -> str:
    return f"breach-drill:{incident.pk}" if incident.is_drill else f"breach:{incident.pk}"


@dataclass(frozen=True)
class Sent:
    queued: int  # members whose notice was queued by this call
    total: int  # members notified so far
    skipped: int = 0  # affected members erased since they were added: never messaged


def breach_notice_send(*, incident_id: int, actor: Actor, now: datetime | None = None) -> Sent:
    """Queue the notice to every affected member not notified yet, in batches (a re-run after an
    interruption goes on where it stopped; a member is never messaged twice: each row is marked in
    the batch's transaction, and the outbox's dedupe key refuses a second message).

    A service message (it goes whatever the member's marketing consent); never to an erased member. A drill's notices go to the
    outbox marked as a drill and are never delivered (module docstring).

    Raises: core.permission_denied, breach.not_found, breach.closed, breach.no_affected,
    breach.notice_incomplete."""
    actor.require(Perm.BREACH_MANAGE)
    incident = breach_get(incident_id)
    if not BreachAffected.objects.filter(incident=incident).exists():
        raise DomainError(BreachError.NO_AFFECTED)
    channels = list(settings.BREACH_NOTICE_CHANNELS)
    queued = 0
    while True:
        now_batch = now or timezone.now()
        with transaction.atomic(durable=True):
            incident = incident_lock(incident_id)  # serialises two senders of one incident
            # Checked under the lock: the notice cannot change between this check and the send.
            if any(not getattr(incident, part).strip() for part in NOTICE_PARTS):
                raise DomainError(BreachError.NOTICE_INCOMPLETE)
            rows = list(
                BreachAffected.objects.filter(
                    incident=incident, notified_at__isnull=True, member_id__in=members_live().values("pk")
                )
                .order_by("id")
                .values_list("id", "member_id")[:BATCH]
            )
            if not rows:
                break
            ref = notice_ref(incident)
            messages = []
            for _row_id, member_id in rows:
                messages += outbox_build(
                    member_id=member_id, channels=channels, template=NOTICE_TEMPLATE,
                    context={"incident_id": incident.pk, "drill": incident.is_drill}, ref=ref,
                    dedupe=f"notice:{member_id}",
                )  # fmt: skip
            outbox_add(messages)
            BreachAffected.objects.filter(pk__in=[row_id for row_id, _m in rows]).update(
                notified_at=now_batch
            )
            first = incident.notice_sent_at is None
            incident.notice_sent_at = incident.notice_sent_at or now_batch
            incident.notice_count += len(rows)
            incident.save(update_fields=["notice_sent_at", "notice_count", "updated_at"])
            audit_record(
                actor=actor, action="breach.notice_send", object_type="breach_incident", object_id=incident.pk,
                before={"notified": incident.notice_count - len(rows)},
                after={"notified": incident.notice_count, "drill": incident.is_drill, "first": first},
            )  # fmt: skip
            queued += len(rows)
    rows = BreachAffected.objects.filter(incident_id=incident_id)
    return Sent(
        queued=queued,
        total=rows.filter(notified_at__isnull=False).count(),
        skipped=rows.filter(notified_at__isnull=True)
        .exclude(member_id__in=members_live().values("pk"))
        .count(),
    )


def breach_notice_text(incident: BreachIncident) -> tuple[str, str]:
    """The notice as a member reads it: (subject, body), in the active language."""
    subject = _("Notice about your personal data")
    if incident.is_drill:
        subject = _("[Drill] %(subject)s") % {"subject": subject}
    body = "\n".join(
        [
            _("What happened: %(text)s") % {"text": incident.notice_happened},
            _("Which data: %(text)s") % {"text": incident.notice_data},
            _("What we did: %(text)s") % {"text": incident.notice_measures},
            _("What you can do: %(text)s") % {"text": incident.notice_advice},
            _("Contact: %(text)s") % {"text": incident.notice_contact},
        ]
    )
    return subject, body


def breach_messages_load(contexts: list[dict]):
    """The outbox's loader for NOTICE_TEMPLATE (notify.templates): one query per batch."""
    ids = {context.get("incident_id") for context in contexts}
    incidents = BreachIncident.objects.in_bulk([i for i in ids if isinstance(i, int)])

    def render(template: str, context: dict, channel: str):
        incident = incidents.get(context.get("incident_id"))
        # A drill's notice is never delivered (it stays in the outbox, recorded cancelled).
        if incident is None:
            return Withheld("the incident no longer exists")
        if incident.is_drill or context.get("drill"):
            return Withheld("breach drill: never delivered")
        return breach_notice_text(incident)

    return render


# ---------------------------------------------------------------------------------------------------
# The regulator report


def breach_report_save(*, incident_id: int, text: str, actor: Actor) -> BreachIncident:
    """Keep the operator's edit of the report ("" goes back to the draft).

    Raises: core.permission_denied, breach.not_found, breach.closed."""
    actor.require(Perm.BREACH_MANAGE)
    with transaction.atomic(durable=True):
        incident = incident_lock(incident_id)
        before = {"report_chars": len(incident.report_text)}
        incident.report_text = text.strip()[:50000]
        incident.save(update_fields=["report_text", "updated_at"])
        audit_record(
            actor=actor, action="breach.report_edit", object_type="breach_incident", object_id=incident.pk,
            before=before, after={"report_chars": len(incident.report_text)},
        )  # fmt: skip
    return incident
