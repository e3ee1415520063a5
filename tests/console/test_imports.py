"""The console's Import page: upload, the error table and report, start, progress, history."""

from __future__ import annotations

import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.commerce.test_imports import ORDER_HEADER, csv_bytes, order_rows
from yunying.commerce.models import ImportJob, ImportState, Order
from yunying.core.models import AuditEntry
from yunying.core.permissions import Role

URL = "/console/imports/"


def _upload(client, data: bytes, name: str = "orders.csv", mode: str = "all"):
    return client.post(URL, {"kind": "orders", "mode": mode, "file": SimpleUploadedFile(name, data)})


def test_an_import_with_errors_then_fixed_and_run(console_as):
    client = console_as(Role.EXECUTION)
    rows = order_rows(2)
    rows[0][1] = "12345"
    response = _upload(client, csv_bytes(ORDER_HEADER, rows))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{URL}{job.pk}/"
    page = client.get(f"{URL}{job.pk}/").content.decode()
    assert job.state == ImportState.INVALID and "member.phone_invalid" in page and "会员手机号" in page
    # The report downloads as an XLSX a person opens in Excel.
    report = client.get(f"{URL}{job.pk}/report.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(report.content)).active
    assert [cell.value for cell in next(sheet.iter_rows(min_row=2, max_row=2))][:3] == [
        2,
        "会员手机号",
        "member.phone_invalid",
    ]
    assert client.get(f"{URL}{job.pk}/report.csv").content.startswith("\ufeff".encode())
    # All or nothing refuses to start; the fixed file imports.
    client.post(f"{URL}{job.pk}/start/", {"mode": "all"})
    assert not Order.objects.exists()
    rows[0][1] = "13800000001"
    _upload(client, csv_bytes(ORDER_HEADER, rows))
    fixed = ImportJob.objects.latest("pk")
    assert fixed.state == ImportState.CHECKED
    client.post(f"{URL}{fixed.pk}/start/", {"mode": "all"})
    fixed.refresh_from_db()
    assert fixed.state == ImportState.DONE and Order.objects.count() == 2
    assert AuditEntry.objects.filter(action="import.start", object_id=str(fixed.pk)).exists()
    history = client.get(URL).content.decode()
    assert "orders.csv" in history and str(fixed.pk) in history


def test_progress_fragment_polls_while_active_and_refreshes_when_done(console_as):
    client = console_as(Role.STRATEGY)
    _upload(client, csv_bytes(ORDER_HEADER, order_rows(1)))
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.RUNNING, rows_done=1, rows_valid=2)
    fragment = client.get(f"{URL}{job.pk}/progress/")
    assert 'hx-trigger="every 2s"' in fragment.content.decode() and "HX-Refresh" not in fragment
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.DONE)
    assert client.get(f"{URL}{job.pk}/progress/")["HX-Refresh"] == "true"


def test_templates_download_and_read_back_clean(console_as):
    client = console_as(Role.EXECUTION)
    for kind in ("members", "orders"):
        for fmt in ("csv", "xlsx"):
            response = client.get(f"{URL}template/{kind}.{fmt}")
            assert response.status_code == 200 and response.content
    template = client.get(f"{URL}template/orders.xlsx").content
    _upload(client, template, "orders-template.xlsx")
    job = ImportJob.objects.get()
    assert job.state == ImportState.CHECKED, job.error_sample


def test_a_refused_file_says_why(console_as):
    client = console_as(Role.EXECUTION)
    _upload(client, "订单号,数量\nSO-1,1\n".encode("gb18030"))
    job = ImportJob.objects.get()
    page = client.get(f"{URL}{job.pk}/").content.decode()
    assert job.state == ImportState.REFUSED and "支付时间" in page


def test_support_and_auditor_cannot_import(console_as):
    for role in (Role.SUPPORT, Role.AUDITOR):
        assert console_as(role).get(URL).status_code == 403


def test_a_file_far_over_the_page_body_limit_is_taken(console_as, settings):
    """The page body limit (64 KiB) refused any real file: ~1,000 order rows (new-user review)."""
    rows = order_rows(1500)
    data = csv_bytes(ORDER_HEADER, rows)
    assert len(data) > settings.MAX_REQUEST_BODY_BYTES
    client = console_as(Role.EXECUTION)
    response = _upload(client, data)
    assert response.status_code == 302, response.content[:300]
    assert ImportJob.objects.get().rows_total == len(data.decode("utf-8-sig").strip().splitlines()) - 1
    # other pages keep the small limit
    too_big = client.post("/console/campaigns/new/", {"title": "x" * 70_000})
    assert too_big.status_code == 413
