"""Segments (A4, M5, M6): the list, the builder with a live count, a segment's page (recompute,
masked sample, movement, a message to its members), and the RFM grid with the lifecycle distribution
over time. analytics.services does the work, audited with the operator as actor."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yunying.analytics.models import Lifecycle
from yunying.analytics.selectors import (
    lifecycle_counts,
    lifecycle_history,
    rfm_grid,
    segment_list,
    segment_movement,
    segment_sample,
)
from yunying.analytics.services import (
    rfm_recompute,
    segment_create,
    segment_get,
    segment_message_queue,
    segment_preview,
    segment_recompute,
    segment_update,
)
from yunying.console.access import operator_required
from yunying.console.campaign_forms import service_message
from yunying.console.paging import ID_MAX
from yunying.console.segment_forms import MessageForm, SegmentForm
from yunying.core.errors import DomainError, ValidationFailed
from yunying.core.permissions import Perm


def _segment_or_404(segment_id: int):
    if segment_id > ID_MAX:
        raise Http404
    try:
        return segment_get(segment_id)
    except DomainError:
        raise Http404 from None


def _rule_errors(form: SegmentForm, failed: ValidationFailed) -> None:
    for error in failed.errors:
        where = error.get("field", "").removeprefix("rules.")
        form.add_error(None, f"{where}: {service_message(error.get('message', ''))}")


@operator_required(Perm.SEGMENT_VIEW)
@require_GET
def segment_list_view(request: HttpRequest) -> HttpResponse:
    counts = lifecycle_counts()
    context = {
        "section": "segments",
        "segments": segment_list(),
        "lifecycle": [(label, counts.get(value, 0)) for value, label in Lifecycle.choices],
    }
    return render(request, "console/segments/list.html", context)


def _builder(request: HttpRequest, form: SegmentForm, *, segment=None, status: int = 200) -> HttpResponse:
    context = {"section": "segments", "form": form, "segment": segment}
    return render(request, "console/segments/builder.html", context, status=status)


def _save(request: HttpRequest, form: SegmentForm, segment=None) -> HttpResponse:
    if not form.is_valid():
        return _builder(request, form, segment=segment, status=422)
    values = {
        "name": form.cleaned_data["name"].strip(),
        "description": form.cleaned_data["description"],
        "rules": form.rules(),
        "tag_name": form.cleaned_data["tag_name"].strip() or None,
    }
    try:
        if segment is None:
            saved = segment_create(actor=request.actor, **values)
        else:
            saved = segment_update(actor=request.actor, segment_id=segment.pk, **values)
    except ValidationFailed as failed:
        _rule_errors(form, failed)
        return _builder(request, form, segment=segment, status=422)
    except DomainError as refused:
        form.add_error(None, refused.message)
        return _builder(request, form, segment=segment, status=422)
    result = segment_recompute(segment_id=saved.pk, actor=request.actor)
    messages.success(
        request, _("Segment %(name)s saved: %(n)d members.") % {"name": saved.name, "n": result.members}
    )
    return redirect("console:segment_detail", segment_id=saved.pk)


@operator_required(Perm.SEGMENT_MANAGE)
@require_http_methods(["GET", "POST"])
def segment_new_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, SegmentForm(request.POST))
    return _builder(request, SegmentForm())


@operator_required(Perm.SEGMENT_MANAGE)
@require_http_methods(["GET", "POST"])
def segment_edit_view(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = _segment_or_404(segment_id)
    if request.method == "POST":
        return _save(request, SegmentForm(request.POST, exclude_segment=segment.pk), segment)
    form = SegmentForm(initial=SegmentForm.initial_for(segment), exclude_segment=segment.pk)
    return _builder(request, form, segment=segment)


@operator_required(Perm.SEGMENT_VIEW)
@require_POST
def segment_preview_view(request: HttpRequest) -> HttpResponse:
    """The builder's live count (htmx): how many members the rule matches now."""
    form = SegmentForm(request.POST)
    form.fields["name"].required = False  # a count needs no name yet
    count, errors = None, []
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
    elif form.cleaned_data.get("rules_json") is None and not form.rules()["conditions"]:
        errors = [_("Add at least one condition.")]
    else:
        try:
            count = segment_preview(rules=form.rules())
        except ValidationFailed as failed:
            errors = [
                f"{e.get('field', '').removeprefix('rules.')}: {service_message(e.get('message', ''))}"
                for e in failed.errors
            ]
    return render(request, "console/segments/_count.html", {"count": count, "errors": errors})


@operator_required(Perm.SEGMENT_VIEW)
@require_GET
def segment_detail_view(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = _segment_or_404(segment_id)
    context = {
        "section": "segments",
        "segment": segment,
        "rules_json": json.dumps(segment.rules, ensure_ascii=False, indent=1),
        "sample": segment_sample(segment.pk),
        "movement": segment_movement(segment.pk),
        "message_form": MessageForm(),
        "can_manage": request.actor.can(Perm.SEGMENT_MANAGE),
    }
    return render(request, "console/segments/detail.html", context)


@operator_required(Perm.SEGMENT_MANAGE)
@require_POST
def segment_recompute_view(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = _segment_or_404(segment_id)
    result = segment_recompute(segment_id=segment.pk, actor=request.actor)
    messages.success(
        request,
        _("Recomputed: %(n)d members, %(entered)d entered, %(left)d left.")
        % {"n": result.members, "entered": result.entered, "left": result.left},
    )
    return redirect("console:segment_detail", segment_id=segment.pk)


@operator_required(Perm.SEGMENT_MANAGE)
@require_POST
def segment_message_view(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = _segment_or_404(segment_id)
    form = MessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write a subject and a message, and choose a channel."))
        return redirect("console:segment_detail", segment_id=segment.pk)
    try:
        queued = segment_message_queue(actor=request.actor, segment_id=segment.pk, **form.cleaned_data)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request, _("Message queued for %(n)d members who allow marketing messages.") % {"n": queued}
        )
    return redirect("console:segment_detail", segment_id=segment.pk)


def heatmap_option(grid: list[dict]) -> dict:
    """ECharts heatmap: R (x) by F (y), members per cell; the tooltip adds net paid."""
    cells = [[c["r_score"] - 1, c["f_score"] - 1, c["members"], c["monetary_fen"] // 100] for c in grid]
    top = max((c[2] for c in cells), default=1)
    scores = ["1", "2", "3", "4", "5"]
    return {
        "aria": {"enabled": True},
        "tooltip": {"position": "top"},
        "grid": {"left": 56, "right": 16, "top": 16, "bottom": 72},
        "xAxis": {"type": "category", "data": scores, "name": "R", "splitArea": {"show": True}},
        "yAxis": {"type": "category", "data": scores, "name": "F", "splitArea": {"show": True}},
        "visualMap": {
            "min": 0,
            "max": top,
            "calculable": True,
            "orient": "horizontal",
            "left": "center",
            "bottom": 0,
        },
        "series": [
            {
                "type": "heatmap",
                "name": _("Members"),
                "data": cells,
                "label": {"show": True},
                "encode": {"x": 0, "y": 1, "value": 2, "tooltip": [2, 3]},
                "dimensions": ["R", "F", _("Members"), _("Net paid (yuan)")],
            }
        ],
    }


def lifecycle_option(history: dict) -> dict:
    labels = dict(Lifecycle.choices)
    return {
        "aria": {"enabled": True},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 48, "right": 16, "top": 16, "bottom": 56, "containLabel": True},
        "xAxis": {"type": "category", "data": history["days"], "boundaryGap": False},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {"type": "line", "stack": "all", "areaStyle": {}, "name": str(labels[value]), "data": counts}
            for value, counts in history["series"].items()
        ],
    }


@operator_required(Perm.SEGMENT_VIEW)
@require_GET
def segment_insights_view(request: HttpRequest) -> HttpResponse:
    grid = [
        {**c, "net_yuan": f"{c['monetary_fen'] // 100}.{c['monetary_fen'] % 100:02d}"} for c in rfm_grid()
    ]
    context = {
        "section": "segments",
        "grid": grid,
        "charts": {
            "chart-rfm": heatmap_option(grid),
            "chart-lifecycle": lifecycle_option(lifecycle_history()),
        },
        "can_manage": request.actor.can(Perm.SEGMENT_MANAGE),
    }
    return render(request, "console/segments/insights.html", context)


@operator_required(Perm.SEGMENT_MANAGE)
@require_POST
def rfm_recompute_view(request: HttpRequest) -> HttpResponse:
    run = rfm_recompute()
    messages.success(request, _("RFM recomputed for %(n)d members.") % {"n": run.members})
    return redirect("console:segment_insights")


urlpatterns = [
    path("segments/", segment_list_view, name="segment_list"),
    path("segments/new/", segment_new_view, name="segment_new"),
    path("segments/preview/", segment_preview_view, name="segment_preview"),
    path("segments/insights/", segment_insights_view, name="segment_insights"),
    path("segments/rfm/recompute/", rfm_recompute_view, name="rfm_recompute"),
    path("segments/<int:segment_id>/", segment_detail_view, name="segment_detail"),
    path("segments/<int:segment_id>/edit/", segment_edit_view, name="segment_edit"),
    path("segments/<int:segment_id>/recompute/", segment_recompute_view, name="segment_recompute"),
    path("segments/<int:segment_id>/message/", segment_message_view, name="segment_message"),
]
