"""An order is judged after it happened (docs/risk.md): a score in the challenge band asks a person,
never for a challenge nobody could answer."""

from __future__ import annotations

import pytest

from yunying.risk.models import Case, Challenge, Decision
from yunying.risk.services import risk_assess
from yunying.risk.signals import RiskInput

pytestmark = pytest.mark.django_db


def test_an_order_in_the_challenge_band_goes_to_review_without_a_token():
    # given three members paying with one account: payer_shared (40), the challenge band
    for n in range(3):
        verdict = risk_assess(RiskInput(entry="order.ingest", subject_type="order", subject_ref=f"o{n}", member_ref=f"m{n}", payer="alipay:shared", amount_fen=5000, ip=f"114.80.{n}.1"))  # fmt: skip
    decision = Decision.objects.get(pk=verdict.decision_id)
    assert decision.score == 40  # payer_shared: the challenge band
    assert verdict.action == "review" and not verdict.challenge
    assert Case.objects.filter(decision=decision).exists() and not Challenge.objects.exists()
