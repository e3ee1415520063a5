"""Quotes and quoted orders through the shipped server (`yunying serve`): chunked bodies, junk input
and tampered tokens answer 4xx with a stable code, never a 500, and a refused order is not recorded."""

from __future__ import annotations

import pytest

from tests.api.test_live_server import _request

pytestmark = pytest.mark.xdist_group("live")

LINES = [
    {"sku": f"SKU-{n}", "category": "c", "unit_price_fen": 1999 + n, "quantity": 1 + n % 3} for n in range(50)
]


def test_a_chunked_50_line_quote_is_read_whole(yunying_server):
    status, _, body = _request(yunying_server, "POST", "/api/v1/quotes", {"lines": LINES}, chunked=True)
    assert status == 200, body
    assert body["payable_fen"] == sum(line["unit_price_fen"] * line["quantity"] for line in LINES)
    assert [line["line_no"] for line in body["lines"]] == list(range(1, 51))


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"lines": [', 400, "core.malformed_json"),
        ({"lines": [{**LINES[0], "unit_price_fen": 1.5}]}, 422, "core.invalid"),
        ({"lines": [{**LINES[0], "quantity": 10**30}]}, 422, "core.invalid"),
        ({"lines": LINES, "coupon_ids": [2**70]}, 422, "core.invalid"),
        ({"lines": LINES * 11}, 422, "core.invalid"),  # 550 lines
        ({"lines": LINES, "member": {"phone": "+8613800000001"}}, 422, "core.invalid"),  # by id only
        ({"lines": LINES, "member": {"external_id": "a b"}}, 422, "core.invalid"),
        ({"lines": LINES, "member": {}}, 422, "core.invalid"),
    ],
    ids=[
        "truncated-json",
        "float-price",
        "huge-quantity",
        "huge-coupon-id",
        "too-many-lines",
        "short-phone",
        "bad-phone",
        "empty-member",
    ],
)
def test_junk_quotes_get_a_stable_code(yunying_server, body, status, code):
    got, _, answer = _request(yunying_server, "POST", "/api/v1/quotes", body)
    assert (got, answer["code"]) == (status, code), answer


def _order(quote: dict, external_id: str, token: str) -> dict:
    return {
        "external_id": external_id,
        "member": {"external_id": "live-quote-1"},
        "channel": "",
        "paid_at": quote["quoted_at"],
        "lines": [{**line, "paid_fen": q["paid_fen"]} for line, q in zip(LINES, quote["lines"], strict=True)],
        "quote": token,
    }


def test_a_quoted_order_is_recorded_and_a_tampered_one_is_not(yunying_server):
    status, _, quote = _request(yunying_server, "POST", "/api/v1/quotes", {"lines": LINES})
    assert status == 200, quote
    token = quote["quote"]
    # a token edited by one character is refused, and nothing is recorded
    forged = token[:-3] + ("x" if token[-3] != "x" else "y") + token[-2:]
    status, _, body = _request(yunying_server, "POST", "/api/v1/orders", _order(quote, "LIVE-Q-1", forged))
    assert (status, body["code"]) == (422, "promotion.quote_invalid"), body
    status, _, _ = _request(yunying_server, "GET", "/api/v1/orders/LIVE-Q-1")
    assert status == 404
    # the genuine token records the order
    status, _, body = _request(
        yunying_server, "POST", "/api/v1/orders", _order(quote, "LIVE-Q-1", token), chunked=True
    )
    assert status == 201, body
    # a quote token that is not even the signing alphabet is refused by shape
    status, _, body = _request(
        yunying_server, "POST", "/api/v1/orders", _order(quote, "LIVE-Q-2", "not a token!")
    )
    assert (status, body["code"]) == (422, "core.invalid"), body
