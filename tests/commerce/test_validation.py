"""The order rules, one table: every bad value gets its field and a stable code; good values are
normalised (integer fen, UTC, E.164, lower-case channel)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.commerce.helpers import order_payload
from yunying.commerce.validation import (
    MAX_AMOUNT_FEN,
    MAX_LINES,
    check_coupon_refs,
    check_fen,
    check_instant,
    check_line,
    check_member_ref,
    order_fingerprint,
    order_validate,
    refund_validate,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _with_line(**line):
    base = {"sku": "A", "category": "", "unit_price_fen": 100, "quantity": 1, "paid_fen": 100}
    base.update(line)
    return order_payload(paid_at="2026-12-01T10:00:00+08:00", lines=[base])


BAD = [
    ("missing id", order_payload(external_id=None), "external_id", "order.field_required"),
    ("id with slash", order_payload(external_id="a/b"), "external_id", "order.id_invalid"),
    ("id too long", order_payload(external_id="x" * 65), "external_id", "order.id_invalid"),
    ("no member", order_payload(member={}), "member", "order.member_required"),
    ("bad phone", order_payload(member={"phone": "12345"}), "member.phone", "member.phone_invalid"),
    ("landline", order_payload(member={"phone": "01062345678"}), "member.phone", "member.phone_not_mobile"),
    ("bad member id", order_payload(member={"external_id": "a b"}), "member.external_id", "order.id_invalid"),
    ("channel", order_payload(channel="App Store!"), "channel", "order.channel_invalid"),
    ("naive time", order_payload(paid_at="2026-12-01T10:00:00"), "paid_at", "order.datetime_naive"),
    ("not a time", order_payload(paid_at="yesterday"), "paid_at", "order.datetime_invalid"),
    (
        "impossible day",
        order_payload(paid_at="2026-02-30T10:00:00+08:00"),
        "paid_at",
        "order.datetime_invalid",
    ),
    ("future", order_payload(paid_at="2026-12-04T12:06:00+00:00"), "paid_at", "order.in_future"),
    ("ancient", order_payload(paid_at="1999-12-31T10:00:00+00:00"), "paid_at", "order.too_old"),
    ("no lines", order_payload(lines=[]), "lines", "order.lines_required"),
    ("lines not a list", order_payload(lines="A"), "lines", "order.lines_required"),
    ("too many lines", order_payload(lines=[{}] * (MAX_LINES + 1)), "lines", "order.too_many_lines"),
    ("float price", _with_line(unit_price_fen=1.5), "lines.0.unit_price_fen", "order.not_integer"),
    ("whole float", _with_line(paid_fen=100.0), "lines.0.paid_fen", "order.not_integer"),
    ("decimal text", _with_line(paid_fen="1.00"), "lines.0.paid_fen", "order.not_integer"),
    ("bool", _with_line(quantity=True), "lines.0.quantity", "order.not_integer"),
    ("negative", _with_line(paid_fen=-1), "lines.0.paid_fen", "order.negative"),
    ("zero quantity", _with_line(quantity=0), "lines.0.quantity", "order.too_small"),
    (
        "huge price",
        _with_line(unit_price_fen=MAX_AMOUNT_FEN + 1),
        "lines.0.unit_price_fen",
        "order.too_large",
    ),
    ("huge quantity", _with_line(quantity=10**9), "lines.0.quantity", "order.too_large"),
    ("paid over price", _with_line(paid_fen=101), "lines.0.paid_fen", "order.line_paid_exceeds_price"),
    ("no sku", _with_line(sku=" "), "lines.0.sku", "order.field_required"),
    ("sku control char", _with_line(sku="A\x00"), "lines.0.sku", "order.text_invalid"),
    ("coupon refs", order_payload(coupon_refs={"a": 1}), "coupon_refs", "order.list_invalid"),
    ("coupon ref", order_payload(coupon_refs=["ok", "not ok"]), "coupon_refs.1", "order.id_invalid"),
    ("campaign id", order_payload(campaign_id=0), "campaign_id", "order.too_small"),
    ("campaign id text", order_payload(campaign_id="x"), "campaign_id", "order.not_integer"),
]


@pytest.mark.parametrize("raw, field, code", [row[1:] for row in BAD], ids=[row[0] for row in BAD])
def test_bad_orders_name_the_field_and_code(raw, field, code):
    # when
    order, errors = order_validate(raw, now=NOW)
    # then
    assert order is None
    assert {"field": field, "code": code} in [{"field": e["field"], "code": e["code"]} for e in errors]
    assert all(e["message"] for e in errors)


def test_every_failing_field_is_reported_at_once():
    raw = order_payload(external_id="", member={}, lines=[{"sku": "", "unit_price_fen": -1}])
    _, errors = order_validate(raw, now=NOW)
    fields = {e["field"] for e in errors}
    assert {"external_id", "member", "lines.0.sku", "lines.0.unit_price_fen", "lines.0.quantity"} <= fields


def test_a_good_order_is_normalised():
    raw = order_payload(
        external_id=" SO-9 ",
        member={"phone": "138 0013 8000", "external_id": "U1"},
        channel="MiniProgram",
        paid_at="2026-12-01T10:00:00+08:00",
        coupon_refs="C1, C2;C1",
        campaign_id="12",
    )
    order, errors = order_validate(raw, now=NOW)
    assert errors == []
    assert order.external_id == "SO-9"
    assert order.member.phone == "+8613800138000" and order.member.external_id == "U1"
    assert order.channel == "miniprogram"
    assert order.paid_at == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    assert order.coupon_refs == ("C1", "C2")
    assert order.campaign_id == 12
    assert order.total_fen == 9000 + 5997


def test_a_clock_a_little_ahead_is_accepted():
    order, errors = order_validate(order_payload(paid_at=(NOW + timedelta(minutes=4)).isoformat()), now=NOW)
    assert errors == [] and order is not None


def test_per_field_checks_serve_a_flat_import_row():
    # given: one CSV row per order line, all cells text
    row = {"sku": "A", "category": "", "unit_price_fen": "1200", "quantity": "2", "paid_fen": "2400"}
    errors = []
    # when
    line = check_line(**row, errors=errors)
    member = check_member_ref(external_id="", phone="13800138000", errors=errors, field="member")
    paid_at = check_instant("2026-12-01 10:00:00+08:00", field="paid_at", errors=errors, now=NOW)
    refs = check_coupon_refs("C1;C2", field="coupon_refs", errors=errors)
    # then
    assert errors == []
    assert (line.unit_price_fen, line.quantity, line.paid_fen) == (1200, 2, 2400)
    assert member.phone == "+8613800138000" and paid_at.tzinfo is UTC and refs == ("C1", "C2")


def test_row_field_names_are_the_callers():
    errors = []
    assert check_fen("12.5", field="row 3: paid_fen", errors=errors) is None
    assert errors[0]["field"] == "row 3: paid_fen" and errors[0]["code"] == "order.not_integer"


def test_fingerprint_changes_with_content_not_with_spelling():
    a, _ = order_validate(order_payload(paid_at="2026-12-01T10:00:00+08:00", channel="APP"), now=NOW)
    b, _ = order_validate(order_payload(paid_at="2026-12-01T02:00:00Z", channel="app"), now=NOW)
    c, _ = order_validate(order_payload(paid_at="2026-12-01T02:00:01Z"), now=NOW)
    assert order_fingerprint(a, member_id=1) == order_fingerprint(b, member_id=1)
    assert order_fingerprint(a, member_id=1) != order_fingerprint(c, member_id=1)
    assert order_fingerprint(a, member_id=1) != order_fingerprint(a, member_id=2)


REFUNDS_BAD = [
    ("no id", {"amount_fen": 1}, "external_id", "order.field_required"),
    ("float amount", {"external_id": "R1", "amount_fen": 1.5}, "amount_fen", "order.not_integer"),
    ("quantity without line", {"external_id": "R1", "quantity": 1}, "line_no", "order.field_required"),
    ("line zero", {"external_id": "R1", "line_no": 0}, "line_no", "order.too_small"),
    ("no time", {"external_id": "R1", "occurred_at": None}, "occurred_at", "order.field_required"),
]


@pytest.mark.parametrize("raw, field, code", [r[1:] for r in REFUNDS_BAD], ids=[r[0] for r in REFUNDS_BAD])
def test_bad_refunds(raw, field, code):
    raw = {"occurred_at": "2026-12-01T10:00:00+08:00", **raw}
    refund, errors = refund_validate(raw, now=NOW)
    assert refund is None
    assert (field, code) in [(e["field"], e["code"]) for e in errors]


def test_a_spreadsheet_s_local_time_is_read_in_the_zone_the_caller_names():
    from zoneinfo import ZoneInfo

    errors = []
    naive = datetime(2026, 12, 1, 10, 0)
    assert check_instant(naive, field="paid_at", errors=errors, now=NOW) is None
    assert errors[0]["code"] == "order.datetime_naive"
    shanghai = ZoneInfo("Asia/Shanghai")
    got = check_instant(naive, field="paid_at", errors=[], now=NOW, naive_zone=shanghai)
    assert got == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
