"""Risk control's review in the console (issue 13): the queue of cases a person decides, one at a time
or many, the decisions with their reasons (and a CSV of them), and risk control's alerts. Everyone with
risk.view reads; risk.review decides."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from yunying.console.access import forbidden, operator_required
from yunying.console.paging import ID_MAX, page_of
from yunying.console.views.campaign_pages import channel_label
from yunying.console.views.risk_config import ACTION_LABELS, ENTRY_LABELS, SUBJECT_LABELS, risk_tabs
from yunying.core.errors import DomainError
from yunying.core.numbers import ascii_digits
from yunying.core.permissions import Perm
from yunying.core.spreadsheet import spreadsheet_text
from yunying.risk import selectors
from yunying.risk.rules import reason_label
from yunying.risk.services import case_decide, cases_decide
from yunying.risk.signal_labels import signal_label

LABEL_TEXT = {"honest": gettext_lazy("Honest"), "fraud": gettext_lazy("Fraud")}
ALERT_TITLES = {
    "risk.engine_unavailable": gettext_lazy("Risk engine unavailable (attempts held for review)"),
    "risk.signup_spike": gettext_lazy("Abnormal sign-up spike"),
    "risk.virtual_share": gettext_lazy("Unusual share of virtual-operator numbers"),
    "risk.datacentre_share": gettext_lazy("Unusual share of data-centre addresses"),
    "risk.payment_spike": gettext_lazy("Abnormal payment volume"),
    "risk.refund_spike": gettext_lazy("Abnormal refunds"),
    "risk.complaint_spike": gettext_lazy("Complaint spike"),
}


def _signal_value(name: str, value):
    """A signal's value as an operator reads it: the channel in words (social read 社交媒体)."""
    return channel_label(value) if name == "channel" and isinstance(value, str) else value


def _reasons(decision) -> list[dict]:
    return [
        {
            "label": _(reason_label(reason)),
            "points": reason.get("points", 0),
            "signals": "；".join(
                f"{signal_label(name)} = {_signal_value(name, value)}"
                for name, value in (reason.get("signals") or {}).items()
            ),
        }
        for reason in decision.reasons or []
    ]


def _row(decision) -> dict:
    return {
        "decision": decision,
        "entry": ENTRY_LABELS.get(decision.entry, decision.entry),
        "subject": SUBJECT_LABELS.get(decision.subject_type, decision.subject_type),
        "action": ACTION_LABELS.get(decision.action, decision.action),
        "reasons": _reasons(decision),
    }


@operator_required(Perm.RISK_VIEW)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    decided = request.GET.get("tab") == "decided"
    entry = request.GET.get("entry", "") if request.GET.get("entry", "") in ENTRY_LABELS else ""
    asked = request.GET.get("asked") == "1"
    cases = selectors.case_queue(status="decided" if decided else "open", entry=entry, asked=asked)
    page, query = page_of(request, cases)
    context = {
        "section": "risk",
        "tabs": risk_tabs("queue"),
        "page": page,
        "query": query,
        "rows": [{"case": case, **_row(case.decision)} for case in page.object_list],
        "decided": decided,
        "entry": entry,
        "asked": asked,
        "entries": list(ENTRY_LABELS.items()),
        "can_review": request.actor.can(Perm.RISK_REVIEW),
    }
    return render(request, "console/risk/queue.html", context)


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if ascii_digits(v) and len(v) <= 19 and 0 < int(v) <= ID_MAX]


@operator_required(Perm.RISK_VIEW)
@require_POST
def decide(request: HttpRequest) -> HttpResponse:
    if not request.actor.can(Perm.RISK_REVIEW):
        return forbidden(request, permission=str(Perm.RISK_REVIEW))
    approve = request.POST.get("decision") == "approve"
    note = request.POST.get("note", "").replace("\x00", "")[:1000]
    ids = _ids(request.POST.getlist("case"))
    if not ids:
        messages.error(request, _("Choose at least one case."))
    elif len(ids) == 1:
        try:
            case = case_decide(case_id=ids[0], approve=approve, note=note, actor=request.actor)
            messages.success(request, _("Case %(id)s decided: %(outcome)s") % {"id": case.pk, "outcome": case.outcome or case.get_status_display()})  # fmt: skip
        except DomainError as refused:
            messages.error(request, refused.message)
    else:
        done = cases_decide(case_ids=ids, approve=approve, note=note, actor=request.actor)
        messages.success(
            request, _("%(decided)s cases decided, %(skipped)s skipped (decided meanwhile).") % done
        )
    return redirect("console:risk_queue")


def _filters(request: HttpRequest) -> dict:
    get = request.GET
    filters = {
        "entry": get.get("entry", "") if get.get("entry", "") in ENTRY_LABELS else "",
        "action": get.get("action", "") if get.get("action", "") in ACTION_LABELS else "",
        "subject_ref": get.get("subject", "").replace("\x00", "")[:64],
        "shadow": get.get("shadow") == "1",
    }
    for name, key, end in (("since", "from", False), ("until", "to", True)):
        try:
            day = parse_date(get.get(key, "")[:10])
        except ValueError:
            day = None
        if day:
            moment = datetime.combine(day, time.max if end else time.min)
            filters[name] = timezone.make_aware(moment)
    return filters


@operator_required(Perm.RISK_VIEW)
@require_GET
def decisions(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    page, query = page_of(request, selectors.decision_list(**filters))
    context = {
        "section": "risk",
        "tabs": risk_tabs("decisions"),
        "page": page,
        "query": query,
        "rows": [_row(decision) for decision in page.object_list],
        "filters": request.GET,
        "entries": list(ENTRY_LABELS.items()),
        "actions": list(ACTION_LABELS.items()),
    }
    return render(request, "console/risk/decisions.html", context)


@operator_required(Perm.RISK_VIEW)
@require_GET
def decision(request: HttpRequest, decision_id: int) -> HttpResponse:
    if decision_id > ID_MAX:
        raise Http404
    try:
        found = selectors.decision_get(decision_id)
    except DomainError as missing:
        raise Http404 from missing
    twin = (
        selectors.decision_list(
            subject_type=found.subject_type, subject_ref=found.subject_ref, shadow=not found.shadow
        )
        .filter(at=found.at, entry=found.entry)
        .first()
    )
    context = {
        "section": "risk",
        "tabs": risk_tabs("decisions"),
        **_row(found),
        # What the engine saw; the many counters at zero (keys this event did not have) would bury it.
        "signals": sorted(
            (name, signal_label(name), _signal_value(name, value))
            for name, value in (found.signals or {}).items()
            if value not in (0, None, "")
        ),
        "label_text": LABEL_TEXT.get(found.label, ""),
        "twin": _row(twin) if twin else None,
    }
    return render(request, "console/risk/decision.html", context)


CSV_HEADER = [
    "编号",
    "时间",
    "入口",
    "对象",
    "对象编号",
    "会员标识",
    "分数",
    "处置",
    "原因",
    "规则版本",
    "影子",
    "复核标签",
]


@operator_required(Perm.RISK_VIEW)
@require_GET
def decisions_csv(request: HttpRequest) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for decision in selectors.decision_list(**_filters(request))[:50_000].iterator(chunk_size=1000):
        row = _row(decision)
        writer.writerow(
            [spreadsheet_text(str(value)) for value in (
                decision.pk, timezone.localtime(decision.at).strftime("%Y-%m-%d %H:%M:%S"), row["entry"],
                SUBJECT_LABELS.get(decision.subject_type, decision.subject_type), decision.subject_ref, decision.member_ref, decision.score, row["action"],
                "；".join(f"{r['label']}（{r['points']}）" for r in row["reasons"]),
                decision.rule_version if decision.rule_version is not None else "", "是" if decision.shadow else "否",
                LABEL_TEXT.get(decision.label, ""),
            )]
        )  # fmt: skip
    response = HttpResponse(out.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="risk-decisions.csv"'
    return response


@operator_required(Perm.RISK_VIEW)
@require_GET
def alerts(request: HttpRequest) -> HttpResponse:
    rows = [
        {
            "alert": alert,
            "title": ALERT_TITLES.get(alert.code, alert.code),
            "data": sorted((alert.data or {}).items()),
        }
        for alert in selectors.alert_list_risk()
    ]
    return render(
        request, "console/risk/alerts.html", {"section": "risk", "tabs": risk_tabs("alerts"), "rows": rows}
    )


urlpatterns = [
    path("risk/", queue, name="risk_queue"),
    path("risk/decide/", decide, name="risk_decide"),
    path("risk/decisions/", decisions, name="risk_decisions"),
    path("risk/decisions.csv", decisions_csv, name="risk_decisions_csv"),
    path("risk/decisions/<int:decision_id>/", decision, name="risk_decision"),
    path("risk/alerts/", alerts, name="risk_alerts"),
]
