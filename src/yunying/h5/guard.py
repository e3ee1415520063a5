"""Risk control as a member meets it on the member pages (R1, R2): the first-party device cookie, the
client signals every judged event carries, the check before a sign-in code is sent, the judgement of
a member's registration, and what a refusal says (its reasons are rule labels, English msgids shown
translated).

The pages never decide anything themselves: risk.services judges; this module only gathers what it
reads and turns its answer into words."""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext

from yunying.core.errors import DomainError
from yunying.members.models import Member
from yunying.members.services import member_phone, member_risk_ref
from yunying.risk.models import Case, CaseStatus, Decision
from yunying.risk.rules import Action, reason_label
from yunying.risk.services import Verdict, risk_assess
from yunying.risk.signals import Entry, RiskInput

DEVICE_COOKIE = "yy_dev"
DEVICE_MAX_AGE = 2 * 365 * 24 * 3600  # two years: a device outlives a session, not a phone
_DEVICE = re.compile(r"[A-Za-z0-9_-]{16,64}")
# Session keys: a sign-up waiting for its extra verification, and a registration risk control refused.
PENDING_SIGNUP = "h5_risk_signup"
BLOCKED_MEMBER = "h5_risk_member"


class DeviceCookieMiddleware:
    """Gives each browser on the member pages a random first-party id (`yy_dev`): HttpOnly (no script
    reads it), SameSite=Lax, Secure over HTTPS, kept two years. It names nothing but the browser; risk
    control stores only its keyed hash. A value that is not one of ours is replaced."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if not request.path.startswith("/m/"):
            return self.get_response(request)
        value = request.COOKIES.get(DEVICE_COOKIE, "")
        fresh = not _DEVICE.fullmatch(value)
        if fresh:
            value = secrets.token_urlsafe(24)
        request.h5_device = value
        response = self.get_response(request)
        if fresh:
            response.set_cookie(
                DEVICE_COOKIE,
                value,
                max_age=DEVICE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response


def device_of(request: HttpRequest) -> str:
    return getattr(request, "h5_device", "")


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:300]


def _signals(request: HttpRequest) -> dict[str, Any]:
    return {
        "ip": client_ip(request),
        "device_id": device_of(request),
        "user_agent": user_agent(request),
        "channel": "h5",
    }


def reasons_shown(labels: list[str]) -> list[str]:
    """The rule labels, in the member's language, each once."""
    shown: list[str] = []
    for label in labels:
        text = gettext(label) if label else ""
        if text and text not in shown:
            shown.append(text)
    return shown


def risk_block(err: DomainError) -> dict[str, Any]:
    """A risk.blocked refusal as the page shows it: the decision to ask about and the reasons."""
    return {"code": err.code, "decision": err.data.get("decision"), "reasons": reasons_shown(err.data.get("reasons", []))}  # fmt: skip


def sms_send_verdict(request: HttpRequest, e164: str) -> Verdict:
    """Ask risk control before a sign-in code is sent. Judged before the send limits, so attempts those
    limits refuse still count towards a burst on one number. Block and challenge refuse (an SMS cannot
    be verified by an SMS); review sends the code, since nobody can hold an SMS for a person to look at
    and the registration that follows is judged with this send in view. An engine failure does not stop
    sign-ins (the send limits and the day's budget still hold)."""
    return risk_assess(
        RiskInput(
            entry=Entry.SMS_SEND,
            subject_type="sms",
            subject_ref=secrets.token_hex(12),
            member_ref="",
            phone=e164,
            **_signals(request),
        )
    )


def sms_send_refused(verdict: Verdict) -> bool:
    return verdict.action in (Action.BLOCK, Action.CHALLENGE) and not verdict.fallback


def register_judge(request: HttpRequest, member: Member) -> Verdict:
    """Judge a member registered just now, with the inviter's reference when an invite brought them."""
    inviter = member_risk_ref(member.invited_by) if member.invited_by_id else ""
    return risk_assess(
        RiskInput(
            entry=Entry.MEMBER_REGISTER,
            subject_type="member",
            subject_ref=member_risk_ref(member),
            member_ref=member_risk_ref(member),
            phone=member_phone(member),
            invited_by=inviter,
            **_signals(request),
        )
    )


def registration_refused(member: Member) -> Decision | None:
    """The block decision on this member's registration, while no person has approved it: signing in
    again later does not get round it."""
    decision = (
        Decision.objects.filter(entry=Entry.MEMBER_REGISTER, member_ref=member_risk_ref(member), shadow=False)
        .order_by("-at", "-pk")
        .first()
    )
    if decision is None or decision.action != Action.BLOCK:
        return None
    if Case.objects.filter(decision=decision, status=CaseStatus.APPROVED).exists():
        return None
    return decision


def decision_block(decision: Decision) -> dict[str, Any]:
    return {
        "code": "risk.blocked",
        "decision": decision.pk,
        "reasons": reasons_shown([reason_label(reason) for reason in decision.reasons or []]),
    }
