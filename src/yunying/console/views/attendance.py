"""Attendance at the event (C10): pick a running campaign, then scan the member's QR ticket with the
laptop camera (static console/scanner.js: jsQR on frames of a <video>) or type its code. Each
check-in answers with the member's masked name and the running participation rate; refusals say
why (another campaign, not confirmed, unknown code, already checked in — and when).

Typed codes are counted per operator, and misses more strictly: a code has 50 random bits, and the
limits keep anyone from trying them through this page."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from yunying.campaigns import selectors
from yunying.campaigns.errors import AttendanceError
from yunying.campaigns.models import Campaign, SignupStatus
from yunying.campaigns.services.attendance import attendance_mark
from yunying.console.access import operator_required
from yunying.console.fields import AsciiIntegerField
from yunying.console.paging import ID_MAX
from yunying.core.errors import DomainError
from yunying.core.permissions import Perm
from yunying.members.services import member_contact


class CampaignPick(forms.Form):
    campaign = AsciiIntegerField(label=gettext_lazy("Campaign"), min_value=1, max_value=ID_MAX)


class CheckinForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Check-in code"),
        max_length=64,
        help_text=gettext_lazy(
            "The 10 characters under the member's QR code; case and spaces do not matter."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


def _check_in(request: HttpRequest, campaign: Campaign, code: str) -> dict:
    """Mark attendance; the outcome as the page shows it."""
    try:
        signup = attendance_mark(checkin_code=code, campaign_id=campaign.pk, actor=request.actor)
    except DomainError as refused:
        outcome = {"ok": False, "code": refused.code, "message": refused.message}
        if refused.code == AttendanceError.ALREADY_CHECKED_IN:
            outcome["first_at"] = parse_datetime(refused.data["attended_at"])
        if refused.code == AttendanceError.NOT_CONFIRMED:
            outcome["status"] = SignupStatus(refused.data["status"]).label if "status" in refused.data else ""
        return outcome
    return {"ok": True, "name": member_contact(signup.member, reveal=False)["name"], "at": signup.attended_at}


def _live(campaign: Campaign) -> dict:
    counts = selectors.campaign_attendance(campaign)  # one query per scan, not the full stats
    rate = counts.rate
    recent = selectors.attendance_recent(campaign.pk)
    return {
        "attended": counts.attended,
        "confirmed": counts.confirmed,
        "rate_percent": f"{rate * 100:.1f}" if rate is not None else None,
        "recent": [(s, member_contact(s.member, reveal=False)["name"]) for s in recent],
    }


@operator_required(Perm.ATTENDANCE_MARK)
@require_http_methods(["GET", "POST"])
def attendance(request: HttpRequest) -> HttpResponse:
    pick = CampaignPick(request.GET or None)
    campaign, outcome, form = None, None, CheckinForm()
    if pick.is_bound and pick.is_valid():
        try:
            campaign = selectors.campaign_get(pick.cleaned_data["campaign"])
        except DomainError as missing:
            pick.add_error("campaign", missing.message)
    if campaign is not None and request.method == "POST":
        form = CheckinForm(request.POST)
        if form.is_valid():
            outcome = _check_in(request, campaign, form.cleaned_data["code"])
            form = CheckinForm()  # ready for the next member
        else:  # blank or far too long: said in the result area, where the scanner's answers go too
            outcome = {"ok": False, "code": "core.invalid", "message": " ".join(form.errors["code"])}
    context = {
        "section": "attendance",
        "pick": pick,
        "campaigns": list(selectors.attendance_campaigns()),
        "campaign": campaign,
        "form": form,
        "outcome": outcome,
        **(_live(campaign) if campaign is not None else {}),
    }
    if request.htmx and request.method == "POST":
        return render(request, "console/attendance/_live.html", context)
    return render(request, "console/attendance/page.html", context)


urlpatterns = [path("attendance/", attendance, name="attendance")]
