"""Member look-up for support: by phone or external id through the audited look-up the API's
/members/lookup calls; the masked profile, sign-ups, timeline and who accessed the member's data;
withdraw a sign-up, correct the profile (each with a reason) and reveal the contact, one member at a
time with a purpose — each through the domain's service, audited as the operator.

The phone never travels in a URL (access logs, browser history): the look-up is a POST, and the
pages after it carry a ticket — the query sealed (AEAD) to this operator for TICKET_SECONDS — so a
reveal repeats the very look-up the API makes, and nothing on the page can be edited into another
member's."""

from __future__ import annotations

import json
import time

from cryptography.exceptions import InvalidTag
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from yunying.campaigns import selectors
from yunying.campaigns.models import LIVE_STATUSES, SignupStatus
from yunying.campaigns.services import admission
from yunying.console.access import operator_required
from yunying.console.fields import LocalDateField
from yunying.console.paging import ID_MAX
from yunying.core import crypto
from yunying.core.audit import pii_access_list
from yunying.core.errors import DomainError, ValidationFailed
from yunying.core.numbers import digits_int
from yunying.core.permissions import Perm
from yunying.core.purposes import MAX_NOTE, PURPOSE_LABELS, reveal_authorize
from yunying.members import services as members
from yunying.members.models import Gender, Member

TICKET_SECONDS = 30 * 60
_TICKET = "console.member_ticket"
ACCESS_ROWS = 50


class LookupForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=32, required=False)
    external_id = forms.CharField(label=gettext_lazy("External id"), max_length=64, required=False)

    def clean(self):
        cleaned = super().clean()
        phone, external = (cleaned.get("phone") or "").strip(), (cleaned.get("external_id") or "").strip()
        if not self.errors and bool(phone) == bool(external):
            raise forms.ValidationError(_("Give either a phone or an external id."))
        cleaned["phone"], cleaned["external_id"] = phone or None, external or None
        return cleaned


class RevealForm(forms.Form):
    purpose = forms.ChoiceField(label=gettext_lazy("Purpose"), choices=[("", "—"), *PURPOSE_LABELS.items()])
    purpose_note = forms.CharField(
        label=gettext_lazy("Detail (optional)"), max_length=MAX_NOTE, required=False
    )


class CorrectForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50, required=False)
    gender = forms.ChoiceField(
        label=gettext_lazy("Gender"),
        required=False,
        choices=[("", gettext_lazy("(unchanged)")), *Gender.choices],
    )
    birth_date = LocalDateField(label=gettext_lazy("Birth date"), required=False)
    region_code = forms.RegexField(
        label=gettext_lazy("Region code"), regex=r"^\d{6}$", required=False, max_length=6,
        error_messages={"invalid": gettext_lazy("Six digits (GB/T 2260), e.g. 440300.")},
    )  # fmt: skip
    email = forms.EmailField(label=gettext_lazy("E-mail"), max_length=254, required=False)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500)

    def changes(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "reason" and v not in (None, "")}

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.changes():
            raise forms.ValidationError(_("Change at least one field."))
        return cleaned


class WithdrawForm(forms.Form):
    target = forms.CharField(widget=forms.HiddenInput, max_length=60)
    reason = forms.CharField(label=gettext_lazy("Reason for the member"), max_length=500)
    note = forms.CharField(label=gettext_lazy("Internal note"), max_length=1000, required=False)

    def clean_target(self) -> tuple[int, int]:
        campaign_id, dash, signup_id = self.cleaned_data["target"].partition("-")
        pair = (digits_int(campaign_id), digits_int(signup_id))
        if not dash or not all(n is not None and 1 <= n <= ID_MAX for n in pair):
            raise forms.ValidationError(_("The selection is not valid."))
        return pair


# --- the ticket -------------------------------------------------------------------------------------


def _ticket_row(request: HttpRequest) -> str:
    return f"user:{request.user.pk}"


def _ticket_issue(request: HttpRequest, *, phone: str | None, external_id: str | None, member: Member) -> str:
    sealed = json.dumps(
        {"phone": phone, "external_id": external_id, "member": member.pk, "at": int(time.time())}
    )
    return crypto.encrypt(sealed, context=_TICKET, row=_ticket_row(request))


def _ticket_read(request: HttpRequest) -> dict | None:
    """The look-up this operator made, or None: missing, tampered, another operator's, or expired."""
    raw = request.POST.get("ticket", "")
    if not raw or len(raw) > 2000:
        return None
    try:
        ticket = json.loads(crypto.decrypt(raw, context=_TICKET, row=_ticket_row(request), alert=False))
    except (ValueError, InvalidTag):
        return None
    if time.time() - ticket["at"] > TICKET_SECONDS:
        return None
    return ticket


# --- pages ------------------------------------------------------------------------------------------


def _lookup_page(request: HttpRequest, form: LookupForm, *, status: int = 200) -> HttpResponse:
    return render(request, "console/members/lookup.html", {"section": "members", "form": form}, status=status)


def _member_page(
    request: HttpRequest,
    member: Member,
    *,
    ticket: str,
    revealed: bool = False,
    reveal_form: RevealForm | None = None,
    correct_form: CorrectForm | None = None,
    withdraw_form: WithdrawForm | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = request.actor
    signups = selectors.member_signups(member.pk)
    context = {
        "section": "members",
        "form": LookupForm(),
        "member": member,
        "profile": members.member_profile(member, reveal=revealed),
        "revealed": revealed,
        "signups": signups,
        "live_statuses": set(LIVE_STATUSES),
        "status_labels": dict(SignupStatus.choices),
        "timeline": selectors.member_timeline(member.pk),
        "accesses": list(pii_access_list(member_id=member.pk)[:ACCESS_ROWS]),
        "ticket": ticket,
        "can_reveal": actor.can(Perm.PII_REVEAL),
        "can_correct": actor.can(Perm.MEMBER_EDIT),
        "can_withdraw": actor.can(Perm.SIGNUP_WITHDRAW),
        "reveal_form": reveal_form or RevealForm(),
        "correct_form": correct_form or CorrectForm(),
        "withdraw_form": withdraw_form,
    }
    response = render(request, "console/members/member.html", context, status=status)
    response["Cache-Control"] = "no-store"  # personal data, masked or not, stays out of caches
    return response


def _again(request: HttpRequest, ticket: dict, raw_ticket: str, **forms_) -> HttpResponse:
    """The member's page once more after a refused action: the audited look-up again."""
    member = members.member_lookup(
        actor=request.actor, phone=ticket["phone"], external_id=ticket["external_id"]
    )
    return _member_page(request, member, ticket=raw_ticket, **forms_)


def _expired(request: HttpRequest) -> HttpResponse:
    messages.warning(request, _("The look-up has expired: look the member up again."))
    return _lookup_page(request, LookupForm())


@never_cache
@sensitive_post_parameters("phone", "external_id")
@operator_required(Perm.MEMBER_LOOKUP)
@require_http_methods(["GET", "POST"])
def member_lookup(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _lookup_page(request, LookupForm())
    form = LookupForm(request.POST)
    if not form.is_valid():
        return _lookup_page(request, form)
    phone, external_id = form.cleaned_data["phone"], form.cleaned_data["external_id"]
    try:
        member = members.member_lookup(actor=request.actor, phone=phone, external_id=external_id)
    except DomainError as refused:  # the API's answers: member.phone_invalid, member.not_found
        form.add_error("phone" if refused.data.get("field") == "phone" else None, refused.message)
        return _lookup_page(request, form)
    ticket = _ticket_issue(request, phone=phone, external_id=external_id, member=member)
    return _member_page(request, member, ticket=ticket)


@never_cache
@operator_required(Perm.PII_REVEAL)
@require_POST
def member_reveal(request: HttpRequest) -> HttpResponse:
    ticket = _ticket_read(request)
    if ticket is None:
        return _expired(request)
    raw = request.POST["ticket"]
    form = RevealForm(request.POST)
    if not form.is_valid():
        return _again(request, ticket, raw, reveal_form=form)
    try:
        purpose = reveal_authorize(
            request.actor, purpose=form.cleaned_data["purpose"], note=form.cleaned_data["purpose_note"]
        )  # one member
        member = members.member_lookup(
            actor=request.actor, phone=ticket["phone"], external_id=ticket["external_id"],
            reveal=True, purpose=purpose,
        )  # fmt: skip
    except DomainError as refused:  # core.rate_limited: one at a time must not become everyone
        form.add_error(None, refused.message)
        return _again(request, ticket, raw, reveal_form=form)
    return _member_page(request, member, ticket=raw, revealed=True)


@never_cache
@operator_required(Perm.MEMBER_EDIT)
@require_POST
def member_correct(request: HttpRequest) -> HttpResponse:
    ticket = _ticket_read(request)
    if ticket is None:
        return _expired(request)
    raw = request.POST["ticket"]
    form = CorrectForm(request.POST)
    if not form.is_valid():
        return _again(request, ticket, raw, correct_form=form)
    try:
        member = members.member_correct(
            member_id=ticket["member"], actor=request.actor, changes=form.changes(),
            reason=form.cleaned_data["reason"],
        )  # fmt: skip
    except ValidationFailed as invalid:
        for error in invalid.errors:
            form.add_error(error["field"] if error["field"] in form.fields else None, error["message"])
        return _again(request, ticket, raw, correct_form=form)
    except DomainError as refused:
        form.add_error("region_code" if refused.code == "member.region_invalid" else None, refused.message)
        return _again(request, ticket, raw, correct_form=form)
    messages.success(request, _("Profile corrected."))
    return _member_page(request, member, ticket=raw)


@never_cache
@operator_required(Perm.SIGNUP_WITHDRAW)
@require_POST
def member_withdraw(request: HttpRequest) -> HttpResponse:
    ticket = _ticket_read(request)
    if ticket is None:
        return _expired(request)
    raw = request.POST["ticket"]
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _again(request, ticket, raw, withdraw_form=form)
    campaign_id, signup_id = form.cleaned_data["target"]
    # Only this member's sign-ups: the ticket names the member the operator looked up.
    if not any(
        s.pk == signup_id and s.campaign_id == campaign_id for s in selectors.member_signups(ticket["member"])
    ):
        form.add_error(None, DomainError("signup.not_found").message)
        return _again(request, ticket, raw, withdraw_form=form)
    try:
        signup = admission.signup_withdraw(
            campaign_id=campaign_id, signup_id=signup_id, actor=request.actor,
            reason=form.cleaned_data["reason"], note=form.cleaned_data["note"],
        )  # fmt: skip
    except DomainError as refused:
        form.add_error(None, refused.message)
        return _again(request, ticket, raw, withdraw_form=form)
    messages.success(request, _("Sign-up %(id)d withdrawn.") % {"id": signup.pk})
    return _member_page(request, signup.member, ticket=raw)


urlpatterns = [
    path("members/", member_lookup, name="member_lookup"),
    path("members/reveal/", member_reveal, name="member_reveal"),
    path("members/correct/", member_correct, name="member_correct"),
    path("members/withdraw/", member_withdraw, name="member_withdraw"),
]
