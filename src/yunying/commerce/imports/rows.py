"""One row of an import file, checked and normalised: the order-line rules are commerce.validation's
(one set of rules for the API and the import), the member rules members.services'. Nothing here reads
the database; the pipeline checks ids against it a batch at a time.

Amounts: a `..._fen` column holds whole fen; a `..._yuan` column holds yuan with at most two decimals
("12", "12.5", "12.50"), converted exactly (no float arithmetic): 12.50 yuan = 1250 fen. A third
decimal is refused, never rounded. Times: ISO 8601 ("2026-11-11 10:00:00", "2026-11-11T10:00+08:00")
or an Excel date-time cell; a time without an offset is in the configured zone (Asia/Shanghai)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from django.utils import timezone

from yunying.commerce.imports.errors import ImportError_
from yunying.commerce.validation import (
    LineInput,
    check_campaign_id,
    check_channel,
    check_coupon_refs,
    check_id,
    check_instant,
    check_line,
)
from yunying.core.errors import DomainError, FieldError
from yunying.members.models import Gender
from yunying.members.services import MemberRef, Profile, phone_normalize, profile_errors

_YUAN = re.compile(r"^([0-9]{1,9})(?:\.([0-9]{1,2}))?$")
_DATE = re.compile(r"^([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})$")
NAME_MAX_LENGTH = 50

GENDERS = {
    "男": Gender.MALE, "male": Gender.MALE, "m": Gender.MALE,
    "女": Gender.FEMALE, "female": Gender.FEMALE, "f": Gender.FEMALE,
    "未知": Gender.UNKNOWN, "unknown": Gender.UNKNOWN, "": Gender.UNKNOWN,
}  # fmt: skip


@dataclass(frozen=True)
class RowError:
    row: int
    column: str  # the column key (columns.py); the report shows the file's own header text
    code: str
    data: dict | None = None


def cell(cells: list[Any], index: int | None) -> Any:
    if index is None or index >= len(cells):
        return None
    value = cells[index]
    return value.strip() if isinstance(value, str) else value


def is_formula(value: Any) -> bool:
    """A formula cell of an XLSX (its text, never its result) or a CSV cell written as one."""
    return isinstance(value, str) and value.startswith("=") and len(value) > 1


def yuan_to_fen(value: Any) -> int | None:
    """Exact fen of a yuan amount, or None when it is not one (a third decimal, text, negative)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value * 100 if value >= 0 else None
    if isinstance(value, float):
        value = repr(value)  # the shortest text that reads back as this float: 12.3 -> "12.3"
    if not isinstance(value, str):
        return None
    match = _YUAN.match(value.strip())
    if match is None:
        return None
    whole, decimals = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(decimals)


@lru_cache(maxsize=200_000)
def _phone(raw: str) -> tuple[str | None, str | None]:
    """E.164 or the refusal code; cached because a file names each member on many rows and
    phonenumbers takes ~100 µs a parse."""
    try:
        return phone_normalize(raw, mobile=True), None
    except DomainError as exc:
        return None, exc.code


def check_phone(value: Any, *, row: int, column: str, errors: list[RowError]) -> str | None:
    if value is None or value == "":
        return None
    e164, code = _phone(str(value))
    if code:
        errors.append(RowError(row, column, code))
    return e164


# How a zh-CN spreadsheet writes a local time in a CSV cell: 2026/11/11 10:00, 2026/1/5 9:05:30,
# 2026-1-5 9:05 (no zero padding, slashes). Read as the ISO text commerce.validation takes.
_SPREADSHEET_TIME = re.compile(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def spreadsheet_time(value: Any) -> Any:
    """`value` as ISO 8601 text when it is a spreadsheet's local date and time, else as it is."""
    if not isinstance(value, str):
        return value
    match = _SPREADSHEET_TIME.match(value.strip())
    if match is None:
        return value
    year, month, day, hour, minute, second = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}T{int(hour or 0):02d}:{minute or '00'}:{second or '00'}"


def check_paid_at(value: Any, *, row: int, errors: list[RowError], now: datetime) -> datetime | None:
    """commerce.validation's instant, with a spreadsheet's local times (2026/11/11 10:00 as Excel
    writes them) read in the configured zone."""
    value = spreadsheet_time(value)
    field_errors: list[FieldError] = []
    instant = check_instant(
        value, field="paid_at", errors=field_errors, now=now, naive_zone=timezone.get_default_timezone()
    )
    errors.extend(RowError(row, "paid_at", each["code"]) for each in field_errors)
    return instant


# Field names of commerce.validation -> the import's column keys.
_LINE_FIELDS = {"sku": "sku", "category": "category", "quantity": "quantity"}


@dataclass(frozen=True)
class OrderHead:
    """What every line of one order repeats: compared as raw cells between its rows."""

    order_id: str
    member: MemberRef
    channel: str
    paid_at: datetime
    coupon_refs: tuple[str, ...]
    campaign_id: int | None


ORDER_KEYS = (
    "order_id", "member_phone", "member_external_id", "paid_at", "channel", "coupon_refs", "campaign_id",
    "sku", "category", "unit_price_fen", "unit_price_yuan", "quantity", "paid_fen", "paid_yuan",
)  # fmt: skip


def order_indices(columns: dict[str, int]) -> tuple[int, ...]:
    """Where each of ORDER_KEYS is in a row (-1: no such column): picked once per row, not looked up."""
    return tuple(columns.get(key, -1) for key in ORDER_KEYS)


def _amount(fen: Any, yuan: Any, *, yuan_key: str, row: int, errors: list[RowError]) -> Any:
    """The cell to give check_line as fen: the fen column's cell, or the yuan column's converted."""
    if yuan is None or yuan == "":
        return fen
    if fen is not None and fen != "":
        errors.append(RowError(row, yuan_key, ImportError_.AMOUNT_BOTH))
        return None
    converted = yuan_to_fen(yuan)
    if converted is None:
        errors.append(RowError(row, yuan_key, ImportError_.YUAN_INVALID))
    return converted


def order_row_check(
    number: int,
    cells: list[Any],
    indices: tuple[int, ...],
    columns: dict[str, int],
    *,
    errors: list[RowError],
) -> tuple[str | None, tuple, LineInput | None]:
    """(order id, the raw order-level cells, the line or None) of one row; failures appended to
    `errors`. The hot loop of an import (a million rows): cells picked once, no per-cell calls."""
    width = len(cells)
    values = [
        (value.strip() if type(value) is str else value)
        for value in [cells[i] if 0 <= i < width else None for i in indices]
    ]
    (order_id, phone, external, paid_at, channel, coupons, campaign,
     sku, category, price_fen, price_yuan, quantity, paid_fen, paid_yuan) = values  # fmt: skip
    field_errors: list[FieldError] = []
    order_id = check_id(order_id, field="order_id", errors=field_errors)
    raw_head = (phone, external, paid_at, channel, coupons, campaign)
    if any(type(value) is str and len(value) > 1 and value[0] == "=" for value in values):
        # Nothing else is checked: the cell's value is unknown (never evaluated).
        errors.extend(
            RowError(number, key, ImportError_.FORMULA) for key, value in zip(ORDER_KEYS, values, strict=True)
            if is_formula(value)
        )  # fmt: skip
        errors.extend(RowError(number, "order_id", each["code"]) for each in field_errors)
        return order_id, raw_head, None
    before = len(errors)
    unit_price = _amount(price_fen, price_yuan, yuan_key="unit_price_yuan", row=number, errors=errors)
    paid = _amount(paid_fen, paid_yuan, yuan_key="paid_yuan", row=number, errors=errors)
    line = check_line(
        sku=sku,
        category=category,
        unit_price_fen=unit_price,
        quantity=quantity,
        paid_fen=paid,
        errors=field_errors,
    )
    # A yuan cell already reported: check_line's "required" for the fen it lacks says nothing more.
    reported = {error.column.replace("_yuan", "_fen") for error in errors[before:]}
    for each in field_errors:
        if each["field"] not in reported:
            errors.append(RowError(number, _column_of(each["field"], columns), each["code"]))
    return order_id, raw_head, line


def order_head_check(
    number: int, order_id: str, raw_head: tuple, *, now: datetime, errors: list[RowError]
) -> OrderHead | None:
    """The order-level fields, checked once per order (on its first row)."""
    raw_phone, raw_external, raw_paid_at, raw_channel, raw_coupons, raw_campaign = raw_head
    before = len(errors)
    if raw_phone in (None, "") and raw_external in (None, ""):
        errors.append(RowError(number, "member_phone", "order.member_required"))
    e164 = check_phone(raw_phone, row=number, column="member_phone", errors=errors)
    field_errors: list[FieldError] = []
    external_id = check_id(raw_external, field="member_external_id", errors=field_errors, required=False)
    channel = check_channel(raw_channel, field="channel", errors=field_errors)
    coupons = check_coupon_refs(raw_coupons, field="coupon_refs", errors=field_errors)
    campaign_id = check_campaign_id(raw_campaign, field="campaign_id", errors=field_errors)
    paid_at = check_paid_at(raw_paid_at, row=number, errors=errors, now=now)
    for each in field_errors:
        errors.append(RowError(number, each["field"].split(".")[0], each["code"]))
    if len(errors) > before:
        return None
    return OrderHead(order_id, MemberRef(e164, external_id), channel, paid_at, coupons, campaign_id)


def _column_of(field: str, columns: dict[str, int]) -> str:
    if field in _LINE_FIELDS:
        return field
    if field in ("unit_price_fen", "paid_fen"):
        yuan = field.replace("_fen", "_yuan")
        return yuan if yuan in columns else field
    return field


@dataclass(frozen=True)
class MemberRow:
    ref: MemberRef
    profile: Profile
    channel: str


def _birth_date(value: Any) -> date | bool | None:
    """A date, None when blank, False when not a date."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = _DATE.match(str(value).strip())
    if match is None:
        return False
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return False


def member_row_check(
    number: int, cells: list[Any], columns: dict[str, int], *, errors: list[RowError]
) -> MemberRow | None:
    before = len(errors)
    for key, index in columns.items():
        if index < len(cells) and is_formula(cells[index]):
            errors.append(RowError(number, key, ImportError_.FORMULA))
    if len(errors) > before:
        return None
    raw_phone = cell(cells, columns.get("phone"))
    raw_external = cell(cells, columns.get("external_id"))
    if raw_phone in (None, "") and raw_external in (None, ""):
        errors.append(RowError(number, "phone", "member.identity_required"))
        return None
    e164 = check_phone(raw_phone, row=number, column="phone", errors=errors)
    field_errors: list[FieldError] = []
    external_id = check_id(raw_external, field="external_id", errors=field_errors, required=False)
    channel = check_channel(
        cell(cells, columns.get("source_channel")), field="source_channel", errors=field_errors
    )
    name = cell(cells, columns.get("name"))
    name = "" if name is None else str(name)
    if len(name) > NAME_MAX_LENGTH:
        field_errors.append(FieldError("name", "order.text_invalid", max_length=NAME_MAX_LENGTH))
    for each in field_errors:
        errors.append(RowError(number, each["field"], each["code"]))
    raw_gender = cell(cells, columns.get("gender"))
    gender = GENDERS.get(str(raw_gender or "").strip().lower())
    if gender is None:
        errors.append(RowError(number, "gender", ImportError_.GENDER_INVALID))
    birth_date = _birth_date(cell(cells, columns.get("birth_date")))
    if birth_date is False:
        errors.append(RowError(number, "birth_date", ImportError_.DATE_INVALID))
        birth_date = None
    region = cell(cells, columns.get("region_code"))
    region = "" if region is None else str(region)
    profile = Profile(
        name=name or None,
        gender=None if gender in (None, Gender.UNKNOWN) else gender,
        birth_date=birth_date,
        region_code=region or None,
    )
    for problem in profile_errors(profile):
        errors.append(RowError(number, problem.data.get("field", "name"), problem.code))
    if len(errors) > before:
        return None
    return MemberRow(MemberRef(e164, external_id), profile, channel or "")
