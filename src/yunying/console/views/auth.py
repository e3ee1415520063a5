"""Signing in and out, TOTP two-factor (set-up and the check at sign-in), the operator's own account."""

from __future__ import annotations

import base64
import unicodedata

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunying.console.access import actor_for, has_totp, operator_required, totp_required, visible_nav
from yunying.core.audit import audit_record
from yunying.core.errors import DomainError
from yunying.core.ratelimit import client_key, ratelimit_hit, ratelimit_release

LOGIN_FAILURES_PER_ACCOUNT = 10  # per 15 minutes: guessing one operator's password
LOGIN_FAILURES_PER_IP = 30  # per 15 minutes: guessing many operators' from one place
LOGIN_WINDOW_SECONDS = 15 * 60


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _throttle_keys(request: HttpRequest, username: str) -> list[tuple[str, str, int]]:
    # The account as Django will find it: its username field folds compatibility characters (NFKC),
    # so "ｖｉｃｔｉｍ" signs in as "victim" and must count against the same allowance.
    account = unicodedata.normalize("NFKC", username).strip().casefold()
    return [
        ("login_account", client_key(account or "-"), LOGIN_FAILURES_PER_ACCOUNT),
        ("login_ip", client_key(request.META.get("REMOTE_ADDR", "unknown")), LOGIN_FAILURES_PER_IP),
    ]


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy("The user name or password is wrong."),
        "inactive": gettext_lazy("This account is disabled."),
    }


@sensitive_post_parameters("password")
def login_view(request: HttpRequest) -> HttpResponse:
    """User name and password, throttled per account and per address on failures (S7)."""
    if request.user.is_authenticated and actor_for(request.user) is not None and request.method == "GET":
        return redirect("console:home")
    form = LoginForm(request, data=request.POST or None)
    limited = None
    if request.method == "POST":
        keys = _throttle_keys(request, request.POST.get("username", ""))
        # Every attempt is counted before the password is compared, and a right one is taken back:
        # counting only after a failure let a parallel burst through the check (13 tries for 10).
        try:
            for scope, key, limit in keys:
                ratelimit_hit(scope=scope, key=key, limit=limit, window_seconds=LOGIN_WINDOW_SECONDS)
        except DomainError as refused:
            limited = refused
        if limited is None and form.is_valid():
            for scope, key, _limit in keys:
                ratelimit_release(scope=scope, key=key, window_seconds=LOGIN_WINDOW_SECONDS)
            user = form.get_user()
            if actor_for(user) is None:
                form.add_error(None, _("This account has no role in the operations team."))
            else:
                login(request, user)
                actor = actor_for(user)
                with transaction.atomic():
                    audit_record(actor=actor, action="operator.login", object_type="user", object_id=user.pk)
                if has_totp(user):
                    return redirect(f"{reverse('console:totp_verify')}?next={_safe_next(request, '')}")
                if totp_required(actor):
                    return redirect("console:totp_setup")
                return redirect(_safe_next(request, reverse("console:home")))
    status = 429 if limited else 200
    return render(
        request,
        "console/login.html",
        {"form": form, "limited": limited, "next": request.GET.get("next", "")},
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("console:login")


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=gettext_lazy("6-digit code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        error_messages={"invalid": gettext_lazy("Enter the 6 digits your authenticator app shows.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


TOTP_TRIES = 10  # per operator per TOTP_WINDOW_SECONDS, whatever the parallelism
TOTP_WINDOW_SECONDS = 15 * 60


def _verify_token(device: TOTPDevice, token: str) -> tuple[bool, str]:
    """django-otp's own throttle (a growing delay after each failure) guards against guessing, but it
    counts by read-modify-save, so parallel guesses lost counts (the attacker review: 15 codes tried
    for 8 counted). Each try is also counted first in the shared store, and a right one taken back."""
    key = f"user:{device.user_id}"
    try:
        ratelimit_hit(scope="totp", key=key, limit=TOTP_TRIES, window_seconds=TOTP_WINDOW_SECONDS)
    except DomainError:
        return False, _("Too many wrong codes; wait a minute and try again.")
    allowed, _data = device.verify_is_allowed()
    if not allowed:
        return False, _("Too many wrong codes; wait a minute and try again.")
    if device.verify_token(token.strip()):
        ratelimit_release(scope="totp", key=key, window_seconds=TOTP_WINDOW_SECONDS)
        return True, ""
    return False, _("That code is not right, or it has expired.")


@operator_required(second_factor=False)
def totp_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in, for operators with a confirmed authenticator."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:
        return redirect("console:totp_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ok, error = _verify_token(device, form.cleaned_data["token"])
        if ok:
            otp_login(request, device)
            return redirect(_safe_next(request, reverse("console:home")))
        form.add_error("token", error)
    return render(request, "console/totp_verify.html", {"form": form, "next": request.GET.get("next", "")})


def _qr_svg_data_uri(text: str) -> str:
    svg = segno.make(text, error="m").svg_inline(scale=5, dark="#111", light="#fff")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@operator_required(second_factor=False)
def totp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code (or type the key), then prove it with a code."""
    if has_totp(request.user) and not request.user.is_verified():
        return redirect("console:totp_verify")
    if has_totp(request.user):
        messages.info(request, _("Two-factor sign-in is already on for your account."))
        return redirect("console:security")
    device, _created = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": "authenticator"}
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ok, error = _verify_token(device, form.cleaned_data["token"])
        if ok:
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
                audit_record(
                    actor=request.actor,
                    action="operator.totp_enabled",
                    object_type="user",
                    object_id=request.user.pk,
                )
            otp_login(request, device)
            messages.success(
                request, _("Two-factor sign-in is on. You will be asked for a code at each sign-in.")
            )
            return redirect("console:home")
        form.add_error("token", error)
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "console/totp_setup.html",
        {
            "form": form,
            "qr": _qr_svg_data_uri(device.config_url),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "required": totp_required(request.actor),
        },
    )


@operator_required()
def security(request: HttpRequest) -> HttpResponse:
    """The operator's own account: two-factor status and password change."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            audit_record(
                actor=request.actor,
                action="operator.password_changed",
                object_type="user",
                object_id=request.user.pk,
            )
        update_session_auth_hash(request, form.user)
        messages.success(request, _("Your password has been changed."))
        return redirect("console:security")
    return render(
        request,
        "console/security.html",
        {
            "form": form,
            "has_totp": has_totp(request.user),
            "required": totp_required(request.actor),
            "section": "security",
        },
    )


@operator_required()
def home(request: HttpRequest) -> HttpResponse:
    """The first section the operator's role may open (the dashboard for most, the audit log for auditors)."""
    items = visible_nav(request.actor)
    if not items:
        return redirect("console:security")
    return redirect(items[0].url_name)


urlpatterns = [
    path("", home, name="home"),
    path("login/", login_view, name="login"),
    path("logout/", logout_view, name="logout"),
    path("login/verify/", totp_verify, name="totp_verify"),
    path("account/two-factor/", totp_setup, name="totp_setup"),
    path("account/", security, name="security"),
]
