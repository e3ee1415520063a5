"""The regulator report draft (PIPL art. 57: what happened, which data, the cause, possible harm,
measures taken, what members can do, a contact), drafted from the incident for the operator to edit
and file. Reads only: the printable page and the text download both come from `breach_report_draft`.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yunying.privacy.models import BreachAffected, BreachIncident, CompensationKind, DataKind


def _when(at: datetime | None) -> str:
    return at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d %H:%M") if at else "—"


def breach_report_facts(incident: BreachIncident) -> dict:
    """The facts the report states, as one dict (the page lays them out; the text lists them)."""
    rows = BreachAffected.objects.filter(incident=incident)
    counts = rows.aggregate(
        total=Count("id"),
        notified=Count("id", filter=Q(notified_at__isnull=False)),
        compensated=Count("id", filter=Q(compensated_at__isnull=False) & ~Q(compensation__contains=".")),
        refused=Count("id", filter=Q(compensation__contains=".")),
    )
    labels = dict(DataKind.choices)
    timeline = [(_("Discovered"), incident.discovered_at, ""), (_("Incident opened"), incident.opened_at, "")]
    for step in incident.steps.all():
        if step.done_at:
            note = step.notes + (" " + _("(after its deadline)") if step.late else "")
            timeline.append((step.get_kind_display(), step.done_at, note))
    if incident.notice_sent_at:
        # A drill's notices are queued and then cancelled: no member received one.
        sent = _("Drill notices generated (none sent)") if incident.is_drill else _("Member notice sent")
        timeline.append((sent, incident.notice_sent_at, ""))
    timeline.sort(key=lambda item: item[1])
    if incident.compensation_kind == CompensationKind.COUPON:
        compensation = _("one coupon (promotion %(id)s)") % {"id": incident.compensation_promotion_id}
    elif incident.compensation_kind == CompensationKind.EXTENSION:
        compensation = _("membership level extended by %(days)s days") % {"days": incident.compensation_days}
    else:
        compensation = _("not decided")
    if incident.is_drill:  # what a drill did, in words that claim no delivery and no issue
        notified = _("Drill: %(n)d notices generated, none actually sent") % {"n": counts["notified"]}
        compensated = _("drill: %(n)d members, nothing actually issued") % {"n": counts["compensated"]}
    else:
        notified = _("Members notified: %(n)d, on %(when)s") % {
            "n": counts["notified"], "when": _when(incident.notice_sent_at),
        }  # fmt: skip
        compensated = _("issued to %(n)d members, %(refused)d could not receive it") % {
            "n": counts["compensated"], "refused": counts["refused"],
        }  # fmt: skip
    return {
        "incident": incident,
        "kinds": [str(labels.get(kind, kind)) for kind in incident.data_kinds],
        "timeline": [(label, _when(at), note) for label, at, note in timeline],
        "counts": counts,
        "compensation": compensation,
        "notified": notified,
        "compensated": compensated,
    }


def breach_report_draft(incident: BreachIncident) -> str:
    """The report as plain text, in the active language."""
    facts = breach_report_facts(incident)
    counts = facts["counts"]
    lines = [
        _("Personal information security incident report"),
        ("[" + _("Drill") + "] " if incident.is_drill else "") + incident.title,
        "",
        "1. " + _("Timeline"),
        *(f"   {at}  {label}{(' — ' + note) if note else ''}" for label, at, note in facts["timeline"]),
        "",
        "2. " + _("Personal data concerned: %(kinds)s") % {"kinds": "、".join(facts["kinds"])},
        "3. " + _("Members affected: %(n)d") % {"n": counts["total"]},
        "4. " + _("Scope: %(text)s") % {"text": incident.scope or "—"},
        "5. " + _("Cause: %(text)s") % {"text": incident.cause or "—"},
        "6. " + _("Measures taken: %(text)s") % {"text": incident.measures or "—"},
        "7. " + facts["notified"],
        "8. "
        + _("Compensation: %(what)s; %(given)s")
        % {"what": facts["compensation"], "given": facts["compensated"]},
        "9. " + _("What members can do: %(text)s") % {"text": incident.notice_advice or "—"},
        "10. " + _("Contact: %(text)s") % {"text": incident.contact or incident.notice_contact or "—"},
    ]
    return "\n".join(lines)
