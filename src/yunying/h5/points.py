"""Member centre: my points (L2) — balance, what is pending and when it becomes spendable, what
expires soon, the lots with their expiry dates (the order they are spent in) and the history."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from yunying.h5.session import member_of, member_required
from yunying.loyalty.models import PostingKind, PostingSource
from yunying.loyalty.selectors import EXPIRING_SOON_DAYS, points_history, points_lots, points_summary
from yunying.loyalty.tiers import tier_progress

HISTORY_PAGE = 20
LOTS_SHOWN = 50


@member_required(consent=False)
@require_GET
def points_page(request: HttpRequest) -> HttpResponse:
    member = request.member
    history = Paginator(points_history(member.pk), HISTORY_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "h5/points.html",
        {
            "member": member_of(request),
            "summary": points_summary(member.pk),
            "tier": tier_progress(member.pk),
            "lots": list(points_lots(member.pk)[:LOTS_SHOWN]),
            "history": history,
            "soon_days": EXPIRING_SOON_DAYS,
            "kind_labels": dict(PostingKind.choices),
            "source_labels": dict(PostingSource.choices),
        },
    )
