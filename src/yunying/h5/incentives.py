"""Member centre incentives (L3): daily check-in with the month's calendar, task progress, and the
invite page with invitees (masked) and rewards. Thin: loyalty.checkin / tasks / referrals do the work."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from yunying.core.errors import DomainError
from yunying.h5.centre import invite_url
from yunying.h5.session import member_of, member_required
from yunying.loyalty.checkin import checkin_calendar, checkin_status, checkin_today
from yunying.loyalty.models import PointAccount, ReferralStatus
from yunying.loyalty.referrals import invite_summary
from yunying.loyalty.tasks import task_progress
from yunying.members.services import member_phone, phone_mask


def _page(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    return render(request, template, {"member": member_of(request), **context})


def _balance(member_id: int) -> int:
    account = PointAccount.objects.filter(member_id=member_id).first()
    return account.balance if account else 0


@member_required(consent=False)
@require_http_methods(["GET", "POST"])
def checkin_page(request: HttpRequest) -> HttpResponse:
    member = request.member
    error, just = None, None
    if request.method == "POST":
        try:
            result = checkin_today(member_id=member.pk)
        except DomainError as err:
            error = {"code": err.code, "message": err.message}
        else:
            if not result.replayed:
                # Said once, from the session: a "+N points" in the address could be made up.
                request.session["checkin_done"] = result.checkin.points
                return redirect(f"{request.path}?done=1")
    just = request.session.pop("checkin_done", None)
    today = timezone.localdate()
    return _page(
        request,
        "h5/checkin.html",
        {
            "status": checkin_status(member.pk),
            "weeks": checkin_calendar(member.pk, year=today.year, month=today.month),
            "month": today,
            "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
            "balance": _balance(member.pk),
            "error": error,
            "just": just,
            "time_zone": settings.TIME_ZONE,
        },
    )


@member_required(consent=False)
@require_GET
def tasks_page(request: HttpRequest) -> HttpResponse:
    return _page(request, "h5/tasks.html", {"lists": task_progress(request.member.pk)})


def _masked(member) -> str:
    phone = member_phone(member)
    return phone_mask(phone) if phone else _("Member")


@member_required(consent=False)
@require_GET
def invite_page(request: HttpRequest) -> HttpResponse:
    summary = invite_summary(request.member)
    invitees = [
        {
            "who": _masked(r.invitee),
            "joined": r.created_at,
            "status": r.status,
            "status_label": ReferralStatus(r.status).label,
            "points": r.inviter_points,
        }
        for r in summary.referrals
    ]
    return _page(
        request,
        "h5/invite.html",
        {"summary": summary, "invitees": invitees, "invite_url": invite_url(request, request.member)},
    )
