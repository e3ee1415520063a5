"""Who an operator is in the console, and what they may open.

Operators are Django users; their role is the group named after it (strategy, execution, support,
auditor — core.permissions.Role), so the console and the API check the same permission table. Every
console view is wrapped in `operator_required(perm)`: the server refuses (403) what the navigation
hides. Roles that may reveal personal data must pass TOTP two-factor (django-otp) before any page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_htmx.http import HttpResponseClientRedirect

from yunying.console.nav import NAV, NavItem
from yunying.core.permissions import Actor, Perm, Role, perm_label

OPERATOR_ROLES = (Role.STRATEGY, Role.EXECUTION, Role.SUPPORT, Role.AUDITOR)
ROLE_LABELS = {
    Role.STRATEGY: _("Strategy"),
    Role.EXECUTION: _("Execution"),
    Role.SUPPORT: _("Support"),
    Role.AUDITOR: _("Auditor"),
}
# Roles that can see personal data in clear must prove a second factor (issue 9, S1).
TOTP_REQUIRED_PERMS = (Perm.PII_REVEAL, Perm.PII_REVEAL_BULK)


def role_of(user: AbstractBaseUser) -> Role | None:
    """The operator's role: the first of their groups that names one (superusers are strategy)."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.STRATEGY
    # Groups are prefetched once per request (operator_required), so this is no query per call.
    names = {group.name for group in user.groups.all()}
    return next((role for role in OPERATOR_ROLES if role.value in names), None)


def actor_for(user: AbstractBaseUser) -> Actor | None:
    role = role_of(user)
    if role is None:
        return None
    return Actor(kind="user", id=user.pk, label=user.get_username(), role=role)


def totp_required(actor: Actor) -> bool:
    return any(actor.can(perm) for perm in TOTP_REQUIRED_PERMS)


def has_totp(user: AbstractBaseUser) -> bool:
    from django_otp import user_has_device

    return user_has_device(user, confirmed=True)


def second_factor_redirect(request: HttpRequest, actor: Actor) -> HttpResponse | None:
    """Where an operator who has not passed the second factor must go first, or None."""
    if request.user.is_verified():
        return None
    if has_totp(request.user):
        return redirect(f"{reverse('console:totp_verify')}?next={request.get_full_path()}")
    if totp_required(actor):
        return redirect(reverse("console:totp_setup"))
    return None


def forbidden(request: HttpRequest, *, permission: str = "") -> HttpResponse:
    return render(
        request, "console/403.html", {"permission": perm_label(permission) if permission else ""}, status=403
    )


def operator_required(perm: Perm | None = None, *, second_factor: bool = True) -> Callable:
    """Decorate a console view: signed in, an operator role, the second factor where required, and
    `perm` when given. Sets `request.actor`."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                htmx = getattr(request, "htmx", None)
                if htmx:  # a fragment (a polling monitor) after the session ended: the whole page goes
                    page = htmx.current_url_abs_path or request.get_full_path()
                    return HttpResponseClientRedirect(redirect_to_login(page, reverse("console:login")).url)
                return redirect_to_login(request.get_full_path(), reverse("console:login"))
            actor = actor_for(request.user)
            if actor is None:
                return forbidden(request)
            request.actor = actor
            if second_factor:
                detour = second_factor_redirect(request, actor)
                if detour is not None:
                    return detour
            if perm is not None and not actor.can(perm):
                return forbidden(request, permission=str(perm))
            return view(request, *args, **kwargs)

        wrapped.console_perm = perm  # read by the test that walks every page with every role
        return wrapped

    return decorate


def visible_nav(actor: Actor | None) -> list[NavItem]:
    if actor is None:
        return []
    return [item for item in NAV if item.perm is None or actor.can(item.perm)]


def console_context(request: HttpRequest) -> dict:
    """Template context for every page: the operator, their role and the navigation they may see."""
    if not request.path.startswith("/console/"):
        return {}
    actor = getattr(request, "actor", None)
    role_label = ROLE_LABELS.get(actor.role, "") if actor else ""
    return {
        "operator": actor,
        "operator_role": role_label,
        "nav": visible_nav(actor),
        # wherever a member appears, their id links to the 360 page for roles that may open it
        "can_view_members": bool(actor and actor.can(Perm.MEMBER_VIEW)),
    }
