"""Member pages (mobile H5): campaign landing, SMS sign-in, privacy notice and consent, the sign-up
form, the member's sign-ups with withdrawal and the attendance QR code.

Thin: parse with the forms, call the services the API calls (campaigns.services.admission,
members.signin, members.consent), render. A DomainError becomes a message or a field error with its
stable code on the page, never a 500."""

from __future__ import annotations

from contextlib import suppress
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yunying.campaigns import selectors
from yunying.campaigns.eligibility import eligibility_parse
from yunying.campaigns.models import LIVE_STATUSES, Campaign, CampaignStatus, SignupStatus
from yunying.campaigns.questions import answers_validate, form_parse
from yunying.campaigns.services import admission, refusals
from yunying.core.errors import DomainError, ValidationFailed
from yunying.core.ratelimit import client_key, ratelimit_hit
from yunying.h5 import forms, guard
from yunying.h5.centre import invite_url, profile_card, profile_moments
from yunying.h5.session import (
    PENDING_CONSENT,
    acquisition_of,
    acquisition_remember,
    member_actor,
    member_login,
    member_logout,
    member_of,
    member_required,
    pending_consent,
    safe_next,
)
from yunying.h5.sms import sms_code_deliver
from yunying.h5.wording import to_the_member
from yunying.loyalty.selectors import points_summary
from yunying.loyalty.tiers import tier_progress
from yunying.members.consent import consent_current, consent_latest, consent_record, policy_version
from yunying.members.errors import SigninError
from yunying.members.models import QuestionnaireMoment
from yunying.members.profiling import questions_pending
from yunying.members.services import Acquisition, Profile, member_phone, member_risk_ref, phone_mask
from yunying.members.signin import (
    member_get,
    member_signin,
    signin_code_send,
    signin_code_verify,
    signin_phone,
)
from yunying.promotions.selectors import member_coupons_usable_count
from yunying.risk.errors import RiskError
from yunying.risk.rules import Action, reason_label
from yunying.risk.services import case_ask, challenge_pass

VISIBLE = (CampaignStatus.PUBLISHED, CampaignStatus.CLOSED, CampaignStatus.FINISHED)
MAX_ID = 2**63 - 1

STATUS_LABELS = dict(SignupStatus.choices)
STATUS_STYLE = {
    SignupStatus.CONFIRMED: "success",
    SignupStatus.WAITLISTED: "warning",
    SignupStatus.PENDING_REVIEW: "info",
    SignupStatus.REGISTERED: "info",
}


def _page(
    request: HttpRequest, template: str, context: dict | None = None, status: int = 200
) -> HttpResponse:
    context = {"member": member_of(request), "status_labels": STATUS_LABELS, **(context or {})}
    return render(request, template, context, status=status)


def not_found(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """A friendly page, not the API's JSON, for anything unknown under /m/."""
    return _page(request, "h5/not_found.html", status=404)


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _campaign(campaign_id: int) -> Campaign | None:
    """A campaign members may see: published, or closed / finished (read-only)."""
    if not 0 < campaign_id <= MAX_ID:
        return None
    try:
        campaign = selectors.campaign_get(campaign_id)
    except DomainError:
        return None
    return campaign if campaign.status in VISIBLE else None


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    acquisition_remember(request)
    published = selectors.campaign_list(status=CampaignStatus.PUBLISHED, drafts=False)[:50]
    campaigns = [c for c in published if "h5" in (c.channels or [])][:20]
    return _page(request, "h5/index.html", {"campaigns": campaigns})


def _utm(request: HttpRequest) -> dict:
    return {k: request.GET.get(f"utm_{k}", "")[:100] for k in ("source", "medium", "campaign")}


@require_GET
def landing(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(campaign_id)
    if campaign is None:
        return not_found(request)
    acquisition_remember(request)
    signup = _live_signup(request, campaign)
    query = request.GET.urlencode() if any(_utm(request).values()) else ""
    return _page(
        request,
        "h5/landing.html",
        {"campaign": campaign, "preview": False, "signup": signup, "utm_query": query},
    )


def _live_signup(request: HttpRequest, campaign: Campaign):
    member = member_of(request)
    if member is None:
        return None
    return next(
        (
            s
            for s in selectors.member_signups(member.pk)
            if s.campaign_id == campaign.pk and s.status in LIVE_STATUSES
        ),
        None,
    )


# --- sign-in ----------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def signin(request: HttpRequest) -> HttpResponse:
    """Phone, then the SMS code. The privacy notice comes first: nothing, not even the phone, is
    taken before the member agreed (M3)."""
    next_path = safe_next(request, reverse("h5:me"))
    if member_of(request) is not None:
        return redirect(next_path)
    acquisition_remember(request)
    if pending_consent(request) is None:
        return redirect(f"{reverse('h5:privacy')}?{urlencode({'next': request.get_full_path()})}")
    context = {"next": next_path, "phone_form": forms.PhoneForm(), "code_form": None}
    if request.method == "POST" and request.POST.get("step") == "verify":
        return _verify(request, context)
    if request.method == "POST":
        form = forms.PhoneForm(request.POST)
        context["phone_form"] = form
        if form.is_valid():
            try:
                code_send(request, form.cleaned_data["phone"])
            except DomainError as err:
                _refusal(context, err, form, "phone")
            else:
                context["code_form"] = forms.CodeForm(initial={"phone": form.cleaned_data["phone"]})
                context["sent_to"] = _masked_phone(form.cleaned_data["phone"])
    return _page(request, "h5/signin.html", context)


SMS_REFUSED = "risk.sms_refused"


def code_send(request: HttpRequest, phone: str) -> None:
    """Send a sign-in code to `phone` once risk control agrees (R1: sms.send), within the send limits.

    Raises: member.phone_*, risk.sms_refused (nothing sent), and what signin_code_send raises."""
    e164 = signin_phone(phone)
    verdict = guard.sms_send_verdict(request, e164)
    if guard.sms_send_refused(verdict):
        message = _(
            "We cannot send a code to this number right now. Please try again later; if this keeps happening, contact customer service."
        )
        reasons = guard.reasons_shown([reason_label(r) for r in verdict.reasons if r.get("points")])
        if reasons:  # the explanation (PIPL Art. 24): which of the rules it met
            message = _("%(message)s Why: %(reasons)s.") % {
                "message": message,
                "reasons": _("; ").join(reasons),
            }
        raise DomainError(SMS_REFUSED, message)
    signin_code_send(phone=e164, client_ip=_client_ip(request), deliver=sms_code_deliver)


_ACQUISITION_KEYS = ("utm_source", "utm_medium", "utm_campaign", "invite_code")


def _masked_phone(raw: str) -> str:
    try:
        return phone_mask(signin_phone(raw))
    except DomainError:
        return ""


def _refusal(context: dict, err: DomainError, form, field: str) -> None:
    """A refusal on the page: on its field when it has one, else as the page's message."""
    if err.data.get("field") == field or err.code.startswith("member.phone"):
        form.add_error(field, err.message)
    else:
        context["error"] = {"code": err.code, "message": err.message, **err.data}


def _verify(request: HttpRequest, context: dict) -> HttpResponse:
    form = forms.CodeForm(request.POST)
    context["code_form"] = form
    if form.is_valid():
        phone = form.cleaned_data["phone"]
        context["sent_to"] = _masked_phone(phone)
        context["phone_form"] = forms.PhoneForm(initial={"phone": phone})
        started = timezone.now()
        kept = acquisition_of(request)
        try:
            member = member_signin(
                phone=phone,
                code=form.cleaned_data["code"],
                acquisition=Acquisition(**{k: str(kept.get(k) or "") for k in _ACQUISITION_KEYS}),
            )
        except DomainError as err:
            if err.code.startswith("member.phone"):
                context["code_form"] = None
                context["phone_form"] = forms.PhoneForm({"phone": phone})
                context["phone_form"].add_error("phone", err.message)
            else:
                form.add_error("code", err.message)
                context["error_code"] = err.code
                context["attempts_left"] = err.data.get("attempts_left")
            return _page(request, "h5/signin.html", context)
        pending = pending_consent(request)
        consent_record(
            member=member,
            version=pending["version"],
            marketing=pending["marketing"],
            analytics=bool(pending.get("analytics")),
            sensitive=pending["sensitive"],
            client_ip=_client_ip(request),
            grants_only=True,
        )
        request.session.pop(PENDING_CONSENT, None)
        refused = _registration_refused(request, member, new=member.created_at >= started)
        if refused is not None:
            return refused
        member_login(request, member)
        # Registered just now (M1): the questions of "after sign-up" come first, if there are any.
        if member.created_at >= started and questions_pending(member, QuestionnaireMoment.AFTER_SIGNUP):
            url = reverse("h5:questions", args=[QuestionnaireMoment.AFTER_SIGNUP])
            return redirect(f"{url}?{urlencode({'next': context['next']})}")
        return redirect(context["next"])
    return _page(request, "h5/signin.html", context)


def _registration_refused(request: HttpRequest, member, *, new: bool) -> HttpResponse | None:
    """Risk control judges a member registered just now (R1: member.register). A block keeps them out
    (their row exists, the decision is theirs to ask a person about); review lets them in while a
    person looks; a challenge is met by the SMS code they have just proved. A member whose
    registration was blocked stays out on later sign-ins until a person approves it."""
    if new:
        verdict = guard.register_judge(request, member)
        if verdict.action == Action.CHALLENGE and verdict.challenge:
            with suppress(DomainError):  # expired in the meantime: nothing waits on it
                challenge_pass(token=verdict.challenge, actor=member_actor(member))
        if verdict.action != Action.BLOCK:
            return None
        block = {"code": "risk.blocked", "decision": verdict.decision_id, "reasons": guard.reasons_shown([reason_label(r) for r in verdict.reasons])}  # fmt: skip
    else:
        decision = guard.registration_refused(member)
        if decision is None:
            return None
        block = guard.decision_block(decision)
    request.session[guard.BLOCKED_MEMBER] = {"member": member.pk, "decision": block["decision"]}
    return _page(request, "h5/risk_blocked.html", {"risk_block": block, "next": reverse("h5:index")})


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    member_logout(request)
    return redirect("h5:index")


# --- privacy notice ---------------------------------------------------------------------------------


def _policy_template(version: str):
    language = (get_language() or "zh-hans").lower()
    try:
        return select_template(
            [f"h5/privacy/{version}.{language}.html", f"h5/privacy/{version}.zh-hans.html"]
        )
    except TemplateDoesNotExist:
        return None


@require_http_methods(["GET", "POST"])
def privacy(request: HttpRequest) -> HttpResponse:
    """The notice in force and the member's acceptance: one required box, and two separate,
    unticked, optional ones (marketing; sensitive data). A signed-in member's choice is recorded at
    once; before sign-in it waits in the session until the member row exists."""
    version = policy_version()
    member = member_of(request)
    if member is None:
        acquisition_remember(request)
    next_path = safe_next(request, reverse("h5:me") if member else reverse("h5:signin"))
    form = forms.ConsentForm(initial={"version": version})
    error = None
    if request.method == "POST":
        form = forms.ConsentForm(request.POST)
        if form.is_valid():
            choice = {
                "version": form.cleaned_data["version"],
                "marketing": form.cleaned_data["marketing"],
                "analytics": form.cleaned_data["analytics"],
                "sensitive": form.cleaned_data["sensitive"],
            }
            if choice["version"] != version:  # the page was read before the notice changed
                form = forms.ConsentForm(initial={"version": version})
                stale = DomainError(SigninError.CONSENT_STALE)
                error = {"code": stale.code, "message": stale.message}
            elif member is not None:
                consent_record(member=member, client_ip=_client_ip(request), **choice)
                return redirect(next_path)
            else:
                request.session[PENDING_CONSENT] = choice
                signin_url = reverse("h5:signin")
                if next_path.startswith(signin_url):
                    return redirect(next_path)
                return redirect(f"{signin_url}?{urlencode({'next': next_path})}")
    latest = consent_latest(member) if member else None
    return _page(
        request,
        "h5/privacy.html",
        {
            "form": form,
            "version": version,
            "policy": _policy_template(version),
            "latest": latest,
            "renewal": latest is not None and latest.policy_version != version,
            "error": error,
            "next": next_path,
        },
    )


@require_GET
def policy_text(request: HttpRequest) -> HttpResponse:
    return _page(
        request, "h5/policy.html", {"version": policy_version(), "policy": _policy_template(policy_version())}
    )


# --- sign-up ----------------------------------------------------------------------------------------

PROFILE_FOR_RULE = (
    ("birth_date", ("min_age", "max_age")),
    ("gender", ("genders",)),
    ("region_code", ("regions_allow", "regions_deny")),
)


def _profile_fields(campaign: Campaign) -> tuple[str, ...]:
    """The profile facts the campaign's rules read: asked on the form, so a refusal can name them."""
    try:
        rules = eligibility_parse(campaign.eligibility)
    except DomainError:
        return ()
    wanted = []
    for name, attrs in PROFILE_FOR_RULE:
        if any(getattr(rules, a) not in (None, []) for a in attrs):
            wanted.append(name)
    return tuple(wanted)


def _signup_form(request: HttpRequest, campaign: Campaign, data=None) -> forms.SignupForm:
    member = request.member
    initial = {
        "profile_birth_date": member.birth_date.isoformat() if member.birth_date else "",
        "profile_gender": member.gender if member.gender != "unknown" else "",
        "profile_region_code": member.region_code,
        **{f"utm_{k}": v for k, v in _utm(request).items()},
    }
    return forms.SignupForm(
        data, questions=form_parse(campaign.form), profile=_profile_fields(campaign), initial=initial
    )


@member_required()
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(campaign_id)
    if campaign is None:
        return not_found(request)
    held = _live_signup(request, campaign)
    if held is not None:
        return redirect("h5:signup_detail", public_id=held.public_id)
    form = _signup_form(request, campaign, request.POST if request.method == "POST" else None)
    context = {"campaign": campaign, "form": form}
    if request.method == "POST" and form.is_valid():
        created = _create(request, campaign, form, context)
        if created is not None:
            return redirect("h5:signup_detail", public_id=created.public_id)
        if context.get("challenge_required"):
            return redirect("h5:signup_verify", campaign_id=campaign.pk)
    # 200 with the errors on the page, not 422: a browser logs any 4xx document as a console error.
    return _page(request, "h5/signup.html", context)


def _create(
    request: HttpRequest, campaign: Campaign, form: forms.SignupForm, context: dict, *, challenge: str = ""
):
    try:
        profile = form.profile_values()
    except ValueError:
        form.add_error("profile_birth_date", DomainError("member.birth_date_invalid").message)
        return None
    data = form.cleaned_data
    ip = _client_ip(request)
    try:
        # Outermost, as the API's handler: a refusal operators watch (ineligible, duplicate,
        # rate-limited) is recorded for the live monitor after the refused work has ended.
        with refusals.refusals_recorded(campaign_id=campaign.pk, channel="h5", member_id=request.member.pk):
            if ip:  # the limits the API applies to one client and to one member (S7)
                ratelimit_hit(
                    scope=f"signup_ip:{campaign.pk}",
                    key=client_key(ip),
                    limit=settings.RATE_LIMITS["signup_client_ip"],
                )
                ratelimit_hit(
                    scope="signup_member_h5",
                    key=str(request.member.pk),
                    limit=settings.RATE_LIMITS["signup_member"],
                )
            return admission.signup_create(
                campaign_id=campaign.pk,
                identity=admission.MemberIdentity(
                    phone=member_phone(request.member), profile=Profile(**profile)
                ),
                answers=form.answers(),
                source=admission.Source(
                    channel="h5",
                    utm_source=data.get("utm_source") or "",
                    utm_medium=data.get("utm_medium") or "",
                    utm_campaign=data.get("utm_campaign") or "",
                    client_ip=ip,
                    user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
                    form_fill_ms=data.get("form_fill_ms"),
                    device_id=guard.device_of(request),
                    risk_challenge=challenge,
                ),
                actor=request.actor,
            )
    except ValidationFailed as failed:
        unplaced = []
        for error in failed.errors:
            name = form.field_for(error["field"])
            if name:
                form.add_error(name, error["message"])
            else:
                unplaced.append(error["message"])
        if unplaced:
            context["refusal"] = {"code": failed.code, "message": " ".join(unplaced)}
    except DomainError as err:
        name = form.field_for(str(err.data.get("field", ""))) if err.data.get("field") else None
        if err.code == RiskError.BLOCKED:
            context["risk_block"] = guard.risk_block(err)
            context["next"] = reverse("h5:landing", args=[campaign.pk])  # after asking for a review
        elif err.code == RiskError.CHALLENGE_REQUIRED:
            # The answers wait in the session (server-side) for the verification, never in the page:
            # the retry sends exactly what was submitted, and signup_create validates it again.
            request.session[guard.PENDING_SIGNUP] = {
                "campaign": campaign.pk,
                "token": str(err.data.get("challenge", "")),
                "post": {key: form.data.getlist(key) for key in form.data if key != "csrfmiddlewaretoken"},
            }
            context["challenge_required"] = True
        elif name:
            form.add_error(name, err.message)
        else:
            context["refusal"] = {
                "code": err.code,
                "message": to_the_member(err.code, err.message),
                "reasons": [
                    {**reason, "message": to_the_member(reason.get("code", ""), reason.get("message", ""))}
                    for reason in err.data.get("reasons", [])
                ],
            }
    return None


@member_required()
@require_POST
def signup_check(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """As-you-type check of one question (htmx): the answer rules of the API, on this answer alone."""
    campaign = _campaign(campaign_id)
    if campaign is None:
        return not_found(request)
    key = request.GET.get("field", "")[:60]
    form = _signup_form(request, campaign, request.POST)
    questions = [q for q in form.questions if q.key == key]
    message = ""
    if questions and form.is_valid():
        answer = form.answers().get(key)
        try:
            answers_validate(questions, {} if answer is None else {key: answer})
        except ValidationFailed as failed:
            message = " ".join(e["message"] for e in failed.errors)
    return render(request, "h5/_field_error.html", {"name": form.field_for(key) or key, "message": message})


# --- risk control: the extra verification and a human review -----------------------------------------


def _pending_signup(request: HttpRequest, campaign: Campaign) -> dict | None:
    pending = request.session.get(guard.PENDING_SIGNUP)
    if isinstance(pending, dict) and pending.get("campaign") == campaign.pk and pending.get("token"):
        return pending
    return None


@member_required()
@require_http_methods(["GET", "POST"])
def signup_verify(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Risk control asked for an extra verification of a sign-up (R2): an SMS code to the member's own
    phone, by the sign-in code's machinery and limits; once it is right the challenge is passed and
    the sign-up kept in the session is submitted again with its token."""
    campaign = _campaign(campaign_id)
    if campaign is None:
        return not_found(request)
    pending = _pending_signup(request, campaign)
    if pending is None:
        return redirect("h5:signup", campaign_id=campaign.pk)
    phone = member_phone(request.member) or ""
    context = {"campaign": campaign, "sent_to": phone_mask(phone) if phone else "", "code_form": None}
    step = request.POST.get("step") if request.method == "POST" else None
    if step == "send":
        try:
            code_send(request, phone)
        except DomainError as err:
            context["error"] = {"code": err.code, "message": to_the_member(err.code, err.message), **err.data}
        else:
            context["code_form"] = forms.CodeForm(initial={"phone": ""})
    elif step == "verify":
        form = forms.CodeForm({"phone": "-", "code": request.POST.get("code", "")})
        context["code_form"] = form
        if form.is_valid():
            try:
                signin_code_verify(phone=phone, code=form.cleaned_data["code"])
                challenge_pass(token=pending["token"], actor=request.actor)
            except DomainError as err:
                if err.code == RiskError.CHALLENGE_INVALID:
                    request.session.pop(guard.PENDING_SIGNUP, None)
                    context["code_form"] = None
                    context["error"] = {"code": err.code, "message": err.message}
                    context["expired"] = True
                else:
                    form.add_error("code", err.message)
                    context["attempts_left"] = err.data.get("attempts_left")
                return _page(request, "h5/risk_verify.html", context)
            return _resubmit(request, campaign, pending)
    return _page(request, "h5/risk_verify.html", context)


def _resubmit(request: HttpRequest, campaign: Campaign, pending: dict) -> HttpResponse:
    request.session.pop(guard.PENDING_SIGNUP, None)
    data = QueryDict(mutable=True)
    for key, values in (pending.get("post") or {}).items():
        data.setlist(str(key), [str(value) for value in values])
    form = _signup_form(request, campaign, data)
    context = {"campaign": campaign, "form": form}
    if form.is_valid():
        created = _create(request, campaign, form, context, challenge=pending["token"])
        if created is not None:
            return redirect("h5:signup_detail", public_id=created.public_id)
        if context.get("challenge_required"):
            return redirect("h5:signup_verify", campaign_id=campaign.pk)
    return _page(request, "h5/signup.html", context)


def _asking_member(request: HttpRequest):
    """The signed-in member, or the one whose registration risk control just refused (not signed in)."""
    member = member_of(request)
    if member is not None:
        return member
    blocked = request.session.get(guard.BLOCKED_MEMBER)
    if isinstance(blocked, dict) and isinstance(blocked.get("member"), int):
        return member_get(blocked["member"])
    return None


@require_POST
def risk_ask(request: HttpRequest, decision_id: int) -> HttpResponse:
    """The member asks a person to look at risk control's decision about them (PIPL Art. 24). Only
    their own: another member's decision is as unknown as one that does not exist."""
    member = _asking_member(request)
    if member is None:
        return redirect(f"{reverse('h5:signin')}?{urlencode({'next': reverse('h5:me')})}")
    if not 0 < decision_id <= MAX_ID:
        return not_found(request)
    note = request.POST.get("note", "")[:500]
    try:
        case_ask(decision_id=decision_id, member_ref=member_risk_ref(member), note=note)
    except DomainError as err:
        if err.code != RiskError.REVIEW_ALREADY_ASKED:
            return not_found(request)
        already = True
    else:
        already = False
    return _page(
        request,
        "h5/risk_asked.html",
        {
            "already": already,
            "next": safe_next(request, reverse("h5:me" if member_of(request) else "h5:index")),
        },
    )


# --- my sign-ups -------------------------------------------------------------------------------------


@member_required(consent=False)
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "h5/me.html",
        {
            "signups": selectors.member_signups(request.member.pk),
            "phone": _own_phone(request),
            "invite_url": invite_url(request, request.member),
            "tier": tier_progress(request.member.pk),
            "points": points_summary(request.member.pk),
            "coupons_usable": member_coupons_usable_count(request.member.pk),
            # Questions only once the notice in force is accepted: nothing collected before (M3).
            "profile_card": profile_card(request.member, profile_moments(request.member))
            if consent_current(request.member)
            else None,
        },
    )


def _own_phone(request: HttpRequest) -> str:
    phone = member_phone(request.member)
    return phone_mask(phone) if phone else ""


def _own_signup(request: HttpRequest, public_id: str):
    """The member's own sign-up, else None: another member's is as unknown as a wrong id."""
    if len(public_id) > 40:
        return None
    return next((s for s in selectors.member_signups(request.member.pk) if s.public_id == public_id), None)


def _qr_svg(code: str) -> str:
    return segno.make_qr(code, error="m").svg_inline(scale=6, border=4, omitsize=True)


@member_required(consent=False)
@require_GET
def signup_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    signup = _own_signup(request, public_id)
    if signup is None:
        return not_found(request)
    confirmed = signup.status == SignupStatus.CONFIRMED
    return _page(
        request,
        "h5/signup_detail.html",
        {
            "signup": signup,
            "campaign": signup.campaign,
            "position": selectors.waitlist_position(signup),
            "qr_svg": _qr_svg(signup.checkin_code) if confirmed else "",
            "profile_card": profile_card(request.member, [QuestionnaireMoment.AFTER_SIGNUP])
            if consent_current(request.member)
            else None,
            "can_withdraw": signup.status in LIVE_STATUSES
            and signup.campaign.status in (CampaignStatus.PUBLISHED, CampaignStatus.CLOSED),
            "now": timezone.now(),
        },
    )


@member_required(consent=False)
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, public_id: str) -> HttpResponse:
    signup = _own_signup(request, public_id)
    if signup is None:
        return not_found(request)
    form = forms.WithdrawForm(request.POST or None)
    context = {"signup": signup, "campaign": signup.campaign, "form": form}
    if request.method == "POST" and form.is_valid():
        try:
            admission.signup_withdraw(
                campaign_id=signup.campaign_id,
                signup_id=signup.pk,
                actor=request.actor,
                reason=_("Withdrawn by the member"),
            )
        except DomainError as err:
            context["error"] = {"code": err.code, "message": err.message}
        else:
            return redirect("h5:signup_detail", public_id=signup.public_id)
    return _page(request, "h5/withdraw.html", context)
