"""The periodic job in several workers at once (core.registry promises it is safe): each segment is
recomputed once per due pass (its history is not doubled) and RFM rows are never duplicated."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from tests.analytics.factories import member, order
from yunying.analytics.models import MemberRfm, Segment, SegmentMember, SegmentMembershipEvent
from yunying.analytics.services import segments_recompute_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("rush")]

WORKERS = 4


def test_workers_running_the_job_at_once_recompute_each_segment_once():
    # given
    now = timezone.now()
    for n in range(12):
        who = member(now=now, region_code="330106" if n % 2 else "440300")
        order(who, now=now, days_ago=n, total_fen=100 * (n + 1))
    for name, prefix in (("zj", "33"), ("gd", "44")):
        Segment.objects.create(name=name, rules={"conditions": [{"field": "region", "values": [prefix]}]})
    barrier = threading.Barrier(WORKERS)
    results, errors = [], []

    def work():
        try:
            barrier.wait(timeout=30)
            results.append(segments_recompute_job(now=now))
        except Exception as exc:  # the test reports any failure
            errors.append(repr(exc))
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    # then
    assert errors == []
    assert sum(r.get("segments", 0) for r in results) == 2  # each segment claimed by one worker
    assert SegmentMembershipEvent.objects.count() == 12  # everyone entered once
    assert SegmentMember.objects.count() == 12
    assert MemberRfm.objects.count() == 12
