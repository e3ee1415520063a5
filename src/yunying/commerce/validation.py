"""The rules an order fact must meet, as pure functions (one set for the API and the CSV/XLSX import).

Each `check_*` validates and normalises one field: it returns the normal value, or None after
appending a FieldError (field name as the caller gives it, a stable code from OrderFieldError) to
`errors`. The API passes dotted names ("lines.0.paid_fen"); the import, one row per order line,
passes its column names and assembles the order from the rows with the same functions. Nothing here
reads the database: resolving the member and checking the order id against stored orders is the
service's.

Money is integer fen: a float (even 12.0) is refused, never rounded; a string of ASCII digits is
accepted because a CSV cell is text."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from yunying.commerce.errors import OrderFieldError
from yunying.core.errors import DomainError, FieldError, ValidationFailed
from yunying.members.services import phone_normalize

# Sane bounds: a value beyond them is a unit or typing mistake (yuan sent as fen twice, a barcode in
# the quantity), not a sale. 100 million yuan a line; the order total stays far inside BIGINT.
MAX_AMOUNT_FEN = 10_000_000_000
MAX_QUANTITY = 100_000
MAX_LINES = 500
MAX_COUPON_REFS = 20
MAX_QUOTE_LENGTH = 16_000  # a signed quote of a 500-line cart fits
ID_MAX_LENGTH = 64
SKU_MAX_LENGTH = 64
CATEGORY_MAX_LENGTH = 64
REASON_MAX_LENGTH = 200
# A storefront's clock may run a little ahead of ours; more than this is a wrong time zone or date.
FUTURE_SKEW = timedelta(minutes=5)
EARLIEST_AT = datetime(2000, 1, 1, tzinfo=UTC)

# Ids travel in URL paths (GET /orders/{external_id}): no slash, space or percent sign.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_CHANNEL = re.compile(r"^[a-z0-9_-]{1,20}$")
_DIGITS = re.compile(r"^-?[0-9]+$")
_QUOTE = re.compile(r"^[A-Za-z0-9_:.-]+$")  # django.core.signing's alphabet


def _fail(errors: list[FieldError], field: str, code: str, **data: Any) -> None:
    errors.append(FieldError(field, code, **data))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def check_id(value: Any, *, field: str, errors: list[FieldError], required: bool = True) -> str | None:
    """A storefront id (order, member, refund, coupon): 1-64 of [A-Za-z0-9._:-]."""
    if _blank(value):
        if required:
            _fail(errors, field, OrderFieldError.REQUIRED)
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        _fail(errors, field, OrderFieldError.ID_INVALID)
        return None
    text = str(value).strip()
    if not _ID.match(text):
        _fail(errors, field, OrderFieldError.ID_INVALID)
        return None
    return text


def check_text(
    value: Any, *, field: str, errors: list[FieldError], max_length: int, required: bool = True
) -> str | None:
    """Free text (sku, category, reason), stripped; "" when blank and not required."""
    if _blank(value):
        if required:
            _fail(errors, field, OrderFieldError.REQUIRED)
            return None
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        _fail(errors, field, OrderFieldError.TEXT_INVALID, max_length=max_length)
        return None
    text = str(value).strip()
    if len(text) > max_length or _has_control_characters(text):
        _fail(errors, field, OrderFieldError.TEXT_INVALID, max_length=max_length)
        return None
    return text


def check_integer(
    value: Any, *, field: str, errors: list[FieldError], minimum: int = 0, maximum: int
) -> int | None:
    """A whole number in [minimum, maximum]: an int, or a text of ASCII digits (a CSV cell)."""
    if _blank(value):
        _fail(errors, field, OrderFieldError.REQUIRED)
        return None
    if isinstance(value, bool):
        _fail(errors, field, OrderFieldError.NOT_INTEGER)
        return None
    if isinstance(value, str) and _DIGITS.match(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        _fail(errors, field, OrderFieldError.NOT_INTEGER)
        return None
    if value < 0 and minimum >= 0:
        _fail(errors, field, OrderFieldError.NEGATIVE)
        return None
    if value < minimum:
        _fail(errors, field, OrderFieldError.TOO_SMALL, minimum=minimum)
        return None
    if value > maximum:
        _fail(errors, field, OrderFieldError.TOO_LARGE, maximum=maximum)
        return None
    return value


def check_fen(value: Any, *, field: str, errors: list[FieldError]) -> int | None:
    return check_integer(value, field=field, errors=errors, minimum=0, maximum=MAX_AMOUNT_FEN)


def check_quantity(value: Any, *, field: str, errors: list[FieldError]) -> int | None:
    return check_integer(value, field=field, errors=errors, minimum=1, maximum=MAX_QUANTITY)


def check_channel(value: Any, *, field: str, errors: list[FieldError]) -> str | None:
    """The storefront's sales channel (app, miniprogram, web...), optional: "" when blank."""
    if _blank(value):
        return ""
    if not isinstance(value, str) or not _CHANNEL.match(value.strip().lower()):
        _fail(errors, field, OrderFieldError.CHANNEL_INVALID)
        return None
    return value.strip().lower()


def check_campaign_id(value: Any, *, field: str, errors: list[FieldError]) -> int | None:
    """Optional: None when blank (and then nothing is appended either; look at `errors`)."""
    if _blank(value):
        return None
    return check_integer(value, field=field, errors=errors, minimum=1, maximum=2**63 - 1)


def check_coupon_refs(value: Any, *, field: str, errors: list[FieldError]) -> tuple[str, ...] | None:
    """A list of coupon codes or ids, or one text with them separated by "," ";" or spaces (a CSV
    cell). Kept in the order given, repeats dropped."""
    if _blank(value):
        return ()
    if isinstance(value, str):
        value = [part for part in re.split(r"[,;\s]+", value) if part]
    if not isinstance(value, list | tuple) or len(value) > MAX_COUPON_REFS:
        _fail(errors, field, OrderFieldError.LIST_INVALID, max_items=MAX_COUPON_REFS)
        return None
    refs: list[str] = []
    failed = False
    for i, item in enumerate(value):
        ref = check_id(item, field=f"{field}.{i}", errors=errors)
        failed = failed or ref is None
        if ref is not None and ref not in refs:
            refs.append(ref)
    return None if failed else tuple(refs)


def check_instant(
    value: Any,
    *,
    field: str,
    errors: list[FieldError],
    now: datetime | None = None,
    naive_zone: tzinfo | None = None,
) -> datetime | None:
    """An aware instant (a datetime, or ISO 8601 text with an offset), in UTC, not before 2000 and
    not later than now plus a small clock skew. A time without an offset is refused, unless the
    caller names the zone it is in (`naive_zone`: a spreadsheet's cells hold local times)."""
    if _blank(value):
        _fail(errors, field, OrderFieldError.REQUIRED)
        return None
    if isinstance(value, str):
        try:
            value = parse_datetime(value.strip())
        except ValueError:  # well formed but impossible, e.g. 2026-02-30
            value = None
    if not isinstance(value, datetime):
        _fail(errors, field, OrderFieldError.DATETIME_INVALID)
        return None
    if timezone.is_naive(value) and naive_zone is not None:
        value = value.replace(tzinfo=naive_zone)
    if timezone.is_naive(value):
        _fail(errors, field, OrderFieldError.DATETIME_NAIVE)
        return None
    value = value.astimezone(UTC)
    if value < EARLIEST_AT:
        _fail(errors, field, OrderFieldError.TOO_OLD)
        return None
    if value > (now or timezone.now()) + FUTURE_SKEW:
        _fail(errors, field, OrderFieldError.IN_FUTURE)
        return None
    return value


def check_quote(value: Any, *, field: str, errors: list[FieldError]) -> str | None:
    """The signed quote the order was priced with, optional: "" when blank. Only its shape is
    checked here; promotions checks the signature when the order is recorded."""
    if _blank(value):
        return ""
    if not isinstance(value, str) or len(value) > MAX_QUOTE_LENGTH or not _QUOTE.match(value.strip()):
        _fail(errors, field, OrderFieldError.TEXT_INVALID, max_length=MAX_QUOTE_LENGTH)
        return None
    return value.strip()


@dataclass(frozen=True)
class MemberRef:
    external_id: str | None
    phone: str | None  # E.164


def check_member_ref(
    *, external_id: Any, phone: Any, errors: list[FieldError], field: str = "member"
) -> MemberRef | None:
    """At least one of the member's external id and phone (a mobile number, normalised to E.164).
    Field names: `<field>.external_id`, `<field>.phone`, or `<field>` when both are missing."""
    if _blank(external_id) and _blank(phone):
        _fail(errors, field, OrderFieldError.MEMBER_REQUIRED)
        return None
    before = len(errors)
    member_external_id = check_id(external_id, field=f"{field}.external_id", errors=errors, required=False)
    e164 = None
    if not _blank(phone):
        if not isinstance(phone, str):
            phone = str(phone) if isinstance(phone, int) and not isinstance(phone, bool) else ""
        try:
            e164 = phone_normalize(phone, mobile=True)
        except DomainError as exc:  # member.phone_invalid / member.phone_not_mobile
            _fail(errors, f"{field}.phone", exc.code)
    if len(errors) > before:
        return None
    return MemberRef(external_id=member_external_id, phone=e164)


@dataclass(frozen=True)
class LineInput:
    sku: str
    category: str
    unit_price_fen: int
    quantity: int
    paid_fen: int


def check_line(
    *,
    sku: Any,
    category: Any,
    unit_price_fen: Any,
    quantity: Any,
    paid_fen: Any,
    errors: list[FieldError],
    field: str = "",
) -> LineInput | None:
    """One order line; `field` prefixes the names ("lines.0." for the API, "" for an import row)."""
    before = len(errors)
    sku_ = check_text(sku, field=f"{field}sku", errors=errors, max_length=SKU_MAX_LENGTH)
    category_ = check_text(
        category, field=f"{field}category", errors=errors, max_length=CATEGORY_MAX_LENGTH, required=False
    )
    unit_price = check_fen(unit_price_fen, field=f"{field}unit_price_fen", errors=errors)
    quantity_ = check_quantity(quantity, field=f"{field}quantity", errors=errors)
    paid = check_fen(paid_fen, field=f"{field}paid_fen", errors=errors)
    if len(errors) > before:
        return None
    # Discounts only lower what a line costs: paying more than price × quantity is a data error.
    if paid > unit_price * quantity_:
        _fail(
            errors, f"{field}paid_fen", OrderFieldError.PAID_EXCEEDS_PRICE, limit_fen=unit_price * quantity_
        )
        return None
    return LineInput(sku_, category_, unit_price, quantity_, paid)


@dataclass(frozen=True)
class OrderInput:
    """A validated, normalised order, as the service records it."""

    external_id: str
    member: MemberRef
    channel: str
    paid_at: datetime  # UTC
    lines: tuple[LineInput, ...]
    coupon_refs: tuple[str, ...] = ()
    campaign_id: int | None = None
    quote: str = ""

    @property
    def total_fen(self) -> int:
        return sum(line.paid_fen for line in self.lines)


def check_lines(
    value: Any, *, errors: list[FieldError], field: str = "lines"
) -> tuple[LineInput, ...] | None:
    if not isinstance(value, list | tuple) or not value:
        _fail(errors, field, OrderFieldError.LINES_REQUIRED)
        return None
    if len(value) > MAX_LINES:
        _fail(errors, field, OrderFieldError.TOO_MANY_LINES, maximum=MAX_LINES)
        return None
    lines = []
    for i, raw in enumerate(value):
        if not isinstance(raw, Mapping):
            _fail(errors, f"{field}.{i}", OrderFieldError.REQUIRED)
            continue
        line = check_line(
            sku=raw.get("sku"),
            category=raw.get("category"),
            unit_price_fen=raw.get("unit_price_fen"),
            quantity=raw.get("quantity"),
            paid_fen=raw.get("paid_fen"),
            errors=errors,
            field=f"{field}.{i}.",
        )
        if line is not None:
            lines.append(line)
    return tuple(lines) if len(lines) == len(value) else None


def order_validate(
    raw: Mapping[str, Any], *, now: datetime | None = None
) -> tuple[OrderInput | None, list[FieldError]]:
    """The normalised order, or None and every failing field. `raw` is the API's shape:
    {external_id, member: {external_id, phone}, channel, paid_at, lines: [...], coupon_refs, campaign_id}."""
    errors: list[FieldError] = []
    if not isinstance(raw, Mapping):
        return None, [FieldError("body", OrderFieldError.REQUIRED)]
    external_id = check_id(raw.get("external_id"), field="external_id", errors=errors)
    member_raw = raw.get("member") if isinstance(raw.get("member"), Mapping) else {}
    member = check_member_ref(
        external_id=member_raw.get("external_id"), phone=member_raw.get("phone"), errors=errors
    )
    channel = check_channel(raw.get("channel"), field="channel", errors=errors)
    paid_at = check_instant(raw.get("paid_at"), field="paid_at", errors=errors, now=now)
    lines = check_lines(raw.get("lines"), errors=errors)
    coupon_refs = check_coupon_refs(raw.get("coupon_refs"), field="coupon_refs", errors=errors)
    campaign_id = check_campaign_id(raw.get("campaign_id"), field="campaign_id", errors=errors)
    quote = check_quote(raw.get("quote"), field="quote", errors=errors)
    if errors:
        return None, errors
    order = OrderInput(external_id, member, channel, paid_at, lines, coupon_refs, campaign_id, quote)
    return order, []


def order_parse(raw: Mapping[str, Any], *, now: datetime | None = None) -> OrderInput:
    """Raises: core.invalid with every failing field."""
    order, errors = order_validate(raw, now=now)
    if order is None:
        raise ValidationFailed(errors)
    return order


def _digest(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def order_fingerprint(order: OrderInput, *, member_id: int) -> str:
    """The digest that tells a replay from a conflict. Over the member's id, not their phone or
    external id: a digest of a phone number is guessable, and stored it would be personal data."""
    payload = {
        "external_id": order.external_id,
        "member_id": member_id,
        "channel": order.channel,
        "paid_at": order.paid_at.astimezone(UTC).isoformat(),
        "lines": [
            [line.sku, line.category, line.unit_price_fen, line.quantity, line.paid_fen]
            for line in order.lines
        ],
        "coupon_refs": list(order.coupon_refs),
        "campaign_id": order.campaign_id,
    }
    if order.quote:  # absent for orders without one: their fingerprints stay what they were
        payload["quote"] = order.quote
    return _digest(payload)


@dataclass(frozen=True)
class RefundInput:
    """A refund of the whole order (line_no None) or of one line, by amount and/or quantity."""

    external_id: str
    line_no: int | None
    amount_fen: int | None  # None: the line's share for the quantity, or all that is left
    quantity: int | None
    reason: str
    occurred_at: datetime


def refund_validate(
    raw: Mapping[str, Any], *, now: datetime | None = None
) -> tuple[RefundInput | None, list[FieldError]]:
    """{external_id, line_no?, amount_fen?, quantity?, reason?, occurred_at}."""
    errors: list[FieldError] = []
    external_id = check_id(raw.get("external_id"), field="external_id", errors=errors)
    line_no = None
    if not _blank(raw.get("line_no")):
        line_no = check_integer(
            raw.get("line_no"), field="line_no", errors=errors, minimum=1, maximum=MAX_LINES
        )
    amount = None
    if not _blank(raw.get("amount_fen")):
        amount = check_fen(raw.get("amount_fen"), field="amount_fen", errors=errors)
    quantity = None
    if not _blank(raw.get("quantity")):
        quantity = check_quantity(raw.get("quantity"), field="quantity", errors=errors)
        if _blank(raw.get("line_no")):
            _fail(errors, "line_no", OrderFieldError.REQUIRED)  # a quantity counts one line's items
    reason = check_text(
        raw.get("reason"), field="reason", errors=errors, max_length=REASON_MAX_LENGTH, required=False
    )
    occurred_at = check_instant(raw.get("occurred_at"), field="occurred_at", errors=errors, now=now)
    if errors:
        return None, errors
    return RefundInput(external_id, line_no, amount, quantity, reason, occurred_at), []


def refund_fingerprint(refund: RefundInput) -> str:
    return _digest(
        {
            "kind": "refund",
            "external_id": refund.external_id,
            "line_no": refund.line_no,
            "amount_fen": refund.amount_fen,
            "quantity": refund.quantity,
            "reason": refund.reason,
            "occurred_at": refund.occurred_at.isoformat(),
        }
    )


CANCEL_DEFAULT_ID = "cancel"  # an order is cancelled once: a storefront without cancellation ids needs none


@dataclass(frozen=True)
class CancelInput:
    external_id: str
    reason: str
    occurred_at: datetime


def cancel_validate(
    raw: Mapping[str, Any], *, now: datetime | None = None
) -> tuple[CancelInput | None, list[FieldError]]:
    """{external_id?, reason?, occurred_at}."""
    errors: list[FieldError] = []
    external_id = check_id(raw.get("external_id"), field="external_id", errors=errors, required=False)
    reason = check_text(
        raw.get("reason"), field="reason", errors=errors, max_length=REASON_MAX_LENGTH, required=False
    )
    occurred_at = check_instant(raw.get("occurred_at"), field="occurred_at", errors=errors, now=now)
    if errors:
        return None, errors
    return CancelInput(external_id or CANCEL_DEFAULT_ID, reason, occurred_at), []


def cancel_fingerprint(cancel: CancelInput) -> str:
    return _digest(
        {
            "kind": "cancel",
            "external_id": cancel.external_id,
            "reason": cancel.reason,
            "occurred_at": cancel.occurred_at.isoformat(),
        }
    )
