"""Concurrent duplicates of one order give exactly one order (the unique storefront id decides), and
concurrent refunds of one order never refund more than was paid; SQLite and PostgreSQL.

Threads, each with its own connection, are released together by a Barrier. The control test inserts
without the replay handling and must see the IntegrityError, proving the threads really race."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, connections

from tests.commerce.helpers import STOREFRONT, ingest, order_payload, refund
from yunying.commerce.models import Order, OrderEvent, OrderLine
from yunying.commerce.services import _insert, orders_rebuild
from yunying.commerce.validation import order_fingerprint, order_parse
from yunying.core.errors import DomainError
from yunying.members.models import Member
from yunying.members.services import member_resolve

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("rush")]

THREADS = 12


def _rush(calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=30)
            return call()
        except DomainError as exc:
            return exc.code
        except IntegrityError:
            return "integrity_error"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_concurrent_duplicates_make_one_order():
    # given: one order sent by twelve retries at once, a new member each time
    # when
    outcomes = _rush([lambda: "replayed" if ingest().replayed else "created"] * THREADS)
    # then
    assert Counter(outcomes) == {"created": 1, "replayed": THREADS - 1}
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 2
    assert Member.objects.count() == 1


def test_concurrent_conflicting_orders_record_one_and_refuse_the_rest():
    payloads = [
        order_payload(lines=[{"sku": "A", "unit_price_fen": 100 + n, "quantity": 1, "paid_fen": 100}])
        for n in range(THREADS)
    ]
    outcomes = _rush([lambda p=p: "created" if not ingest(p).replayed else "replayed" for p in payloads])
    assert Counter(outcomes) == {"created": 1, "order.conflict": THREADS - 1}
    assert Order.objects.count() == 1


def test_control_without_the_replay_handling_the_race_shows():
    """Check-then-insert, every thread checking before any inserts: all see no order, all insert,
    and only the unique constraint keeps it at one (which order_ingest turns into a replay)."""
    order = order_parse(order_payload())
    member = member_resolve(phone=order.member.phone, external_id=None)
    fingerprint = order_fingerprint(order, member_id=member.pk)
    checked = threading.Barrier(THREADS)

    def naive():
        seen = Order.objects.filter(external_id=order.external_id).exists()
        checked.wait(timeout=30)
        if seen:
            return "seen"
        _insert(order, member_id=member.pk, fingerprint=fingerprint, source="api")
        return "created"

    outcomes = Counter(_rush([naive] * THREADS))
    assert outcomes == {"created": 1, "integrity_error": THREADS - 1}
    assert Order.objects.count() == 1


def test_concurrent_refunds_never_exceed_what_was_paid():
    order = ingest().order
    total = order.total_fen
    # twelve refunds of a quarter of the total each: at most four fit
    quarter = total // 4
    outcomes = _rush(
        [
            lambda n=n: refund(order.external_id, external_id=f"R{n}", amount_fen=quarter).event.amount_fen
            for n in range(THREADS)
        ]
    )
    accepted = [o for o in outcomes if isinstance(o, int)]
    assert len(accepted) == 4
    assert set(outcomes) - {quarter} == {"order.over_refund"}
    order.refresh_from_db()
    assert (
        order.refunded_fen
        == 4 * quarter
        == sum(OrderEvent.objects.filter(order=order).values_list("amount_fen", flat=True))
    )
    assert orders_rebuild() == 0
    assert STOREFRONT.role == "integration"
