"""A campaign's report (issue 9): counts per status, participation rate (attended / confirmed, C10),
charts by channel, gender, age band and region, and the CSV / XLSX export — streamed through
campaigns.exports.signups_export exactly as GET /api/v1/campaigns/{id}/signups/export: masked, or in
clear for pii.reveal_bulk with a purpose (core.purposes.reveal_authorize, access log, alert)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yunying.campaigns import exports, selectors
from yunying.campaigns.models import Channel, SignupStatus
from yunying.console.access import forbidden, operator_required
from yunying.console.fields import AsciiIntegerField
from yunying.console.views.campaign_pages import (
    bar_option,
    campaign_load,
    channel_label,
    gender_label,
    not_found,
    page_context,
    pie_option,
    status_label,
)
from yunying.console.views.signups import PURPOSE_CHOICES, _choices
from yunying.core.errors import DomainError
from yunying.core.permissions import Perm
from yunying.core.purposes import MAX_NOTE
from yunying.privacy.exports import Scope, approval_request, approved_reveal, watermark

TOP_REGIONS = 12
UNKNOWN_PROVINCE = "未知"  # what campaign_stats names a member without a region


def _age_label(band: str) -> str:
    return _("Unknown") if band == "unknown" else band


@operator_required(Perm.STATS_VIEW)
def campaign_report(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_load(campaign_id)
    if campaign is None:
        return not_found(request)
    stats = selectors.campaign_stats(campaign)
    attendance = selectors.campaign_attendance(campaign)
    by_status = [(status_label(s), n) for s, n in stats.by_status.items()]
    age_order = [label for _low, _high, label in selectors.AGE_BANDS] + ["unknown"]
    ages = [(band, stats.by_age_band.get(band, 0)) for band in age_order if band in stats.by_age_band]
    provinces = sorted(stats.by_province.items(), key=lambda item: (-item[1], item[0]))
    if len(provinces) > TOP_REGIONS:  # a readable chart: the largest provinces, the rest together
        rest = sum(n for _name, n in provinces[TOP_REGIONS - 1 :])
        provinces = [*provinces[: TOP_REGIONS - 1], (_("Other provinces"), rest)]
    region_names = [_("Unknown") if name == UNKNOWN_PROVINCE else name for name, _n in provinces]
    charts = {
        "chart-status": bar_option(
            [label for label, _n in by_status][::-1],
            [n for _l, n in by_status][::-1],
            name=_("Sign-ups"),
            horizontal=True,
        ),
        "chart-channel": pie_option(
            {channel_label(code): n for code, n in stats.by_channel.items()}, name=_("Channel")
        ),
        "chart-gender": pie_option(
            {gender_label(code): n for code, n in stats.by_gender.items()}, name=_("Gender")
        ),
        "chart-age": bar_option([_age_label(b) for b, _n in ages], [n for _b, n in ages], name=_("Age band")),
        "chart-region": bar_option(
            region_names[::-1], [n for _name, n in provinces][::-1], name=_("Region"), horizontal=True
        ),
    }
    return render(
        request,
        "console/report/report.html",
        page_context(request, campaign, "report")
        | {
            "stats": stats,
            "attendance": attendance,
            "attendance_percent": None if attendance.rate is None else round(attendance.rate * 100, 1),
            "by_status": by_status,
            "total": sum(stats.by_status.values()),
            "charts": charts,
            "export_form": ExportForm(initial={"format": "xlsx"}),
        },
    )


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        label=gettext_lazy("File format"), choices=[("csv", "CSV"), ("xlsx", "XLSX")], initial="csv"
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=_choices(exports.STATUS_LABELS, SignupStatus.values),
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        required=False,
        choices=_choices(exports.CHANNEL_LABELS, Channel.values),
    )
    reveal = forms.BooleanField(
        label=gettext_lazy("Personal data in clear (logged, raises an alert)"), required=False
    )
    purpose = forms.ChoiceField(
        label=gettext_lazy("Purpose"),
        required=False,
        choices=PURPOSE_CHOICES,
    )
    note = forms.CharField(label=gettext_lazy("Note (optional)"), required=False, max_length=MAX_NOTE)
    approval = AsciiIntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)


def _export_error(request, campaign, form, status: int) -> HttpResponse:
    return render(
        request,
        "console/report/export_error.html",
        page_context(request, campaign, "report") | {"form": form},
        status=status,
    )


@operator_required(Perm.SIGNUP_EXPORT)
def campaign_export(request: HttpRequest, campaign_id: int, fmt: str | None = None) -> HttpResponse:
    """GET (masked) or POST (masked, or revealed with a purpose). `fmt` from the path wins."""
    campaign = campaign_load(campaign_id)
    if campaign is None:
        return not_found(request)
    data = (request.POST if request.method == "POST" else request.GET).copy()
    if fmt:
        data["format"] = fmt
    data.setdefault("format", "csv")
    form = ExportForm(data)
    if not form.is_valid():
        return _export_error(request, campaign, form, 400)
    wanted = form.cleaned_data
    if wanted["reveal"] and request.method != "POST":
        form.add_error("reveal", _("An export in clear is asked for with the form on the report page."))
        return _export_error(request, campaign, form, 400)
    purpose, approval = None, None
    if wanted["reveal"]:
        # Two-person rule (privacy.exports): without an approval the form asks for one; with it, the
        # approval (consumed) decides the scope and the purpose.
        if not request.actor.can(Perm.PII_REVEAL_BULK):
            return forbidden(request, permission=str(Perm.PII_REVEAL_BULK))
        scope = Scope(campaign.pk, wanted["format"], wanted["status"] or "", wanted["channel"] or "")
        if wanted["approval"] is None:
            try:
                approval_request(
                    actor=request.actor, scope=scope, purpose=wanted["purpose"] or "", note=wanted["note"]
                )
            except ValueError:
                form.add_error("purpose", _("State why the data is needed."))
                return _export_error(request, campaign, form, 400)
            messages.success(
                request, _("Export requested: a second operator must approve it before you can download it.")
            )
            return redirect("console:export_approvals")
        try:
            approval, purpose = approved_reveal(
                actor=request.actor, approval_id=wanted["approval"], scope=scope
            )
        except DomainError as err:
            form.add_error(None, err.message)
            return _export_error(request, campaign, form, 403)
    rows = selectors.signup_list(
        campaign_id=campaign.pk, status=wanted["status"] or None, channel=wanted["channel"] or None
    )
    export = exports.signups_export(
        campaign,
        rows,
        fmt=wanted["format"],
        reveal=purpose is not None,
        actor=request.actor,
        purpose=purpose or "",
        watermark=watermark(approval) if approval is not None else "",
    )
    response_class = StreamingHttpResponse if export.streaming else HttpResponse
    response = response_class(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("campaigns/<int:campaign_id>/report/", campaign_report, name="campaign_report"),
    path("campaigns/<int:campaign_id>/export/", campaign_export, name="campaign_export"),
    path(
        "campaigns/<int:campaign_id>/export.csv", campaign_export, {"fmt": "csv"}, name="campaign_export_csv"
    ),
    path(
        "campaigns/<int:campaign_id>/export.xlsx",
        campaign_export,
        {"fmt": "xlsx"},
        name="campaign_export_xlsx",
    ),
]
