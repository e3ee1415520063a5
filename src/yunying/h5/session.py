"""Who the member on a page is: the member id in the session after an SMS sign-in, and the consent
they gave before signing in (held in the session until their member row exists)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from yunying.core.permissions import Actor
from yunying.members.consent import consent_current, policy_version
from yunying.members.models import Member
from yunying.members.personal_data import member_is_erased
from yunying.members.signin import member_get

MEMBER = "h5_member"
PENDING_CONSENT = "h5_consent"
ACQUISITION = "h5_acquisition"
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign")


def acquisition_remember(request: HttpRequest, *, invite_code: str = "") -> None:
    """Keep the landing URL's utm_* parameters and invite code in the session until the member's
    first sign-in registers them (M4). First touch wins, per parameter: a later page with other
    parameters does not replace what the member arrived with."""
    found = {key: request.GET.get(key, "")[:100] for key in UTM_KEYS}
    found["invite_code"] = (invite_code or request.GET.get("invite", ""))[:40]
    if not any(found.values()):
        return
    kept = acquisition_of(request)
    merged = {key: kept.get(key) or value for key, value in found.items()}
    if merged != kept:
        request.session[ACQUISITION] = merged


def acquisition_of(request: HttpRequest) -> dict:
    """What acquisition_remember kept ({} when nothing)."""
    kept = request.session.get(ACQUISITION)
    return kept if isinstance(kept, dict) else {}


def member_of(request: HttpRequest) -> Member | None:
    if not hasattr(request, "_h5_member"):
        member_id = request.session.get(MEMBER)
        member = _signed_in_member(member_id) if isinstance(member_id, int) else None
        if member is None and member_id is not None:
            request.session.pop(MEMBER, None)  # an erased account's sessions end (PIPL art. 47)
        request._h5_member = member
    return request._h5_member


def _signed_in_member(member_id: int) -> Member | None:
    """The session's member, unless the account is gone or was erased: its sessions end with it."""
    member = member_get(member_id)
    return None if member is None or member_is_erased(member) else member


def member_actor(member: Member) -> Actor:
    """The member acting for themselves: no role, so no operator permission."""
    return Actor(kind="member", id=member.pk, label=f"member:{member.pk}")


def member_login(request: HttpRequest, member: Member) -> None:
    # A new session key at sign-in: a key planted before it (session fixation) is worth nothing.
    request.session.cycle_key()
    request.session.pop(ACQUISITION, None)  # recorded at registration, or not this member's to record
    request.session[MEMBER] = member.pk
    request._h5_member = member


def member_logout(request: HttpRequest) -> None:
    """Forget the member only: an operator signed in to the console in the same browser stays."""
    request.session.pop(MEMBER, None)
    request.session.pop(PENDING_CONSENT, None)
    request.session.cycle_key()
    request._h5_member = None


def pending_consent(request: HttpRequest) -> dict | None:
    """The consent given before sign-in, if it is to the notice in force."""
    pending = request.session.get(PENDING_CONSENT)
    if isinstance(pending, dict) and pending.get("version") == policy_version():
        return pending
    return None


def safe_next(request: HttpRequest, default: str) -> str:
    """Where to go after a step: only a path of the member pages on this host."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target.startswith("/m/")
        and len(target) <= 500
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    ):
        return target
    return default


def _to(request: HttpRequest, name: str, next_path: str) -> HttpResponse:
    url = f"{reverse(name)}?{urlencode({'next': next_path})}"
    if getattr(request, "htmx", False):
        # An as-you-type check whose session ended: the whole page goes, not the page into a field.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def member_required(*, consent: bool = True) -> Callable:
    """Signed in (else to sign-in, which asks for consent first) and, with `consent`, having
    accepted the privacy notice in force (else to the notice): nothing is collected before."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            member = member_of(request)
            if member is None:
                return _to(request, "h5:signin", request.get_full_path())
            if consent and consent_current(member) is None:
                return _to(request, "h5:privacy", request.get_full_path())
            request.member = member
            request.actor = member_actor(member)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
