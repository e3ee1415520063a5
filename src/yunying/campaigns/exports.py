"""Sign-up exports for analysis (A6): CSV streamed row by row, XLSX built in write-only mode.

Masked by default; a revealed export logs every member in it. Cells that a spreadsheet would run as
a formula (=, +, -, @) are prefixed with a quote (CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from yunying.campaigns.models import Campaign, Signup
from yunying.campaigns.presenters import signups_present
from yunying.campaigns.questions import form_parse
from yunying.core.permissions import Actor

BATCH = 500
FIXED_COLUMNS = [
    "id", "status", "status_reason", "member_id", "phone", "name", "gender", "region_code",
    "channel", "utm_source", "utm_medium", "utm_campaign", "waitlist_rank", "created_at",
]  # fmt: skip


@dataclass(frozen=True)
class Export:
    content: Any
    content_type: str
    filename: str
    streaming: bool


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return _safe(";".join(str(v) for v in value))
    if isinstance(value, dict):
        return _safe(" ".join(str(v) for v in value.values()))
    return _safe(value)


def _rows(campaign: Campaign, signups: QuerySet[Signup], *, reveal: bool, actor: Actor, purpose: str):
    keys = [q.key for q in form_parse(campaign.form)]
    yield FIXED_COLUMNS + [f"answer:{k}" for k in keys]
    query = signups.select_related("member", "campaign").order_by("id")
    last_id = 0
    while True:  # keyset batches: constant memory, no OFFSET scans on large campaigns
        batch = list(query.filter(id__gt=last_id)[:BATCH])
        if not batch:
            return
        for row in signups_present(batch, reveal=reveal, actor=actor, purpose=purpose):
            member = row["member"]
            fixed = [
                row["id"], row["status"], row["status_reason"], member["id"], member["phone"], member["name"],
                member["gender"], member["region_code"], row["channel"], row["utm_source"], row["utm_medium"],
                row["utm_campaign"], row["waitlist_rank"], timezone.localtime(row["created_at"]).isoformat(),
            ]  # fmt: skip
            yield [_cell(v) for v in fixed] + [_cell(row["answers"].get(k, "")) for k in keys]
        last_id = batch[-1].pk


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(rows: Iterator[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # BOM: Excel opens UTF-8 Chinese text correctly
    for row in rows:
        yield writer.writerow(row)


def _xlsx(rows: Iterator[list], title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "signups")
    for row in rows:
        # openpyxl refuses control characters (a stored name with one was a 500): drop them
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def signups_export(
    campaign: Campaign, signups: QuerySet[Signup], *, fmt: str, reveal: bool, actor: Actor, purpose: str
) -> Export:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    rows = _rows(campaign, signups, reveal=reveal, actor=actor, purpose=purpose)
    name = f"campaign-{campaign.pk}-signups-{stamp}"
    if fmt == "xlsx":
        return Export(
            _xlsx(rows, "signups"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{name}.xlsx",
            streaming=False,
        )
    return Export(_csv(rows), "text/csv; charset=utf-8", f"{name}.csv", streaming=True)
