"""risk/names.py, what a rule set may name, is what the engine computes: a signal the engine adds and
the list lacks would be refused in every rule set; one the list has and the engine never computes
would let a rule be saved that never fires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yunying.risk import counters
from yunying.risk.models import Decision
from yunying.risk.names import COUNTER_KINDS, ENTRY_POINTS, EVENT_SIGNALS, SIGNALS
from yunying.risk.services import risk_assess
from yunying.risk.signals import Entry, RiskInput

pytestmark = pytest.mark.django_db

T = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)


def _signals(n: int, entry: str, **values) -> set[str]:
    verdict = risk_assess(RiskInput(entry=entry, subject_type="x", subject_ref=f"N{n}", at=T + timedelta(seconds=n), **values))  # fmt: skip
    return set(Decision.objects.get(pk=verdict.decision_id).signals)


def test_every_signal_the_engine_computes_is_a_name_rules_may_use():
    person = {"ip": "114.80.1.1", "device_id": "dev-aaaaaaaa", "user_agent": "Mozilla/5.0 (iPhone)", "form_fill_ms": 9000, "channel": "h5", "identity_number": "110101199001011237", "payer": "alipay:1"}  # fmt: skip
    seen: set[str] = set()
    # a virtual-number registration, then members at one building's doors, an invite and an order
    seen |= _signals(1, Entry.MEMBER_REGISTER, member_ref="A", phone="17012345678", **person)
    seen |= _signals(2, Entry.SIGNUP_CREATE, member_ref="A", phone="17012345678", campaign_ref="c1", address="北京市朝阳区建国路1号3栋2单元501", **person)  # fmt: skip
    seen |= _signals(3, Entry.SIGNUP_CREATE, member_ref="B", invited_by="A", phone="13912345678", campaign_ref="c1", address="北京市朝阳区建国路1号3栋2单元502", ip="114.80.1.2")  # fmt: skip
    seen |= _signals(4, Entry.ORDER_INGEST, member_ref="B", amount_fen=500, payer="alipay:1", ip="114.80.1.3")
    seen |= _signals(5, Entry.SMS_SEND, phone="17012345679", ip="114.80.1.4")
    unknown = seen - SIGNALS
    assert not unknown, f"add to risk/names.py: {sorted(unknown)}"
    # and every event-level name was computed by one of them
    assert set(EVENT_SIGNALS) <= seen


def test_counter_kinds_and_entry_points_agree_with_the_engine():
    assert set(counters.KINDS) <= set(COUNTER_KINDS)
    assert set(ENTRY_POINTS) == {entry.value for entry in Entry}


def test_every_signal_a_rule_can_use_has_words_for_the_console():
    from django.utils import translation

    from yunying.risk.signal_labels import signal_label

    with translation.override("zh-hans"):
        unlabelled = sorted(name for name in SIGNALS if signal_label(name) == name)
        assert signal_label("ip24.accounts_1h") == "同一 IP 段（/24） · 近 1 小时的账号数"
    assert not unlabelled
    assert signal_label("no.such_signal") == "no.such_signal"
