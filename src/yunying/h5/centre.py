"""Member centre pages: privacy & consent per purpose (M3, N3), the profile questions of a moment
(M2) and the invite link (M4).

Thin: parse with the forms, call members.consent / members.profiling, render."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from yunying.commerce.selectors import member_has_orders
from yunying.core.errors import CoreError, DomainError, ValidationFailed
from yunying.h5 import forms
from yunying.h5.session import acquisition_remember, member_of, member_required, safe_next
from yunying.members.consent import OPTIONAL_PURPOSES, consent_change, consent_history, consent_state
from yunying.members.errors import ConsentError, IdentityCheckError
from yunying.members.identity import identity_check
from yunying.members.models import ConsentPurpose, QuestionnaireMoment
from yunying.members.profiling import answers_submit, questions_pending
from yunying.members.services import invite_code_normalize


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, {"member": member_of(request), **context}, status=status)


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def profile_moments(member) -> list[str]:
    """The moments whose questions the member centre offers now."""
    moments = [QuestionnaireMoment.MEMBER_CENTRE, QuestionnaireMoment.AFTER_SIGNUP]
    if member_has_orders(member.pk):
        moments.insert(0, QuestionnaireMoment.AFTER_FIRST_ORDER)
    return moments


def profile_card(member, moments: list[str]) -> dict | None:
    """The first moment with questions pending, for a card linking to them (None: nothing to ask)."""
    for moment in moments:
        pending = questions_pending(member, moment)
        if pending:
            return {"moment": moment, "count": len(pending)}
    return None


def invite_url(request: HttpRequest, member) -> str:
    return request.build_absolute_uri(reverse("h5:invite", args=[member.invite_code]))


# --- privacy & consent ------------------------------------------------------------------------------


@member_required(consent=False)
@require_http_methods(["GET", "POST"])
def consent_page(request: HttpRequest) -> HttpResponse:
    """Each purpose with its state and one button to change it (withdrawing as easy as granting),
    and the history of every change. A change is recorded and in force before the page answers.
    Open also to a member whose accepted notice is out of date: withdrawing never waits for anything
    (granting then asks for the new notice first, consent.notice_not_accepted)."""
    member = request.member
    error = None
    status = 200
    if request.method == "POST":
        form = forms.ConsentChangeForm(request.POST)
        status = 400  # a refused change answers 400 with the message (a change redirects)
        if not form.is_valid():
            malformed = DomainError(
                ConsentError.PURPOSE_UNKNOWN if "purpose" in form.errors else CoreError.INVALID
            )
            error = {"code": malformed.code, "message": malformed.message}
        else:
            try:
                consent_change(
                    member=member,
                    purpose=form.cleaned_data["purpose"],
                    granted=form.cleaned_data["granted"],
                    channel="h5",
                    client_ip=_client_ip(request),
                )
            except DomainError as err:
                error = {"code": err.code, "message": err.message}
            else:
                return redirect("h5:consent")
    state = consent_state(member)
    purposes = [
        {
            "key": str(p),
            "label": ConsentPurpose(p).label,
            "granted": state[str(p)],
            "optional": p in OPTIONAL_PURPOSES,
        }
        for p in ConsentPurpose
    ]
    return _page(
        request,
        "h5/consent.html",
        {"purposes": purposes, "history": consent_history(member)[:50], "error": error},
        status=status,
    )


# --- real-name check -------------------------------------------------------------------------------


@member_required()
@require_http_methods(["GET", "POST"])
def identity_page(request: HttpRequest) -> HttpResponse:
    """The real-name check (sensitive information: only with its separate consent). The number is
    checked and forgotten; the page shows only the result and when."""
    member = request.member
    granted = consent_state(member)[ConsentPurpose.SENSITIVE]
    form, error, status = forms.IdentityCheckForm(), None, 200
    if request.method == "POST":
        form = forms.IdentityCheckForm(request.POST)
        if form.is_valid():
            try:
                identity_check(
                    member=member,
                    name=form.cleaned_data["name"],
                    number=form.cleaned_data["number"],
                    sensitive_granted=granted,
                )
            except DomainError as err:
                error, status = {"code": err.code, "message": err.message, **err.data}, 400
                if err.code == CoreError.RATE_LIMITED:
                    status = 429
            else:
                return redirect("h5:identity")
        else:
            which = "name" if "name" in form.errors else "number"
            refused = DomainError(
                IdentityCheckError.NAME_INVALID if which == "name" else IdentityCheckError.NUMBER_INVALID
            )
            error, status = {"code": refused.code, "message": refused.message}, 400
    member.refresh_from_db(fields=["identity_check", "identity_checked_at"])
    form = forms.IdentityCheckForm()  # the number is never echoed back into the page
    return _page(
        request,
        "h5/identity.html",
        {"form": form, "granted": granted, "member": member, "error": error},
        status=status,
    )


# --- profile questions ------------------------------------------------------------------------------


@member_required()
@require_http_methods(["GET", "POST"])
def questions(request: HttpRequest, moment: str) -> HttpResponse:
    if moment not in QuestionnaireMoment.values:
        return _page(request, "h5/not_found.html", {}, status=404)
    member = request.member
    next_path = safe_next(request, reverse("h5:me"))
    pending = questions_pending(member, moment)
    if not pending:
        return redirect(next_path)
    form = forms.ProfileQuestionsForm(request.POST or None, questions=pending)
    if request.method == "POST" and form.is_valid():
        skip = request.POST.get("action") == "skip"
        try:
            answers_submit(
                member=member,
                moment=moment,
                answers={} if skip else form.answers(),
                declined={q.pk for q in pending} if skip else set(),
            )
        except ValidationFailed as failed:
            for error in failed.errors:
                if error["field"] in form.fields:
                    form.add_error(error["field"], error["message"])
        except DomainError as err:
            form.add_error(None, err.message)
        else:
            return redirect(next_path)
    return _page(request, "h5/questions.html", {"form": form, "moment": moment, "next": next_path})


# --- invite link ------------------------------------------------------------------------------------


@require_GET
def invite(request: HttpRequest, code: str) -> HttpResponse:
    """Someone's invite link: kept in the session until this visitor's first sign-in registers them
    (M4). An unknown code, or a member following their own link, is simply not recorded: the visitor
    sees the same pages either way."""
    normalized = invite_code_normalize(code[:40])
    if normalized and member_of(request) is None:
        acquisition_remember(request, invite_code=normalized)
    return redirect("h5:index")
