"""Import (issue 10): upload a CSV or XLSX of members or orders, see every bad row, download the
report, start the import, follow its progress (htmx polling), and the history of imports.
commerce.imports.jobs does the work, audited with the operator as actor."""

from __future__ import annotations

import csv
import io

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from yunying.commerce.imports import jobs
from yunying.commerce.imports.columns import COLUMNS, template_rows
from yunying.commerce.models import ImportJob, ImportKind, ImportMode, ImportState
from yunying.console.access import operator_required
from yunying.console.paging import ID_MAX, page_of
from yunying.core.errors import DomainError, message_for
from yunying.core.numbers import ascii_digits
from yunying.core.permissions import Perm
from yunying.core.spreadsheet import spreadsheet_text, xlsx_cell

ACTIVE_STATES = {ImportState.UPLOADED, ImportState.CHECKING, ImportState.QUEUED, ImportState.RUNNING}
REPORT_XLSX_MAX_ROWS = 100_000  # a bigger report is offered as CSV only


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"), choices=ImportKind.choices)
    mode = forms.ChoiceField(
        label=gettext_lazy("Mode"),
        choices=ImportMode.choices,
        initial=ImportMode.ALL_OR_NOTHING,
        help_text=gettext_lazy("All or nothing: nothing is imported until the file has no error."),
    )
    file = forms.FileField(label=gettext_lazy("File (CSV or XLSX)"))


class StartForm(forms.Form):
    mode = forms.ChoiceField(label=gettext_lazy("Mode"), choices=ImportMode.choices)


def _job(job_id: int) -> ImportJob:
    job = ImportJob.objects.filter(pk=job_id).first() if job_id <= ID_MAX else None
    if job is None:
        raise Http404
    return job


def _list(request: HttpRequest, form: UploadForm, *, status: int = 200) -> HttpResponse:
    page, query = page_of(request, ImportJob.objects.order_by("-created_at", "-pk"))
    context = {
        "section": "imports",
        "form": form,
        "page": page,
        "query": query,
        "columns": {kind: COLUMNS[kind] for kind in ImportKind.values},
    }
    return render(request, "console/imports/list.html", context, status=status)


@operator_required(Perm.IMPORT_RUN)
def import_list_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _list(request, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _list(request, form, status=422)
    uploaded = form.cleaned_data["file"]
    try:
        job = jobs.import_upload(
            actor=request.actor,
            kind=form.cleaned_data["kind"],
            filename=uploaded.name,
            chunks=uploaded.chunks(),
            mode=form.cleaned_data["mode"],
        )
    except DomainError as refused:
        form.add_error("file", refused.message)
        return _list(request, form, status=422)
    return redirect("console:import_detail", job.pk)


def _detail_context(job: ImportJob) -> dict:
    failure = job.failure.get("code") if job.failure else None
    return {
        "section": "imports",
        "job": job,
        "active": job.state in ACTIVE_STATES,
        "failure_message": message_for(failure) if failure else "",
        "missing": ", ".join(job.failure.get("missing", [])) if job.failure else "",
        "can_start": job.state in (ImportState.CHECKED, ImportState.INVALID) and job.rows_valid > 0
        and job.records_new > 0,
        "start_form": StartForm(initial={"mode": job.mode}),
        "progress_max": job.rows_valid if job.state == ImportState.RUNNING else 0,
    }  # fmt: skip


@operator_required(Perm.IMPORT_RUN)
@require_GET
def import_detail_view(request: HttpRequest, job_id: int) -> HttpResponse:
    return render(request, "console/imports/detail.html", _detail_context(_job(job_id)))


@operator_required(Perm.IMPORT_RUN)
@require_GET
def import_progress_view(request: HttpRequest, job_id: int) -> HttpResponse:
    """The polled fragment; when the job is no longer active, the whole page reloads once."""
    job = _job(job_id)
    response = render(request, "console/imports/_progress.html", _detail_context(job))
    if job.state not in ACTIVE_STATES:
        response["HX-Refresh"] = "true"
    return response


@operator_required(Perm.IMPORT_RUN)
@require_POST
def import_start_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(job_id)
    form = StartForm(request.POST)
    mode = form.cleaned_data["mode"] if form.is_valid() else None
    try:
        job = jobs.import_start(job_id=job.pk, actor=request.actor, mode=mode)
    except DomainError as refused:
        messages.error(request, refused.message)
        return redirect("console:import_detail", job.pk)
    if job.state == ImportState.DONE:
        messages.success(request, _("Imported: %(n)d new records.") % {"n": job.inserted})
    return redirect("console:import_detail", job.pk)


def _csv_response(rows, filename: str) -> HttpResponse:
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 only with the BOM
    csv.writer(out).writerows([spreadsheet_text(cell) for cell in row] for row in rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _xlsx_response(rows, filename: str) -> HttpResponse:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in rows:
        # Row numbers as numbers; every text cell typed as text, never a formula (core.spreadsheet).
        sheet.append([int(cell) if isinstance(cell, str) and ascii_digits(cell) and len(cell) < 10
                      else xlsx_cell(sheet, cell) for cell in row])  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@operator_required(Perm.IMPORT_RUN)
@require_GET
def import_report_view(request: HttpRequest, job_id: int, fmt: str) -> HttpResponse:
    job = _job(job_id)
    rows = list(jobs.import_report_rows(job))
    name = f"import-{job.pk}-errors.{fmt}"
    if fmt == "xlsx" and len(rows) <= REPORT_XLSX_MAX_ROWS:
        return _xlsx_response(rows, name)
    return _csv_response(rows, name.replace(".xlsx", ".csv"))


@operator_required(Perm.IMPORT_RUN)
@require_GET
def import_template_view(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if kind not in ImportKind.values:
        raise Http404
    name = f"{kind}-template.{fmt}"
    return (
        _xlsx_response(template_rows(kind), name)
        if fmt == "xlsx"
        else _csv_response(template_rows(kind), name)
    )


urlpatterns = [
    path("imports/", import_list_view, name="import_list"),
    path("imports/template/<str:kind>.<str:fmt>", import_template_view, name="import_template"),
    path("imports/<int:job_id>/", import_detail_view, name="import_detail"),
    path("imports/<int:job_id>/progress/", import_progress_view, name="import_progress"),
    path("imports/<int:job_id>/start/", import_start_view, name="import_start"),
    path("imports/<int:job_id>/report.<str:fmt>", import_report_view, name="import_report"),
]
