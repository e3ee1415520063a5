"""The two signals that carry an SMS farm's registration to its later sign-up (docs/risk.md "Signals"):
`virtual.wave_factor`, this hour's virtual-number registrations against the day's hourly rate, and
`member.registration_score`, the highest score of the member's earlier live decisions in the last 30 days."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from yunying.risk.models import Decision
from yunying.risk.services import risk_assess
from yunying.risk.signals import RiskInput

pytestmark = pytest.mark.django_db

T = datetime(2026, 11, 11, 12, 0, 0, tzinfo=UTC)
_refs = itertools.count(1)


def _judge(at: datetime, *, entry: str, member: str, phone: str = "", ip: str = "", **values) -> Decision:
    n = next(_refs)
    verdict = risk_assess(
        RiskInput(entry=entry, subject_type="x", subject_ref=f"R{n}", member_ref=member, at=at, phone=phone, ip=ip or f"114.{n % 200}.{n % 250}.1", **values)
    )  # fmt: skip
    assert not verdict.fallback
    return Decision.objects.get(pk=verdict.decision_id)


def _virtual(n: int) -> str:
    return f"170{n * 7_919 % 10**8:08d}"  # spread over blocks: no phone run


def test_a_wave_of_virtual_registrations_is_seen_and_one_alone_is_not(store):
    # given one virtual-number registration yesterday (the day's rate) and a wave of ten this hour
    _judge(T - timedelta(hours=20), entry="member.register", member="early", phone=_virtual(1))
    alone = _judge(T - timedelta(hours=2), entry="member.register", member="alone", phone=_virtual(2))
    wave = [_judge(T - timedelta(minutes=30 - n), entry="member.register", member=f"w{n}", phone=_virtual(10 + n)) for n in range(10)]  # fmt: skip
    # then the lone one is no wave, the tenth of the wave is (24 × 10 this hour / 12 today = 20)
    assert alone.signals["virtual.events_1h"] == 1
    assert "virtual_wave" not in {reason["rule"] for reason in alone.reasons}
    last = wave[-1]
    assert (last.signals["virtual.events_1h"], last.signals["virtual.events_24h"]) == (10, 12)
    assert last.signals["virtual.wave_factor"] == 20.0
    assert "virtual_wave" in {reason["rule"] for reason in last.reasons}


def test_mainland_numbers_and_sign_ups_do_not_count_towards_a_wave(store):
    _judge(T - timedelta(minutes=5), entry="member.register", member="m", phone="13912345678")
    signup = _judge(T - timedelta(minutes=4), entry="signup.create", member="v", phone=_virtual(3))
    registered = _judge(T, entry="member.register", member="v2", phone=_virtual(4))
    assert not any(name.startswith("virtual.") for name in signup.signals)
    assert registered.signals["virtual.events_1h"] == 1


def test_registration_score_is_the_members_own_earlier_live_decisions_within_30_days(store):
    # given member A: a registration scored 45 ten days ago, a shadow decision scored 100, one of 95
    # 31 days ago; and member B scored 99 yesterday
    registration = _judge(
        T - timedelta(days=10), entry="member.register", member="A", form_fill_ms=1000, phone=_virtual(5)
    )
    Decision.objects.create(entry="member.register", subject_type="x", subject_ref="shadow", member_ref="A", at=T - timedelta(days=1), score=100, action="block", shadow=True)  # fmt: skip
    Decision.objects.create(entry="member.register", subject_type="x", subject_ref="old", member_ref="A", at=T - timedelta(days=31), score=95, action="block")  # fmt: skip
    Decision.objects.create(entry="member.register", subject_type="x", subject_ref="other", member_ref="B", at=T - timedelta(days=1), score=99, action="block")  # fmt: skip
    Decision.objects.create(entry="coupon.claim", subject_type="x", subject_ref="claim", member_ref="A", at=T - timedelta(days=1), score=98, action="block")  # fmt: skip
    # when A signs up
    signup = _judge(T, entry="signup.create", member="A", phone=_virtual(5))
    # then only the live registration within the window counts (not A's coupon claim)
    assert registration.score > 0
    assert signup.signals["member.registration_score"] == registration.score
    assert _judge(T, entry="signup.create", member="C").signals["member.registration_score"] == 0


def test_a_virtual_account_flagged_at_registration_is_challenged_at_sign_up(store):
    # given a virtual number registered as the tenth of a wave (scored 45: virtual_number + virtual_wave)
    for n in range(9):
        _judge(
            T - timedelta(hours=3, minutes=30 - n),
            entry="member.register",
            member=f"w{n}",
            phone=_virtual(20 + n),
        )
    registration = _judge(T - timedelta(hours=3), entry="member.register", member="farm", phone=_virtual(40))
    assert registration.score >= 40
    # when it signs up three hours later from a home address with a human form time
    signup = _judge(T, entry="signup.create", member="farm", phone=_virtual(40), form_fill_ms=20_000)
    # then it is challenged, and says why
    assert signup.action == "challenge"
    assert "flagged_virtual" in {reason["rule"] for reason in signup.reasons}


def test_a_member_who_passes_a_challenge_gets_the_retry_through(store):
    # given a virtual number on an account made minutes ago: its sign-up is challenged (40)
    now = timezone.now()  # the challenge expires in real time
    _judge(now - timedelta(minutes=5), entry="member.register", member="V", phone=_virtual(50))
    first = risk_assess(RiskInput(entry="signup.create", subject_type="signup", subject_ref="S-v", member_ref="V", at=now, phone=_virtual(50), ip="114.1.1.1", form_fill_ms=20_000))  # fmt: skip
    assert first.action == "challenge"
    # when the member passes it and retries with the token
    from yunying.core.permissions import Actor
    from yunying.risk.services import challenge_pass

    challenge_pass(token=first.challenge, actor=Actor(kind="member", id=1, label="V"))
    retry = risk_assess(RiskInput(entry="signup.create", subject_type="signup", subject_ref="S-v", member_ref="V", at=now + timedelta(seconds=1), phone=_virtual(50), ip="114.1.1.1", form_fill_ms=20_000, challenge=first.challenge))  # fmt: skip
    # then it goes through: its own challenged attempt did not raise the retry's score
    assert retry.action == "allow", retry.reasons
