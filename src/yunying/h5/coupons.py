"""Member coupon centre (issue 12): coupons to claim (可领取), mine (我的券), those ending soon
(即将过期) and the history (已使用/已过期); claiming, redeeming a code (兑换码) and exchanging points
for a coupon (积分兑券).

Thin: promotions.services decides every refusal; a DomainError becomes a message with its stable code
on the page, never a 500. Every POST is CSRF-checked, for the signed-in member only, rate-limited, and
answered by a redirect (a reload does not post again); the outcome is said once on the next page, from
the session (a message in the address could be made up)."""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yunying.core.errors import CoreError, DomainError, message_for
from yunying.core.ratelimit import client_key, ratelimit_hit, ratelimit_release
from yunying.h5.session import member_of, member_required
from yunying.h5.wording import to_the_member
from yunying.loyalty.selectors import points_summary
from yunying.promotions import selectors
from yunying.promotions.errors import PromotionError
from yunying.promotions.services import code_normalize, code_redeem, coupon_buy_with_points, coupon_claim
from yunying.risk.signals import ClientSignals

MAX_ID = 2**63 - 1
TABS = ("mine", "claim", "soon", "history")
FLASH = "h5_coupons_flash"
CODE_INPUT_MAX = 64  # what the field takes; a code is 6-32 letters and digits once spaces and - go
_CODE = re.compile(r"^[A-Z0-9]{6,32}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
HOUR = 3600


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _id(raw) -> int | None:
    """A positive database id from a form field, else None (junk, Unicode digits, out of range)."""
    text = str(raw or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def _flash(request: HttpRequest, *, code: str = "", data: dict | None = None, ok: str = "") -> None:
    """Say an outcome on the next page: a refusal by its code (worded when shown, in the language of
    that page), or a success (`ok`: one of the kinds `_said` knows)."""
    request.session[FLASH] = {"code": code, "data": data or {}, "ok": ok}


def _refusal(code: str, data: dict) -> dict:
    message = to_the_member(code, message_for(code))
    wait = data.get("retry_after")
    if isinstance(wait, int) and wait >= 120:  # the hourly code limit: minutes, not 3,456 seconds
        data = {k: v for k, v in data.items() if k != "retry_after"}
        message = _("Too many tries. Try again in %(m)s minutes.") % {"m": -(-wait // 60)}
    return {"code": code, "message": message, **data}


def _said(request: HttpRequest) -> tuple[dict | None, dict | None]:
    flash = request.session.pop(FLASH, None)
    if not isinstance(flash, dict):
        return None, None
    if flash.get("ok"):
        return None, {"kind": flash["ok"], **flash.get("data", {})}
    if flash.get("code"):
        return _refusal(str(flash["code"]), dict(flash.get("data") or {})), None
    return None, None


def _back(tab: str) -> HttpResponse:
    return redirect(f"{reverse('h5:coupons')}?tab={tab}")


@member_required(consent=False)
@require_GET
def coupons_page(request: HttpRequest) -> HttpResponse:
    member = request.member
    tab = request.GET.get("tab", "mine")
    tab = tab if tab in TABS else "mine"
    wallet = selectors.member_coupon_wallet(member.pk)
    error, done = _said(request)
    return render(
        request,
        "h5/coupons.html",
        {
            "member": member_of(request),
            "tab": tab,
            "wallet": wallet,
            "claimables": selectors.member_claimables(member.pk),
            "on_sale": selectors.points_coupons(member.pk),
            "soon_days": selectors.COUPONS_EXPIRING_DAYS,
            "error": error,
            "done": done,
            "code_max": CODE_INPUT_MAX,
        },
    )


def _limits(checks: list[tuple[str, str, int, int]]) -> None:
    """Count one hit on each (scope, key, limit, window); raises core.rate_limited past one."""
    for scope, key, limit, window in checks:
        ratelimit_hit(scope=scope, key=key, limit=limit, window_seconds=window)


@member_required(consent=False)
@require_POST
def coupon_claim_view(request: HttpRequest) -> HttpResponse:
    member = request.member
    promotion_id = _id(request.POST.get("promotion_id"))
    if promotion_id is None:
        _flash(request, code=PromotionError.NOT_FOUND)
        return _back("claim")
    checks = [("h5_coupon_claim", str(member.pk), settings.RATE_LIMITS["coupon_claim_member"], 60)]
    ip = _client_ip(request)
    if ip:
        checks.append(("h5_coupon_claim_ip", client_key(ip), settings.RATE_LIMITS["coupon_claim_ip"], 60))
    try:
        _limits(checks)
        client = ClientSignals(
            ip=ip,
            device_id=request.COOKIES.get("yy_dev", "")[:128],
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        issued = coupon_claim(
            promotion_id=promotion_id, member_id=member.pk, actor=request.actor, client=client
        )
    except DomainError as err:
        _flash(request, code=err.code, data=_data(err))
        return _back("claim")
    _flash(request, ok="claimed", data={"name": issued.coupon.promotion.name})
    return _back("mine")


def _data(err: DomainError) -> dict:
    """What the page may say of a refusal: small numbers only (the session holds it until shown)."""
    return {k: v for k, v in err.data.items() if k in ("retry_after", "limit", "balance", "needed")}


@member_required(consent=False)
@require_POST
def code_redeem_view(request: HttpRequest) -> HttpResponse:
    """A code typed by the member. Each try is counted before the lookup, per member and per client
    address, an hour long: a guesser is stopped after a few tries whatever they type; a right code
    gives its try back. Input that cannot be a code is refused without counting or looking it up."""
    member = request.member
    raw = request.POST.get("code", "")
    if not raw.strip():
        _flash(request, code="h5.code_empty")
        return _back("mine")
    code = code_normalize(raw[: CODE_INPUT_MAX + 1])
    if len(raw) > CODE_INPUT_MAX or not _CODE.match(code):
        _flash(request, code="h5.code_malformed")
        return _back("mine")
    checks = [("h5_coupon_code", str(member.pk), settings.RATE_LIMITS["coupon_code_member_hour"], HOUR)]
    if ip := _client_ip(request):
        checks.append(
            ("h5_coupon_code_ip", client_key(ip), settings.RATE_LIMITS["coupon_code_ip_hour"], HOUR)
        )
    try:
        _limits(checks)
        coupon = code_redeem(code=code, member_id=member.pk, actor=request.actor)
    except DomainError as err:
        _flash(request, code=err.code, data=_data(err))
        return _back("mine")
    for scope, key, _limit, window in checks:
        ratelimit_release(scope=scope, key=key, window_seconds=window)
    _flash(request, ok="redeemed", data={"name": coupon.promotion.name})
    return _back("mine")


def _buy(member, promotion_id: int, token: str, actor):
    """The exchange, keyed by member, coupon and the page's token (a token is never worth a second
    coupon, nor a coupon of another template). Two submits racing past the service's replay check
    meet the coupon's unique key; the retry then finds the first one's coupon and answers with it."""
    key = f"h5:{member.pk}:{promotion_id}:{token}"
    try:
        return coupon_buy_with_points(promotion_id=promotion_id, member_id=member.pk, key=key, actor=actor)
    except IntegrityError:
        return coupon_buy_with_points(promotion_id=promotion_id, member_id=member.pk, key=key, actor=actor)


@member_required(consent=False)
@require_http_methods(["GET", "POST"])
def points_exchange(request: HttpRequest, promotion_id: int) -> HttpResponse:
    """积分兑券: the price and the balance, a confirmation, then the exchange. The form carries a
    one-time token made for this page; the exchange is keyed by member, coupon and token, so a
    double submit (two taps, a resend after a timeout) spends the points once and answers with the
    same coupon."""
    member = request.member
    offer = selectors.points_coupon_get(member.pk, promotion_id) if 0 < promotion_id <= MAX_ID else None
    if offer is None:
        _flash(request, code=PromotionError.POINTS_NOT_ON_SALE)
        return _back("claim")
    error = None
    if request.method == "POST":
        token = request.POST.get("token", "")
        if not _TOKEN.match(token):
            error = _refusal(CoreError.INVALID, {})
        else:
            try:
                ratelimit_hit(
                    scope="h5_coupon_points",
                    key=str(member.pk),
                    limit=settings.RATE_LIMITS["coupon_points_member"],
                )
                issued = _buy(member, offer["promotion_id"], token, request.actor)
            except DomainError as err:
                error = _refusal(err.code, _data(err))
            else:
                _flash(
                    request,
                    ok="exchanged",
                    data={"name": issued.coupon.promotion.name, "points": offer["points_price"]},
                )
                return _back("mine")
    summary = points_summary(member.pk)
    return render(
        request,
        "h5/coupon_points.html",
        {
            "member": member_of(request),
            "offer": offer,
            "balance": summary.balance,
            "after": summary.balance - offer["points_price"],
            "enough": summary.balance >= offer["points_price"],
            "token": secrets.token_urlsafe(16),
            "error": error,
        },
    )
