"""/api/v1/orders through HTTP: record (201) and replay (200), conflict, refunds and cancellation,
Idempotency-Key, permissions, every refusal as problem+json with its code, constant query counts."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.helpers import assert_problem
from tests.commerce.helpers import order_payload
from yunying.commerce.models import Order, OrderEvent
from yunying.core.permissions import Role

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders"


@pytest.fixture
def storefront(api_as):
    return api_as(Role.INTEGRATION)


def test_record_then_replay_then_read(storefront):
    # when
    created = storefront.post_json(URL, order_payload("SO-1"))
    replayed = storefront.post_json(URL, order_payload("SO-1"))
    read = storefront.get(f"{URL}/SO-1")
    # then
    assert created.status_code == 201, created.content
    assert replayed.status_code == 200
    assert read.status_code == 200
    body = created.json()
    assert body == replayed.json() == read.json()
    assert body["total_fen"] == 14997 and body["net_fen"] == 14997 and body["status"] == "paid"
    assert [line["line_no"] for line in body["lines"]] == [1, 2] and body["events"] == []
    assert "phone" not in json.dumps(body)  # the member is an id, never personal data
    assert Order.objects.count() == 1


def test_the_same_id_with_other_content_is_409(storefront):
    storefront.post_json(URL, order_payload("SO-1"))
    response = storefront.post_json(URL, order_payload("SO-1", channel="web"))
    assert_problem(response, 409, "order.conflict")


def test_refund_and_replay_and_cancel(storefront):
    storefront.post_json(URL, order_payload("SO-1"))
    storefront.post_json(URL, order_payload("SO-2"))
    refund = {"external_id": "RF-1", "line_no": 2, "quantity": 1, "occurred_at": "2026-12-02T10:00:00+08:00"}
    # when
    first = storefront.post_json(f"{URL}/SO-1/refunds", refund)
    again = storefront.post_json(f"{URL}/SO-1/refunds", refund)
    cancelled = storefront.post_json(f"{URL}/SO-2/cancel", {"occurred_at": "2026-12-02T10:00:00+08:00"})
    # then
    assert first.status_code == 201, first.content
    assert again.status_code == 200 and again.json() == first.json()
    body = first.json()
    assert body["refunded_fen"] == 1999 and body["status"] == "partially_refunded"
    assert body["lines"][1]["refunded_quantity"] == 1
    assert body["events"][0] | {"recorded_at": None} == {
        "external_id": "RF-1",
        "kind": "refund",
        "line_no": 2,
        "amount_fen": 1999,
        "quantity": 1,
        "reason": "",
        "occurred_at": "2026-12-02T02:00:00Z",
        "recorded_at": None,
    }
    assert cancelled.status_code == 201 and cancelled.json()["status"] == "cancelled"
    assert OrderEvent.objects.count() == 2


REFUSALS = [
    ("unknown order", "NOPE", {"external_id": "R1"}, 404, "order.not_found"),
    ("over refund", "SO-1", {"external_id": "R1", "amount_fen": 15000}, 409, "order.over_refund"),
    ("no such line", "SO-1", {"external_id": "R1", "line_no": 9}, 422, "order.line_not_found"),
    ("empty refund", "SO-1", {"external_id": "R1", "amount_fen": 0}, 422, "order.refund_empty"),
    ("quantity of no line", "SO-1", {"external_id": "R1", "quantity": 1}, 422, "core.invalid"),
    ("float amount", "SO-1", {"external_id": "R1", "amount_fen": 1.5}, 422, "core.invalid"),
    ("naive time", "SO-1", {"external_id": "R1", "occurred_at": "2026-12-02T10:00:00"}, 422, "core.invalid"),
    (
        "before payment",
        "SO-1",
        {"external_id": "R1", "occurred_at": "2026-01-01T11:00:00+08:00"},
        422,
        "order.before_payment",
    ),  # the new-user review: a refund dated 11 months before the payment
]


@pytest.mark.parametrize(
    "order_id, body, status, code", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refund_refusals(storefront, order_id, body, status, code):
    storefront.post_json(URL, order_payload("SO-1"))
    body = {"occurred_at": "2026-12-02T10:00:00+08:00", **body}
    response = storefront.post_json(f"{URL}/{order_id}/refunds", body)
    assert_problem(response, status, code)
    assert not OrderEvent.objects.exists()


def test_refund_over_a_refund_event_conflict(storefront):
    storefront.post_json(URL, order_payload("SO-1"))
    body = {"external_id": "R1", "amount_fen": 1, "occurred_at": "2026-12-02T10:00:00+08:00"}
    storefront.post_json(f"{URL}/SO-1/refunds", body)
    response = storefront.post_json(f"{URL}/SO-1/refunds", body | {"amount_fen": 2})
    assert_problem(response, 409, "order.event_conflict")


def test_cancel_refusals(storefront):
    storefront.post_json(URL, order_payload("SO-1"))
    storefront.post_json(
        URL + "/SO-1/refunds",
        {"external_id": "R1", "amount_fen": 1, "occurred_at": "2026-12-02T10:00:00+08:00"},
    )
    response = storefront.post_json(f"{URL}/SO-1/cancel", {"occurred_at": "2026-12-02T10:00:00+08:00"})
    assert_problem(response, 409, "order.not_cancellable")
    storefront.post_json(URL, order_payload("SO-2"))
    storefront.post_json(f"{URL}/SO-2/cancel", {"occurred_at": "2026-12-02T10:00:00+08:00"})
    response = storefront.post_json(
        f"{URL}/SO-2/refunds", {"external_id": "R1", "occurred_at": "2026-12-02T10:00:00+08:00"}
    )
    assert_problem(response, 409, "order.cancelled")


BAD_ORDERS = [
    (
        "float fen",
        {"lines": [{"sku": "A", "unit_price_fen": 1.5, "quantity": 1, "paid_fen": 1}]},
        "lines.0.unit_price_fen",
    ),
    (
        "text fen",
        {"lines": [{"sku": "A", "unit_price_fen": "100", "quantity": 1, "paid_fen": 1}]},
        "lines.0.unit_price_fen",
    ),
    (
        "negative",
        {"lines": [{"sku": "A", "unit_price_fen": 100, "quantity": 1, "paid_fen": -1}]},
        "lines.0.paid_fen",
    ),
    (
        "paid over price",
        {"lines": [{"sku": "A", "unit_price_fen": 100, "quantity": 1, "paid_fen": 101}]},
        "lines.0.paid_fen",
    ),
    ("no lines", {"lines": []}, "lines"),
    ("future", {"paid_at": "2099-01-01T00:00:00+08:00"}, "paid_at"),
    ("naive", {"paid_at": "2026-12-01T10:00:00"}, "paid_at"),
    ("no member", {"member": {}}, "member"),
    ("landline", {"member": {"phone": "01062345678"}}, "member.phone"),
    ("id with slash", {"external_id": "a/b"}, "external_id"),
    ("unknown member field", {"member": {"phone": "+8613800000001", "name": "x"}}, "member.name"),
    ("unknown field", {"total": 1}, "total"),
]


@pytest.mark.parametrize("change, field", [r[1:] for r in BAD_ORDERS], ids=[r[0] for r in BAD_ORDERS])
def test_bad_orders_get_422_naming_the_field(storefront, change, field):
    response = storefront.post_json(URL, order_payload() | change)
    body = assert_problem(response, 422, "core.invalid")
    assert field in [e["field"] for e in body["errors"]], body
    assert not Order.objects.exists()


def test_idempotency_key_replays_the_first_answer(storefront):
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-1"}
    first = storefront.post_json(URL, order_payload("SO-1"), **headers)
    again = storefront.post_json(URL, order_payload("SO-1"), **headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    reused = storefront.post_json(URL, order_payload("SO-2"), **headers)
    assert_problem(reused, 422, "core.idempotency_key_reused")


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.EXECUTION, Role.SUPPORT])
def test_only_integrators_and_strategy_record_orders(api_as, role):
    response = api_as(role).post_json(URL, order_payload("SO-1"))
    assert_problem(response, 403, "core.permission_denied")


def test_auditors_cannot_read_orders(api_as, storefront):
    storefront.post_json(URL, order_payload("SO-1"))
    assert_problem(api_as(Role.AUDITOR).get(f"{URL}/SO-1"), 403, "core.permission_denied")
    assert api_as(Role.SUPPORT).get(f"{URL}/SO-1").status_code == 200


def test_reading_an_order_takes_the_same_queries_with_1_or_n_lines(storefront):
    line = {"sku": "A", "unit_price_fen": 100, "quantity": 1, "paid_fen": 100}
    storefront.post_json(URL, order_payload("ONE", lines=[line]))
    storefront.post_json(URL, order_payload("MANY", lines=[line] * 20))
    for n in range(3):
        storefront.post_json(
            f"{URL}/MANY/refunds",
            {"external_id": f"R{n}", "line_no": n + 1, "occurred_at": "2026-12-02T10:00:00+08:00"},
        )
    counts = []
    for order_id in ("ONE", "MANY"):
        with CaptureQueriesContext(connection) as queries:
            assert storefront.get(f"{URL}/{order_id}").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_unauthenticated_is_401(client):
    assert_problem(client.post(URL, "{}", content_type="application/json"), 401, "core.unauthenticated")
