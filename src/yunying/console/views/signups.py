"""A campaign's sign-ups (issue 9): filters, pages, personal data masked; one member revealed at a
time, with a purpose, by roles holding pii.reveal — the same path as the API's
GET /campaigns/{id}/signups/{sid}?reveal=true (core.purposes.reveal_authorize, then the presenter,
which writes the access-log row the member sees). Revealed values are in that one response only."""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from yunying.campaigns import selectors
from yunying.campaigns.exports import CHANNEL_LABELS, STATUS_LABELS
from yunying.campaigns.models import Channel, SignupStatus
from yunying.campaigns.presenters import PresentedPage, signups_present
from yunying.console.access import operator_required
from yunying.console.fields import LocalDateField
from yunying.console.views.campaign_pages import (
    answers_labelled,
    campaign_load,
    channel_label,
    gender_label,
    not_found,
    page_context,
    status_label,
)
from yunying.core.errors import DomainError, ValidationFailed
from yunying.core.permissions import Perm
from yunying.core.purposes import MAX_NOTE, PURPOSE_LABELS, reveal_authorize
from yunying.members.regions import region_label

PAGE_SIZE = 50
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)

PURPOSE_CHOICES = [("", gettext_lazy("Choose a purpose")), *PURPOSE_LABELS.items()]


def _choices(labels: dict, values) -> list[tuple[str, str]]:
    return [("", gettext_lazy("Any"))] + [(v, labels.get(v, v)) for v in values]


class SignupFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), required=False, choices=_choices(STATUS_LABELS, SignupStatus.values)
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), required=False, choices=_choices(CHANNEL_LABELS, Channel.values)
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    date_from = LocalDateField(
        label=gettext_lazy("Signed up from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = LocalDateField(
        label=gettext_lazy("Signed up until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def _clean_day(self, name: str) -> date | None:
        day = self.cleaned_data.get(name)
        if day is not None and not EARLIEST <= day <= LATEST:
            raise forms.ValidationError(
                _("Enter a date between %(first)s and %(last)s.")
                % {"first": EARLIEST.isoformat(), "last": LATEST.isoformat()}
            )
        return day

    def clean_date_from(self) -> date | None:
        return self._clean_day("date_from")

    def clean_date_to(self) -> date | None:
        return self._clean_day("date_to")


class RevealForm(forms.Form):
    purpose = forms.ChoiceField(
        label=gettext_lazy("Why do you need to see this member's data?"),
        choices=PURPOSE_CHOICES,
        help_text=gettext_lazy("The member can see who looked at their data and why."),
    )
    note = forms.CharField(
        label=gettext_lazy("Note (optional)"),
        required=False,
        max_length=MAX_NOTE,
        help_text=gettext_lazy("For example the ticket number of the member's request."),
    )


def _row(presented: dict) -> dict:
    """A presented sign-up with the words operators read instead of codes."""
    member = presented.get("member") or {}
    region = member.get("region_code") or ""
    return presented | {
        "status_label": status_label(presented["status"]),
        "channel_label": channel_label(presented["channel"]),
        "gender_label": gender_label(member.get("gender", "")),
        "region_label": region_label(region) if region else "",
    }


@operator_required(Perm.SIGNUP_VIEW)
def campaign_signups(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_load(campaign_id)
    if campaign is None:
        return not_found(request)
    form = SignupFilterForm(request.GET or None)
    if not request.actor.can(Perm.MEMBER_LOOKUP):  # a search by phone is a look-up (members.member_search)
        del form.fields["phone"]
    form.is_valid()  # a wrong value is shown as its field's error; the valid ones still filter
    filters = getattr(form, "cleaned_data", {})
    try:
        rows = selectors.signup_search(
            campaign_id=campaign.pk,
            status=filters.get("status") or None,
            channel=filters.get("channel") or None,
            phone=filters.get("phone") or None,
            date_from=filters.get("date_from"),
            date_to=filters.get("date_to"),
            actor=request.actor,
        )
    except DomainError as err:  # member.phone_invalid, core.rate_limited
        form.add_error("phone", err.message)
        rows = selectors.signup_list(campaign_id=campaign.pk).none()
    pages = Paginator(PresentedPage(rows, reveal=False, actor=request.actor, purpose=""), PAGE_SIZE)
    page = pages.get_page(request.GET.get("page"))  # past the end or not a number: the nearest page
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "console/signups/list.html",
        page_context(request, campaign, "signups")
        | {
            "form": form,
            "page": page,
            "rows": [_row(r) for r in page.object_list],
            "query": query.urlencode(),
            "total": pages.count,
        },
    )


@never_cache  # the revealed values live in this one response: no cache keeps them
@operator_required(Perm.PII_REVEAL)
def signup_reveal(request: HttpRequest, campaign_id: int, signup_id: int) -> HttpResponse:
    """GET: the purpose form; POST: authorize, reveal once, log the access."""
    campaign = campaign_load(campaign_id)
    if campaign is None:
        return not_found(request)
    try:
        signup = selectors.signup_get(campaign_id=campaign.pk, signup_id=min(signup_id, 2**63 - 1))
    except DomainError:
        return not_found(request, _("Sign-up not found."))
    form = RevealForm(request.POST or None)
    revealed = None
    if request.method == "POST" and form.is_valid():
        try:
            # The API's path (api/signups.py get_signup): authorize, then present with the purpose.
            purpose = reveal_authorize(
                request.actor,
                purpose=form.cleaned_data["purpose"],
                note=form.cleaned_data["note"],
                bulk=False,
            )
            revealed = _row(signups_present([signup], reveal=True, actor=request.actor, purpose=purpose)[0])
        except ValidationFailed as err:
            for error in err.errors:
                form.add_error("purpose" if error["field"] == "purpose" else None, error["message"])
        except DomainError as err:  # core.rate_limited: too many single reveals this hour
            form.add_error(None, err.message)
    masked = revealed or _row(signups_present([signup], reveal=False)[0])
    answers = answers_labelled(campaign.form, masked["answers"])
    status = 400 if request.method == "POST" and revealed is None else 200
    return render(
        request,
        "console/signups/reveal.html",
        page_context(request, campaign, "signups")
        | {"form": form, "row": masked, "answers": answers, "revealed": revealed is not None},
        status=status,
    )


urlpatterns = [
    path("campaigns/<int:campaign_id>/signups/", campaign_signups, name="campaign_signups"),
    path(
        "campaigns/<int:campaign_id>/signups/<int:signup_id>/reveal/",
        signup_reveal,
        name="campaign_signup_reveal",
    ),
]
