"""Loyalty incentives (L3) in the console: the check-in reward table, task lists, referral rules and
the referral review queue. Thin: loyalty.checkin / tasks / referrals validate, audit and write."""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yunying.console.access import operator_required
from yunying.console.paging import ID_MAX
from yunying.core.errors import DomainError
from yunying.core.numbers import ascii_digits
from yunying.core.permissions import Perm
from yunying.loyalty.checkin import checkin_rule, checkin_rule_save
from yunying.loyalty.models import MissedDayPolicy, Referral, ReferralStatus, TaskKind, TaskList
from yunying.loyalty.referrals import referral_decide, referral_rule, referral_rule_save
from yunying.loyalty.tasks import TaskSpec, task_list_save


def _int(value: str | None, default: int = 0) -> int:
    value = (value or "").strip()
    return int(value) if ascii_digits(value) and len(value) <= 9 else (default if not value else -1)


def _task_rows(task_list: TaskList | None) -> list[dict]:
    tasks = {t.kind: t for t in task_list.tasks.all()} if task_list else {}
    return [
        {
            "kind": kind,
            "label": label,
            "on": kind in tasks,
            "points": tasks[kind].points if kind in tasks else 0,
            "target": tasks[kind].target if kind in tasks else 1,
        }
        for kind, label in TaskKind.choices
    ]


@operator_required(Perm.LOYALTY_CONFIGURE)
@require_GET
def incentives(request: HttpRequest) -> HttpResponse:
    rule = checkin_rule()
    lists = list(TaskList.objects.prefetch_related("tasks").order_by("id"))
    return render(
        request,
        "console/loyalty/incentives.html",
        {
            "section": "incentives",
            "checkin": rule,
            "rewards_text": ", ".join(str(p) for p in rule.rewards) if rule else "5, 5, 5, 5, 5, 5, 30",
            "policies": MissedDayPolicy.choices,
            "lists": [{"list": tl, "rows": _task_rows(tl)} for tl in lists],
            "new_rows": _task_rows(None),
            "referral": referral_rule(),
            "review_count": Referral.objects.filter(status=ReferralStatus.REVIEW).count(),
        },
    )


@operator_required(Perm.LOYALTY_CONFIGURE)
@require_POST
def checkin_save(request: HttpRequest) -> HttpResponse:
    parts = [p for p in re.split(r"[\s,，;；]+", request.POST.get("rewards", "")) if p]
    rewards = [int(p) if ascii_digits(p) and len(p) <= 9 else -1 for p in parts]
    try:
        checkin_rule_save(
            rewards=rewards,
            missed_policy=request.POST.get("missed_policy", ""),
            grace_days=_int(request.POST.get("grace_days")),
            cycle_days=_int(request.POST.get("cycle_days")),
            points_expire_days=_int(request.POST.get("points_expire_days"), 365),
            enabled=request.POST.get("enabled") == "on",
            actor=request.actor,
        )
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Check-in rewards saved."))
    return redirect("console:incentives")


@operator_required(Perm.LOYALTY_CONFIGURE)
@require_POST
def task_list_post(request: HttpRequest) -> HttpResponse:
    post = request.POST
    specs = [
        TaskSpec(kind, points=_int(post.get(f"points_{kind}")), target=_int(post.get(f"target_{kind}"), 1))
        for kind in TaskKind.values
        if post.get(f"task_{kind}") == "on"
    ]
    list_id = _int(post.get("task_list_id"))
    try:
        saved = task_list_save(
            name=post.get("name", ""),
            description=post.get("description", ""),
            tasks=specs,
            required=_int(post.get("required")),
            reward_points=_int(post.get("reward_points")),
            active=post.get("active") == "on",
            task_list_id=min(list_id, ID_MAX) if list_id > 0 else None,
            actor=request.actor,
        )
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Task list “%(name)s” saved.") % {"name": saved.name})
    return redirect("console:incentives")


@operator_required(Perm.LOYALTY_CONFIGURE)
@require_POST
def referral_rule_post(request: HttpRequest) -> HttpResponse:
    post = request.POST
    try:
        referral_rule_save(
            inviter_points=_int(post.get("inviter_points")),
            invitee_points=_int(post.get("invitee_points")),
            monthly_cap=_int(post.get("monthly_cap")),
            return_window_days=_int(post.get("return_window_days")),
            same_signal_limit=_int(post.get("same_signal_limit")),
            actor=request.actor,
        )
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Referral rules saved."))
    return redirect("console:incentives")


@operator_required(Perm.LOYALTY_CONFIGURE)
@require_GET
def referral_queue(request: HttpRequest) -> HttpResponse:
    held = (
        Referral.objects.filter(status=ReferralStatus.REVIEW)
        .select_related("inviter", "invitee")
        .order_by("id")
    )
    recent = Referral.objects.exclude(status=ReferralStatus.REVIEW).order_by("-id")[:50]
    return render(
        request,
        "console/loyalty/referrals.html",
        {"section": "incentives", "held": held[:200], "recent": recent},
    )


@operator_required(Perm.LOYALTY_CONFIGURE)
@require_POST
def referral_decide_post(request: HttpRequest, referral_id: int) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    try:
        referral_decide(
            referral_id=min(referral_id, ID_MAX),
            approve=approve,
            reason=request.POST.get("reason", "")[:500],
            actor=request.actor,
        )
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Referral approved and paid.") if approve else _("Referral rejected."))
    return redirect("console:referral_queue")


urlpatterns = [
    path("loyalty/incentives/", incentives, name="incentives"),
    path("loyalty/incentives/checkin/", checkin_save, name="checkin_rule_save"),
    path("loyalty/incentives/tasks/", task_list_post, name="task_list_save"),
    path("loyalty/incentives/referrals/", referral_rule_post, name="referral_rule_save"),
    path("loyalty/referrals/", referral_queue, name="referral_queue"),
    path("loyalty/referrals/<int:referral_id>/decide/", referral_decide_post, name="referral_decide"),
]
