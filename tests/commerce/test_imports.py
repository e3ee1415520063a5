"""Bulk import of members and orders: bad files refused whole, bad rows reported, modes, re-runs,
encodings, the job surviving a killed run."""

from __future__ import annotations

import csv
import io
import os

import openpyxl
import pytest
from django.db import connection
from django.test import override_settings
from django.utils import translation

from yunying.commerce.imports import jobs
from yunying.commerce.imports.errors import ImportError_, ImportFailed
from yunying.commerce.imports.rows import yuan_to_fen
from yunying.commerce.models import ImportJob, ImportMode, ImportState, Order, OrderLine
from yunying.core.audit import AuditEntry
from yunying.core.permissions import Actor, Role
from yunying.members.models import Member
from yunying.members.services import member_find, member_name

pytestmark = pytest.mark.django_db(transaction=True)

OPERATOR = Actor(kind="user", id=1, label="ops", role=Role.EXECUTION)
SUPPORT = Actor(kind="user", id=2, label="support", role=Role.SUPPORT)

ORDER_HEADER = [
    "订单号",
    "会员手机号",
    "支付时间",
    "渠道",
    "商品编码",
    "品类",
    "单价(元)",
    "数量",
    "实付(元)",
]


def order_rows(count: int = 3, *, start: int = 1) -> list[list[str]]:
    """`count` orders of two lines each, members 13800000001... one per order."""
    rows = []
    for n in range(start, start + count):
        phone = f"138{n:08d}"
        paid_at = "2026-11-11 10:00:00"
        rows.append([f"SO-{n}", phone, paid_at, "app", "TEA-1", "tea", "50.00", "2", "90.00"])
        rows.append([f"SO-{n}", phone, paid_at, "app", "CUP-1", "ware", "19.99", "3", "59.97"])
    return rows


def csv_bytes(header: list[str], rows: list[list], *, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(
    data: bytes, *, kind: str = "orders", filename: str = "orders.csv", mode=ImportMode.ALL_OR_NOTHING
):
    return jobs.import_upload(actor=OPERATOR, kind=kind, filename=filename, chunks=[data], mode=mode)


def report(job: ImportJob) -> list[list[str]]:
    return list(jobs.import_report_rows(job))[1:]


def codes(job: ImportJob) -> set[tuple[int, str]]:
    return {(int(row[0]), row[2]) for row in report(job)}


# --- files refused whole: nothing kept but the job's reason ---------------------------------------


def _formula_xlsx() -> bytes:
    rows = [ORDER_HEADER, *order_rows(1)]
    rows[1][6] = "=10*5"
    return xlsx_bytes({"订单": rows})


BAD_FILES = [
    # (what, bytes, filename, expected job state, file code or a (row, code) in the report)
    ("empty file", b"", "a.csv", ImportState.REFUSED, ImportError_.EMPTY),
    ("header only", csv_bytes(ORDER_HEADER, []), "a.csv", ImportState.CHECKED, None),
    ("blank lines only", b"\r\n\r\n", "a.csv", ImportState.REFUSED, ImportError_.EMPTY),
    ("not text", bytes(range(256)) * 4, "a.csv", ImportState.REFUSED, ImportError_.ENCODING_UNKNOWN),
    ("utf-16", "订单号\n".encode("utf-16"), "a.csv", ImportState.REFUSED, ImportError_.ENCODING_UNKNOWN),
    ("old xls renamed", b"\xd0\xcf\x11\xe0junk", "a.xls", ImportState.REFUSED, ImportError_.FORMAT_UNKNOWN),
    ("broken xlsx", b"PK\x03\x04broken", "a.xlsx", ImportState.REFUSED, ImportError_.FORMAT_UNKNOWN),
    ("header missing", csv_bytes(["订单号", "数量"], [["SO-1", "1"]]), "a.csv", ImportState.REFUSED,
     ImportError_.HEADER_MISSING),
    ("header duplicate", csv_bytes([*ORDER_HEADER, "order_id"], [["SO-1"]]), "a.csv", ImportState.REFUSED,
     ImportError_.HEADER_DUPLICATE),
    ("formula cell", _formula_xlsx(), "a.xlsx", ImportState.INVALID, (2, ImportError_.FORMULA)),
    ("bad rows", csv_bytes(ORDER_HEADER, [["SO-1", "12345", "yesterday", "APP!", "", "", "1.234", "0", "-1"]]),
     "a.csv", ImportState.INVALID, (2, "member.phone_invalid")),
    ("order split", csv_bytes(ORDER_HEADER, [order_rows(2)[0], order_rows(2)[2], order_rows(2)[1]]), "a.csv",
     ImportState.INVALID, (4, ImportError_.ORDER_SPLIT)),
    ("lines disagree", csv_bytes(ORDER_HEADER, [order_rows(1)[0], [*order_rows(1)[1][:3], "web",
     *order_rows(1)[1][4:]]]), "a.csv", ImportState.INVALID, (3, ImportError_.ORDER_FIELDS_DIFFER)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "data", "filename", "state", "expected"), BAD_FILES, ids=[b[0] for b in BAD_FILES]
)
def test_bad_files(what, data, filename, state, expected):
    job = upload(data, filename=filename)
    assert job.state == state, (what, job.failure, job.error_sample)
    if isinstance(expected, tuple):
        assert expected in codes(job)
    elif expected is not None:
        assert job.failure["code"] == expected
    assert not Order.objects.exists()
    assert os.stat(jobs.upload_path(job)).st_mode & 0o777 == 0o600


def test_bad_row_reports_every_failing_column_in_the_operators_language():
    rows = [["SO-1", "12345", "yesterday", "APP!", "", "", "1.234", "0", "-1"]]
    with translation.override("en"):
        job = upload(csv_bytes(ORDER_HEADER, rows))
    lines = report(job)
    columns = {line[1] for line in lines}
    assert {"会员手机号", "支付时间", "渠道", "商品编码", "单价(元)", "数量", "实付(元)"} <= columns
    assert all(line[3] and line[3] != line[2] for line in lines)  # a message, not the code
    with translation.override("zh-hans"):
        job = upload(csv_bytes(ORDER_HEADER, rows))
    assert any("手机号" in line[3] or "号码" in line[3] for line in report(job))


@override_settings(IMPORT_MAX_BYTES=1000)
def test_a_file_above_the_size_cap_is_refused_and_not_kept():
    with pytest.raises(ImportFailed) as refused:
        upload(csv_bytes(ORDER_HEADER, order_rows(50)))
    assert refused.value.code == ImportError_.TOO_LARGE
    assert not ImportJob.objects.exists()


@override_settings(IMPORT_MAX_ROWS=5)
def test_a_file_above_the_row_cap_is_refused():
    job = upload(csv_bytes(ORDER_HEADER, order_rows(3)))
    assert job.state == ImportState.REFUSED and job.failure["code"] == ImportError_.TOO_MANY_ROWS


# --- a clean file, its encodings, its re-runs -------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_orders_import_in_each_encoding(encoding):
    job = upload(csv_bytes(ORDER_HEADER, order_rows(3), encoding=encoding))
    assert job.state == ImportState.CHECKED and job.rows_total == 6 and job.rows_error == 0
    assert job.encoding == {"utf-8": "utf-8", "utf-8-sig": "utf-8+bom", "gb18030": "gb18030"}[encoding]
    job = jobs.import_start(job_id=job.pk, actor=OPERATOR)
    assert job.state == ImportState.DONE and job.inserted == 3 and job.members_created == 3
    order = Order.objects.get(external_id="SO-2")
    assert order.total_fen == 9000 + 5997 and order.source == "import" and order.channel == "app"
    assert order.paid_at.isoformat() == "2026-11-11T02:00:00+00:00"  # Shanghai time without an offset
    lines = list(
        OrderLine.objects.filter(order=order).order_by("line_no").values_list("sku", "unit_price_fen")
    )
    assert lines == [("TEA-1", 5000), ("CUP-1", 1999)]
    assert member_find(phone="13800000002").pk == order.member_id
    finish = AuditEntry.objects.get(action="import.finish", object_id=str(job.pk))
    assert (finish.actor_label, finish.actor_role, finish.after["inserted"]) == ("ops", "execution", 3)


def test_a_rerun_of_the_same_file_changes_nothing_and_other_content_is_a_conflict():
    data = csv_bytes(ORDER_HEADER, order_rows(3))
    jobs.import_start(job_id=upload(data).pk, actor=OPERATOR)
    before = list(OrderLine.objects.order_by("pk").values())
    again = upload(data)
    assert again.state == ImportState.CHECKED and again.records_new == 0 and again.records_unchanged == 3
    again = jobs.import_start(job_id=again.pk, actor=OPERATOR)
    assert again.inserted == 0 and list(OrderLine.objects.order_by("pk").values()) == before
    changed = order_rows(3)
    changed[2][7] = "5"  # SO-2's first line: another quantity
    conflict = upload(csv_bytes(ORDER_HEADER, changed))
    assert conflict.state == ImportState.INVALID and (4, "order.conflict") in codes(conflict)


def test_clean_rows_only_imports_the_clean_orders_and_reports_the_rest():
    rows = order_rows(3)
    rows[3][8] = "999.00"  # SO-2 line 2 paid more than price × quantity: SO-2 is left out whole
    job = upload(csv_bytes(ORDER_HEADER, rows))
    assert job.state == ImportState.INVALID and job.rows_error == 2 and job.rows_valid == 4
    with pytest.raises(Exception) as refused:
        jobs.import_start(job_id=job.pk, actor=OPERATOR)  # all or nothing: refused
    assert refused.value.code == ImportError_.NOT_CLEAN
    job = jobs.import_start(job_id=job.pk, actor=OPERATOR, mode=ImportMode.CLEAN_ONLY)
    assert job.state == ImportState.DONE
    assert set(Order.objects.values_list("external_id", flat=True)) == {"SO-1", "SO-3"}


def test_support_cannot_import():
    with pytest.raises(Exception) as refused:
        jobs.import_upload(actor=SUPPORT, kind="orders", filename="a.csv", chunks=[b"x"])
    assert refused.value.code == "core.permission_denied"


def test_xlsx_first_sheet_is_read_and_the_others_named():
    data = xlsx_bytes({"订单": [ORDER_HEADER, *order_rows(2)], "说明": [["随便写"]]})
    job = upload(data, filename="orders.xlsx")
    assert job.state == ImportState.CHECKED and job.sheet == "订单" and job.other_sheets == ["说明"]
    assert jobs.import_start(job_id=job.pk, actor=OPERATOR).inserted == 2


def test_xlsx_numbers_and_dates_cells():
    from datetime import datetime

    rows = [["order_id", "member_id", "paid_at", "sku", "unit_price_fen", "quantity", "paid_yuan"],
            ["SO-X", "M-1", datetime(2026, 11, 11, 10, 0), "TEA", 1250, 2, 25]]  # fmt: skip
    job = upload(xlsx_bytes({"Sheet": rows}), filename="o.xlsx")
    assert job.state == ImportState.CHECKED, job.error_sample
    jobs.import_start(job_id=job.pk, actor=OPERATOR)
    order = Order.objects.get(external_id="SO-X")
    assert order.total_fen == 2500 and Member.objects.get(pk=order.member_id).external_id == "M-1"


@pytest.mark.parametrize(
    ("text", "fen"),
    [("12", 1200), ("12.5", 1250), ("12.50", 1250), ("0.01", 1), (12.3, 1230), (7, 700),
     ("12.345", None), ("-1", None), ("1e3", None), ("12,50", None), ("", None), (True, None)],
)  # fmt: skip
def test_yuan_to_fen(text, fen):
    assert yuan_to_fen(text) == fen


# --- members ------------------------------------------------------------------------------------------

MEMBER_HEADER = ["手机号", "会员编号", "姓名", "性别", "出生日期", "地区代码", "来源渠道"]


def test_members_import_duplicates_in_file_and_against_the_database():
    rows = [
        ["13900000001", "M-1", "张三", "男", "1990-05-20", "310100", "app"],
        ["13900000002", "M-2", "李四", "女", "1991/1/2", "", ""],
        ["13900000001", "M-3", "王五", "", "", "", ""],  # the phone again
        ["13900000004", "M-4", "赵六", "x", "1800-01-01", "999999", ""],
    ]
    job = upload(csv_bytes(MEMBER_HEADER, rows), kind="members", filename="m.csv")
    assert job.state == ImportState.INVALID
    assert {(4, ImportError_.DUPLICATE_IN_FILE), (5, ImportError_.GENDER_INVALID),
            (5, "member.birth_date_invalid"), (5, "member.region_invalid")} <= codes(job)  # fmt: skip
    job = jobs.import_start(job_id=job.pk, actor=OPERATOR, mode=ImportMode.CLEAN_ONLY)
    assert job.state == ImportState.DONE and Member.objects.count() == 2
    member = member_find(phone="13900000001")
    assert member.external_id == "M-1" and member_name(member) == "张三" and member.region_code == "310100"
    assert member.phone_encrypted and "13900000001" not in member.phone_encrypted
    # The same file again: nothing changes; a phone of M-1 with M-2's id is a mismatch.
    again = upload(csv_bytes(MEMBER_HEADER, [*rows[:1], ["13900000002", "M-1", "", "", "", "", ""]]),
                   kind="members", filename="m.csv")  # fmt: skip
    assert (3, ImportError_.DUPLICATE_IN_FILE) in codes(again) and again.records_new == 0
    mismatch = upload(csv_bytes(MEMBER_HEADER, [["13900000002", "M-1", "", "", "", "", ""]]), kind="members",
                      filename="m.csv")  # fmt: skip
    assert (2, "member.identity_mismatch") in codes(mismatch)
    rerun = upload(csv_bytes(MEMBER_HEADER, rows[:2]), kind="members", filename="m.csv")
    assert rerun.state == ImportState.CHECKED and rerun.records_unchanged == 2
    jobs.import_start(job_id=rerun.pk, actor=OPERATOR)
    assert Member.objects.count() == 2


# --- a job killed half way resumes -----------------------------------------------------------------


def test_a_run_killed_half_way_is_claimed_again_and_finished(monkeypatch, settings):
    from yunying.commerce.imports import pipeline

    settings.IMPORT_INLINE_MAX_BYTES = 0  # everything through the worker's pass
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 10)
    job = upload(csv_bytes(ORDER_HEADER, order_rows(30)))
    assert job.state == ImportState.UPLOADED
    jobs.imports_run_due()
    job.refresh_from_db()
    assert job.state == ImportState.CHECKED and job.records_new == 30
    jobs.import_start(job_id=job.pk, actor=OPERATOR)

    real = pipeline._orders_write_batch
    calls = {"n": 0}

    def dies_on_the_third_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the worker process killed mid-import: no handler runs
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_orders_write_batch", dies_on_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        jobs.imports_run_due()
    job.refresh_from_db()
    assert job.state == ImportState.RUNNING
    written = Order.objects.count()
    assert 0 < written < 30
    assert jobs.imports_run_due() == {}  # its heartbeat is fresh: another worker leaves it alone
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=job.heartbeat_at.replace(year=2000))
    monkeypatch.setattr(pipeline, "_orders_write_batch", real)
    assert jobs.imports_run_due() == {"imports_run": 1}
    job.refresh_from_db()
    assert job.state == ImportState.DONE and job.inserted == 30 - written
    assert job.records_unchanged == written  # what the dead worker wrote is counted, as unchanged
    assert Order.objects.count() == 30 and OrderLine.objects.count() == 60


def test_fast_path_writes_what_order_ingest_writes():
    """The hand-written INSERTs against the ORM's order_ingest, the oracle."""
    from tests.commerce.helpers import ingest, order_payload

    payload = order_payload("SO-API", phone="+8613800000009", coupon_refs=["C1", "C2"], campaign_id=5)
    oracle = ingest(payload).order
    rows = [["SO-IMP", "13800000009", "2026-12-01T10:00:00+08:00", "app", "TEA-1", "tea", "5000", "2", "9000",
             "C1,C2", "5"],
            ["SO-IMP", "13800000009", "2026-12-01T10:00:00+08:00", "app", "CUP-1", "ware", "1999", "3", "5997",
             "C1,C2", "5"]]  # fmt: skip
    header = ["order_id", "member_phone", "paid_at", "channel", "sku", "category", "unit_price_fen", "quantity",
              "paid_fen", "coupon_refs", "campaign_id"]  # fmt: skip
    jobs.import_start(job_id=upload(csv_bytes(header, rows)).pk, actor=OPERATOR)
    imported = Order.objects.get(external_id="SO-IMP")
    skip = {"id", "external_id", "fingerprint", "source", "recorded_at"}
    assert {k: v for k, v in Order.objects.filter(pk=imported.pk).values()[0].items() if k not in skip} == {
        k: v for k, v in Order.objects.filter(pk=oracle.pk).values()[0].items() if k not in skip
    }
    line_fields = ["line_no", "sku", "category", "unit_price_fen", "quantity", "paid_fen", "refunded_fen"]
    assert list(imported.lines.order_by("line_no").values(*line_fields)) == list(
        oracle.lines.order_by("line_no").values(*line_fields)
    )
    assert connection.vendor in ("sqlite", "postgresql")


# --- the command ------------------------------------------------------------------------------------


def test_cli_dry_run_import_and_errors(tmp_path):
    from django.core.management import CommandError, call_command

    clean = tmp_path / "orders.csv"
    clean.write_bytes(csv_bytes(ORDER_HEADER, order_rows(2), encoding="gb18030"))
    call_command("import", "orders", str(clean), "--dry-run")
    assert not Order.objects.exists()
    call_command("import", "orders", str(clean))
    assert Order.objects.count() == 2
    bad = tmp_path / "bad.csv"
    rows = order_rows(3, start=10)
    rows[0][1] = "123"
    bad.write_bytes(csv_bytes(ORDER_HEADER, rows))
    err = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("import", "orders", str(bad), stderr=err)
    assert exited.value.code == 1 and "report.csv" in err.getvalue() and Order.objects.count() == 2
    with pytest.raises(SystemExit) as exited:
        call_command("import", "orders", str(bad), "--clean-only", stderr=err)
    assert exited.value.code == 2 and Order.objects.count() == 4
    with pytest.raises(CommandError):
        call_command("import", "orders", str(tmp_path / "nothing.csv"))


def test_two_workers_never_run_one_job(settings):
    """The claim is a conditional UPDATE: of two workers racing for a waiting job, one runs it."""
    import threading

    from django.db import connection as thread_connection

    settings.IMPORT_INLINE_MAX_BYTES = 0
    job = upload(csv_bytes(ORDER_HEADER, order_rows(5)))
    barrier = threading.Barrier(2)
    ran = []

    def worker():
        try:
            barrier.wait()
            ran.append(jobs.import_execute(job.pk) is not None)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ran) == [False, True]
    job.refresh_from_db()
    assert job.state == ImportState.CHECKED and job.attempts == 1


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026/11/11 10:00", "2026-11-11T10:00:00"),
        ("2026/1/5 9:05:30", "2026-01-05T09:05:30"),
        ("2026-1-5 9:05", "2026-01-05T09:05:00"),
        ("2026/11/11", "2026-11-11T00:00:00"),
        ("2026-11-11T10:00:00+08:00", "2026-11-11T10:00:00+08:00"),  # ISO as it is
        ("11/11/2026 10:00", "11/11/2026 10:00"),  # day-first or month-first: ambiguous, refused later
    ],
)
def test_a_spreadsheets_local_time_reads_as_iso(cell, expected):
    """Excel (zh-CN) writes 2026/11/11 10:00 in a CSV: every row of such a file was refused."""
    from yunying.commerce.imports.rows import spreadsheet_time

    assert spreadsheet_time(cell) == expected


def test_a_job_that_killed_its_worker_every_time_is_marked_failed(settings):
    """A file that killed each worker that ran it is not retried after IMPORT_MAX_ATTEMPTS and shows
    as failed, instead of "checking" for ever."""
    settings.IMPORT_INLINE_MAX_BYTES = 0
    job = upload(csv_bytes(ORDER_HEADER, order_rows(3)))
    # As the last of its workers left it: claimed (state, attempts), then killed (heartbeat stopped).
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportState.CHECKING,
        attempts=settings.IMPORT_MAX_ATTEMPTS,
        heartbeat_at=job.created_at.replace(year=2000),
    )
    assert jobs.imports_run_due() == {"imports_given_up": 1}
    job.refresh_from_db()
    assert job.state == ImportState.FAILED and job.failure == {"code": "import.failed"}
    assert jobs.imports_run_due() == {}
