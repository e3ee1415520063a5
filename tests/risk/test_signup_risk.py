"""Sign-ups through risk control against the contract (campaigns admission, docs/risk.md): a block is
risk.blocked and writes no sign-up; a challenge is risk.challenge_required and the retry with the
passed token is admitted, once; a review holds the sign-up for a person, and the case and the
campaign's page decide it together. Through the service and through the API."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.helpers import assert_problem, signup_payload, signups_url
from tests.campaigns.factories import CampaignFactory
from tests.members.factories import mobile
from yunying.campaigns.models import Campaign, Signup
from yunying.campaigns.services.admission import MemberIdentity, Source, signup_confirm, signup_create
from yunying.core.errors import DomainError
from yunying.core.permissions import Actor, Role
from yunying.members.models import Member
from yunying.members.services import Profile
from yunying.risk.models import Case, Challenge, Decision
from yunying.risk.services import case_decide, challenge_pass, risk_assess
from yunying.risk.signals import RiskInput

pytestmark = pytest.mark.django_db

STOREFRONT = Actor(kind="api_key", id=99, label="storefront", role=Role.INTEGRATION)
REVIEWER = Actor(kind="user", id=7, label="reviewer", role=Role.EXECUTION)
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0"
SCRIPT = "python-requests/2.31.0"
DATACENTRE = "47.92.1.1"
HOME = "114.80.1.1"
DEVICE = "6D92078A-8246-4BA4-AE5B-76104861E7DC"


@pytest.fixture
def campaign():
    return CampaignFactory(status="published", capacity=5)


def _sign_up(campaign, n: int, *, ip=HOME, agent=BROWSER, fill_ms=20_000, device="", token=""):
    return signup_create(
        campaign_id=campaign.pk,
        identity=MemberIdentity(phone=mobile(n), profile=Profile(birth_date=None)),
        answers={},
        source=Source(
            channel="h5",
            client_ip=ip,
            user_agent=agent,
            form_fill_ms=fill_ms,
            device_id=device,
            risk_challenge=token,
        ),
        actor=STOREFRONT,
    )


def _refused(campaign, n: int, **source) -> DomainError:
    with pytest.raises(DomainError) as refused:
        _sign_up(campaign, n, **source)
    return refused.value


def _seats(campaign) -> int:
    return Campaign.objects.get(pk=campaign.pk).seats_taken


# ---------------------------------------------------------------- block


def test_a_clearly_fraudulent_attempt_is_blocked_and_writes_no_sign_up(campaign):
    # given a script from a data centre filling the form in 300 ms
    fraud = {"ip": DATACENTRE, "agent": SCRIPT, "fill_ms": 300, "device": DEVICE}
    # when it signs up, and again as a second account on the same device
    first = _refused(campaign, 1, **fraud)
    second = _refused(campaign, 2, **fraud)
    # then both are refused by risk control, with the decision to ask a human review of
    for refusal in (first, second):
        assert refusal.code == "risk.blocked"
        decision = Decision.objects.get(pk=refusal.data["decision"])
        assert (decision.action, decision.score, decision.subject_type) == ("block", 100, "signup")
        assert {"scripted_client", "datacentre_ip", "inhuman_fill"} <= {r["rule"] for r in decision.reasons}
        assert refusal.data["reasons"]  # labels only
    # and nothing was written: no sign-up, no member, no seat
    assert not Signup.objects.exists()
    assert not Member.objects.exists()
    assert _seats(campaign) == 0
    # the second account on the device was counted as a second account
    assert Decision.objects.get(pk=second.data["decision"]).signals["device.accounts_24h"] == 2


def test_one_person_retrying_is_one_account(campaign):
    # given a refused new member trying again from one device
    _refused(campaign, 1, ip=DATACENTRE, agent=SCRIPT, fill_ms=300, device=DEVICE)
    with contextlib.suppress(DomainError):  # refused or held: either way judged
        _sign_up(campaign, 1, ip=DATACENTRE, agent=SCRIPT, fill_ms=300, device=DEVICE)
    # then risk control counted one member on that device, not two, and saw it come back
    first, second = Decision.objects.order_by("pk")
    assert first.member_ref == second.member_ref
    assert second.signals["device.accounts_24h"] == 1
    assert second.signals["graph.component_size"] == 1
    assert second.signals["member.campaign_events"] == 2


# ---------------------------------------------------------------- review


def _review_level(campaign, n: int) -> Signup:
    """A script from a data centre at a human pace: 75 points, review."""
    return _sign_up(campaign, n, ip=DATACENTRE, agent=SCRIPT)


def test_a_review_level_attempt_waits_for_a_person_with_a_case(campaign):
    signup = _review_level(campaign, 1)
    assert signup.status == "pending_review"
    assert signup.status_note == "risk review"
    case = Case.objects.get()
    assert (case.status, case.decision.subject_ref, case.decision.action) == (
        "open",
        signup.public_id,
        "review",
    )
    assert _seats(campaign) == 0


def test_approving_the_case_confirms_the_sign_up(campaign):
    signup = _review_level(campaign, 1)
    case = case_decide(case_id=Case.objects.get().pk, approve=True, note="known customer", actor=REVIEWER)
    assert (case.status, case.outcome) == ("approved", "sign-up confirmed")
    assert Signup.objects.get(pk=signup.pk).status == "confirmed"
    assert _seats(campaign) == 1
    assert Decision.objects.get(pk=case.decision_id).label == "honest"


def test_rejecting_the_case_refuses_the_sign_up(campaign):
    signup = _review_level(campaign, 1)
    case = case_decide(case_id=Case.objects.get().pk, approve=False, note="ring", actor=REVIEWER)
    assert (case.status, case.outcome) == ("rejected", "sign-up rejected")
    assert Signup.objects.get(pk=signup.pk).status == "rejected"
    assert _seats(campaign) == 0
    assert Decision.objects.get(pk=case.decision_id).label == "fraud"


def test_confirming_on_the_campaign_s_page_closes_the_case(campaign):
    signup = _review_level(campaign, 1)
    signup_confirm(campaign_id=campaign.pk, signup_id=signup.pk, actor=REVIEWER)
    case = Case.objects.get()
    assert case.status == "approved"
    assert case.decided_by == "reviewer"
    assert _seats(campaign) == 1
    # and the case cannot be decided a second time
    with pytest.raises(DomainError) as refused:
        case_decide(case_id=case.pk, approve=False, note="", actor=REVIEWER)
    assert refused.value.code == "risk.case_decided"
    assert Signup.objects.get(pk=signup.pk).status == "confirmed"


# ---------------------------------------------------------------- challenge


def _challenged(campaign, n: int, **source) -> str:
    """A script at a human pace from home: 45 points, a challenge. Returns its token."""
    refusal = _refused(campaign, n, agent=SCRIPT, **source)
    assert refusal.code == "risk.challenge_required"
    assert refusal.data["decision"] == Challenge.objects.get(token=refusal.data["challenge"]).decision_id
    return refusal.data["challenge"]


def test_a_passed_challenge_lets_the_retry_in(campaign):
    # given a challenged attempt
    token = _challenged(campaign, 1)
    assert not Signup.objects.exists()
    # when the storefront verified the person and retries with the token
    challenge_pass(token=token, actor=STOREFRONT)
    signup = _sign_up(campaign, 1, agent=SCRIPT, token=token)
    # then the sign-up is admitted
    assert signup.status == "confirmed"
    assert _seats(campaign) == 1
    assert "challenge.passed" in {r["rule"] for r in Decision.objects.latest("pk").reasons}


def test_a_challenge_not_passed_does_not_let_the_retry_in(campaign):
    token = _challenged(campaign, 1)
    assert _refused(campaign, 1, agent=SCRIPT, token=token).code == "risk.challenge_required"
    assert not Signup.objects.exists()


def test_a_challenge_token_works_once(campaign):
    token = _challenged(campaign, 1)
    challenge_pass(token=token, actor=STOREFRONT)
    _sign_up(campaign, 1, agent=SCRIPT, token=token)
    # the same member at another campaign with the used token is challenged again
    other = CampaignFactory(status="published")
    assert _refused(other, 1, agent=SCRIPT, token=token).code == "risk.challenge_required"
    # and the token cannot be passed again
    with pytest.raises(DomainError) as refused:
        challenge_pass(token=token, actor=STOREFRONT)
    assert refused.value.code == "risk.challenge_invalid"


def test_someone_else_s_passed_challenge_does_not_help(campaign):
    token = _challenged(campaign, 1)
    challenge_pass(token=token, actor=STOREFRONT)
    assert _refused(campaign, 2, agent=SCRIPT, token=token).code == "risk.challenge_required"
    # the owner can still use it
    assert _sign_up(campaign, 1, agent=SCRIPT, token=token).status == "confirmed"


# ---------------------------------------------------------------- through the API


@pytest.fixture
def storefront(api_as):
    return api_as(Role.INTEGRATION)


def _client(**values) -> dict:
    return {"client": {"user_agent": SCRIPT, **values}}


def test_api_a_blocked_sign_up_is_403_with_the_decision(storefront, campaign):
    response = storefront.post_json(signups_url(campaign.pk), signup_payload(1, **_client(ip=DATACENTRE, form_fill_ms=300)))  # fmt: skip
    body = assert_problem(response, 403, "risk.blocked")
    assert Decision.objects.get(pk=body["decision"]).action == "block"
    assert "challenge" not in body
    assert not Signup.objects.exists()


def test_api_a_challenge_is_428_and_the_retry_with_the_token_is_admitted(storefront, campaign):
    response = storefront.post_json(signups_url(campaign.pk), signup_payload(1, **_client()))
    body = assert_problem(response, 428, "risk.challenge_required")
    assert Decision.objects.get(pk=body["decision"]).action == "challenge"
    challenge_pass(token=body["challenge"], actor=STOREFRONT)
    retry = storefront.post_json(signups_url(campaign.pk), signup_payload(1, risk_challenge=body["challenge"], **_client()))  # fmt: skip
    assert retry.status_code == 201, retry.content
    assert retry.json()["status"] == "confirmed"


def test_api_a_review_is_201_pending(storefront, campaign):
    response = storefront.post_json(signups_url(campaign.pk), signup_payload(1, **_client(ip=DATACENTRE)))
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending_review"
    assert Case.objects.filter(status="open").count() == 1


def test_risk_control_stores_no_clear_personal_value(campaign):
    # given a sign-up judged with a phone, an IP, a device and a user agent
    _refused(campaign, 1, ip=DATACENTRE, agent=SCRIPT, fill_ms=300, device=DEVICE)
    # then no risk table holds the phone's digits, the IP or the device id
    from django.core import serializers

    from yunying.risk.models import Hit, Node

    stored = serializers.serialize("json", [*Decision.objects.all(), *Hit.objects.all(), *Node.objects.all()])
    for clear in (mobile(1)[3:], mobile(1)[-8:], DATACENTRE, "47.92.1.", DEVICE, DEVICE[:8]):
        assert clear not in stored


# ---------------------------------------------------------------- challenge lifetime (the engine itself)


def _scripted(at, token: str = "", member: str = "M1"):
    return risk_assess(
        RiskInput(entry="signup.create", subject_type="signup", subject_ref=f"S-{at.timestamp()}", member_ref=member,
                  at=at, ip=HOME, user_agent=SCRIPT, challenge=token)
    )  # fmt: skip


def test_a_passed_challenge_expires():
    now = timezone.now()
    first = _scripted(now)
    assert first.action == "challenge"
    challenge_pass(token=first.challenge, actor=STOREFRONT)
    # a retry after the challenge's lifetime is challenged again
    assert _scripted(now + timedelta(minutes=16), first.challenge).action == "challenge"
    # within it, the retry passes, once
    assert _scripted(now + timedelta(minutes=1), first.challenge).action == "allow"
    assert _scripted(now + timedelta(minutes=2), first.challenge).action == "challenge"


def test_a_challenge_is_for_the_entry_point_it_was_asked_at():
    first = _scripted(timezone.now())
    challenge_pass(token=first.challenge, actor=STOREFRONT)
    claim = risk_assess(
        RiskInput(entry="coupon.claim", subject_type="coupon", subject_ref="C1", member_ref="M1", ip=HOME,
                  user_agent=SCRIPT, challenge=first.challenge)
    )  # fmt: skip
    assert claim.action == "challenge"


@pytest.mark.parametrize(
    ("first", "retry"),
    [
        ({"agent": SCRIPT}, {"agent": SCRIPT}),  # the same scripted attempt again
        ({"agent": SCRIPT}, {"agent": BROWSER}),  # the script now names itself a browser
    ],
    ids=["same-attempt", "changed-user-agent"],
)
def test_a_challenge_not_passed_is_not_escaped_by_retrying(campaign, first, retry):
    # given a challenged sign-up
    refusal = _refused(campaign, 1, **first)
    assert refusal.code == "risk.challenge_required"
    # when it is retried without passing the challenge
    again = _refused(campaign, 1, **retry)
    # then it is challenged again, and nothing is written
    assert again.code == "risk.challenge_required"
    assert not Signup.objects.exists()
    # and passing the newest challenge lets the retry in
    challenge_pass(token=again.data["challenge"], actor=STOREFRONT)
    assert _sign_up(campaign, 1, token=again.data["challenge"], **retry).status == "confirmed"


def test_a_case_whose_sign_up_was_withdrawn_leaves_it_as_it_is(campaign):
    from yunying.campaigns.services.admission import signup_withdraw

    signup = _review_level(campaign, 1)
    signup_withdraw(campaign_id=campaign.pk, signup_id=signup.pk, actor=REVIEWER, reason="不去了")
    case = case_decide(case_id=Case.objects.get().pk, approve=True, note="", actor=REVIEWER)
    assert (case.status, case.outcome) == ("approved", "sign-up left as withdrawn")
    assert Signup.objects.get(pk=signup.pk).status == "withdrawn"
    assert _seats(campaign) == 0


def test_rejecting_on_the_campaign_s_page_closes_the_case_as_rejected(campaign):
    from yunying.campaigns.services.admission import signup_reject

    signup = _review_level(campaign, 1)
    signup_reject(campaign_id=campaign.pk, signup_id=signup.pk, actor=REVIEWER, reason="不符合条件")
    case = Case.objects.get()
    assert case.status == "rejected"
    assert Decision.objects.get(pk=case.decision_id).label == "fraud"
