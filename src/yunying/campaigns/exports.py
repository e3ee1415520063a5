"""Sign-up exports for analysis (A6): CSV streamed row by row, XLSX built in write-only mode.

Read as an operations team expects: headers, statuses, channels, genders and choice answers as words in
the request's language; question titles as headers; the member's external id; times in the configured
time zone, and in XLSX real date cells.

Masked by default; a revealed export logs every member in it. Cells that a spreadsheet would run as
a formula (=, +, -, @) are prefixed with a quote (CSV injection)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from yunying.campaigns.models import Campaign, Channel, Signup
from yunying.campaigns.presenters import signups_present
from yunying.campaigns.questions import Question, form_parse
from yunying.core.audit import audit_record
from yunying.core.permissions import Actor
from yunying.core.spreadsheet import spreadsheet_text, xlsx_cell
from yunying.members.regions import region_label

BATCH = 500
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"

# (key, header): a Chinese team reads the file, so headers and codes become words in the request's
# language (zh-Hans by default, English on request); the ids stay for joining with other data.
COLUMNS = [
    ("id", _("Sign-up ID")), ("status", _("Status")), ("status_reason", _("Status reason")),
    ("member_id", _("Member ID")), ("external_id", _("External ID")), ("phone", _("Phone")),
    ("name", _("Name")), ("gender", _("Gender")), ("region", _("Region")), ("region_code", _("Region code")),
    ("channel", _("Channel")), ("utm_source", _("UTM source")), ("utm_medium", _("UTM medium")),
    ("utm_campaign", _("UTM campaign")), ("waitlist_rank", _("Waitlist rank")), ("created_at", _("Signed up at")),
]  # fmt: skip
STATUS_LABELS = {
    "registered": _("Registered (awaiting draw)"), "pending_review": _("Awaiting review"),
    "confirmed": _("Confirmed"), "waitlisted": _("Waitlisted"), "not_selected": _("Not selected"),
    "rejected": _("Rejected"), "withdrawn": _("Withdrawn"), "cancelled": _("Campaign cancelled"),
}  # fmt: skip
# One source of truth for channel words: the model's choices (the console shows them too).
CHANNEL_LABELS = dict(Channel.choices)
GENDER_LABELS = {"male": _("Male"), "female": _("Female"), "unknown": _("Unknown")}


@dataclass(frozen=True)
class Export:
    content: Any
    content_type: str
    filename: str
    streaming: bool


class _Labels:
    """Every label resolved once, in the language of the request: a streamed CSV is written after
    the request's language is no longer active."""

    def __init__(self, questions: list[Question]) -> None:
        self.status = {k: str(v) for k, v in STATUS_LABELS.items()}
        self.channel = {k: str(v) for k, v in CHANNEL_LABELS.items()}
        self.gender = {k: str(v) for k, v in GENDER_LABELS.items()}
        self.yes, self.no = gettext("Yes"), gettext("No")
        self.separator = pgettext("list separator", ", ")
        self.options = {q.key: {o.value: o.label for o in q.options} for q in questions}
        labels = [q.label for q in questions]
        self.headers = [str(header) for _, header in COLUMNS] + [
            q.label if labels.count(q.label) == 1 else f"{q.label} ({q.key})" for q in questions
        ]

    def answer(self, question: Question, value: Any) -> Any:
        """The answer as a team reads it; whatever a stored answer holds (an old form, a bad row), the
        export still answers: a value that does not fit its question is written out as it is."""
        try:
            return _plain(self._answer(question, value))
        except (TypeError, ValueError, KeyError, AttributeError):
            return _plain(value)

    def _answer(self, question: Question, value: Any) -> Any:
        if value is None or value == "":
            return ""
        options = self.options[question.key]
        if question.type == "single_choice":
            return options.get(value, value)
        if question.type == "multi_choice":
            return self.separator.join(options.get(v, v) for v in value)
        if question.type == "consent":
            return self.yes if value else self.no
        if question.type == "address":
            return f"{region_label(value['region_code'])} {value['detail']}".strip()
        if question.type == "date":
            answered = date.fromisoformat(value)
            return answered if answered.year >= 1900 else value  # spreadsheets count days from 1900
        return value


def answers_in_words(questions: list[Question], answers: dict[str, Any]) -> dict[str, Any]:
    """One sign-up's answers as a person reads them, in the form's order: the question's title (with
    its key when two share a title) and the answer in words, as in the export's columns. An answer to
    a question no longer on the form keeps its key and value."""
    labels = _Labels(questions)
    titles = labels.headers[len(COLUMNS) :]
    worded = {
        title: labels.answer(q, answers[q.key])
        for q, title in zip(questions, titles, strict=True)
        if q.key in answers
    }
    known = {q.key for q in questions}
    return worded | {key: value for key, value in answers.items() if key not in known}


def _plain(value: Any) -> Any:
    """A cell value: text, a finite number, a date, or else the value written out as JSON text."""
    if value is None:
        return ""
    if isinstance(value, str | date | bool | int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _rows(campaign: Campaign, signups: QuerySet[Signup], *, reveal: bool, actor: Actor, purpose: str):
    """The header, then one row per sign-up: strings, numbers, dates and local datetimes."""
    questions = form_parse(campaign.form)
    labels = _Labels(questions)
    yield [spreadsheet_text(header) for header in labels.headers]  # operators write question labels
    query = signups.select_related("member", "campaign").order_by("id")
    last_id = 0
    while True:  # keyset batches: constant memory, no OFFSET scans on large campaigns
        batch = list(query.filter(id__gt=last_id)[:BATCH])
        if not batch:
            return
        presented = signups_present(batch, reveal=reveal, actor=actor, purpose=purpose, audited=False)
        for signup, row in zip(batch, presented, strict=True):
            member = row["member"]
            fixed = [
                row["id"], labels.status.get(row["status"], row["status"]), row["status_reason"], member["id"],
                signup.member.external_id or "", member["phone"], member["name"],
                labels.gender.get(member["gender"], member["gender"]),
                region_label(member["region_code"]) if member["region_code"] else "", member["region_code"],
                labels.channel.get(row["channel"], row["channel"]), row["utm_source"], row["utm_medium"],
                row["utm_campaign"], row["waitlist_position"] or "",
                timezone.localtime(row["created_at"]).replace(tzinfo=None),  # spreadsheets know no zones
            ]  # fmt: skip
            answers = [labels.answer(q, row["answers"].get(q.key)) for q in questions]
            yield [spreadsheet_text(v) for v in fixed + answers]
        last_id = batch[-1].pk


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(rows: Iterator[list], watermark: str = "") -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # BOM: Excel opens UTF-8 Chinese text correctly
    if watermark:
        yield writer.writerow([f"# {watermark}"])
    for row in rows:
        yield writer.writerow([_text(v) for v in row])


def _typed(sheet, value: Any) -> Any:
    """Dates and times as real date cells with a number format, so they sort and filter as dates."""
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATETIME_FORMAT if isinstance(value, datetime) else DATE_FORMAT
        return cell
    return value


def _xlsx(rows: Iterator[list], title: str, watermark: str = "") -> bytes:
    workbook = Workbook(write_only=True)
    if watermark:  # in the document's properties and as the last row
        workbook.properties.description = watermark
        workbook.properties.keywords = "personal data; confidential"
        workbook.properties.creator = "Yunying"
    sheet = workbook.create_sheet(title=title[:31] or "signups")
    for row in rows:
        sheet.append([xlsx_cell(sheet, v) if isinstance(v, str) else _typed(sheet, v) for v in row])
    if watermark:
        sheet.append([])
        sheet.append([xlsx_cell(sheet, spreadsheet_text(watermark))])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def signups_export(
    campaign: Campaign,
    signups: QuerySet[Signup],
    *,
    fmt: str,
    reveal: bool,
    actor: Actor,
    purpose: str,
    watermark: str = "",
) -> Export:
    """Raises nothing itself; the export is audited (format, whether revealed, row count) when made.
    `watermark`: a line naming who exported under which approval, written into the file (a first row
    in CSV; the document properties and a last row in XLSX)."""
    count = signups.count()  # read before the write transaction: on SQLite it holds the one write lock
    with transaction.atomic():
        audit_record(
            actor=actor, action="signup.export", object_type="campaign", object_id=campaign.pk,
            after={"format": fmt, "revealed": reveal, "rows": count}, reason=purpose,
        )  # fmt: skip
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    rows = _rows(campaign, signups, reveal=reveal, actor=actor, purpose=purpose)
    name = f"campaign-{campaign.pk}-signups-{stamp}"
    if fmt == "xlsx":
        return Export(
            _xlsx(rows, "signups", watermark),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{name}.xlsx",
            streaming=False,
        )
    return Export(_csv(rows, watermark), "text/csv; charset=utf-8", f"{name}.csv", streaming=True)
