"""The attendance page: pick a running campaign, check members in by their typed code (the scanner
sends the same form), see the masked name and the participation rate; clear refusals; rate limits."""

from __future__ import annotations

import pytest

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import MemberFactory, mobile
from yunying.campaigns.models import Signup
from yunying.core.models import AuditEntry
from yunying.core.permissions import Role

URL = "/console/attendance/"


@pytest.fixture
def campaign(db):
    return CampaignFactory(status="published", title="线下品鉴会", capacity=10)


@pytest.fixture
def confirmed(campaign):
    MemberFactory(phone=mobile(1), name="李小龙")
    return sign_up(campaign, mobile(1))


def _scan(client, campaign, code, **extra):
    return client.post(f"{URL}?campaign={campaign.pk}", {"code": code}, **extra)


def test_the_page_lists_running_campaigns_and_loads_the_scanner(console_as, campaign):
    client = console_as(Role.EXECUTION)
    assert "线下品鉴会" in client.get(URL).content.decode()
    page = client.get(URL, {"campaign": campaign.pk}).content.decode()
    assert "console/scanner.js" in page and "vendor/jsqr/dist/jsQR.js" in page
    assert "<video" in page and "<script>" not in page


def test_a_typed_code_checks_the_member_in_and_shows_the_masked_name_and_rate(
    console_as, campaign, confirmed
):
    # given
    sign_up(campaign, mobile(2))  # a second confirmed member, not here yet
    client = console_as(Role.EXECUTION)
    # when
    response = _scan(client, campaign, confirmed.checkin_code.lower())
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "李*" in page and "李小龙" not in page
    assert response.context["attended"] == 1 and response.context["rate_percent"] == "50.0"
    confirmed.refresh_from_db()
    assert confirmed.attended_at is not None
    assert AuditEntry.objects.get(action="signup.attend").actor_label == client.user.username


def test_htmx_gets_only_the_result_fragment(console_as, campaign, confirmed):
    response = _scan(console_as(Role.EXECUTION), campaign, confirmed.checkin_code, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert "<html" not in page and "李*" in page


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (lambda s, other: s.checkin_code, "already"),
        (lambda s, other: other.checkin_code, "wrong"),
        (lambda s, other: "ABCDEFGHJK", "unknown"),
        (lambda s, other: "", "blank"),
        (lambda s, other: "x" * 10_000, "huge"),
    ],
    ids=["twice", "wrong-campaign", "unknown", "blank", "huge"],
)
def test_refusals_are_clear_and_change_nothing(console_as, campaign, confirmed, code, expected):
    # given: the member is already in, and another campaign has its own member
    other_campaign = CampaignFactory(status="published")
    other = sign_up(other_campaign, mobile(3))
    client = console_as(Role.EXECUTION)
    _scan(client, campaign, confirmed.checkin_code)
    # when
    response = _scan(client, campaign, code(confirmed, other), HTTP_ACCEPT_LANGUAGE="en")
    # then
    outcome = response.context["outcome"]
    assert response.status_code == 200 and outcome["ok"] is False
    page = response.content.decode()
    if expected == "already":
        assert outcome["code"] == "attendance.already_checked_in" and outcome["first_at"] is not None
        assert "First check-in" in page
    if expected == "wrong":
        assert outcome["code"] == "attendance.wrong_campaign" and "another campaign" in page
    if expected == "unknown":
        assert outcome["code"] == "attendance.unknown_code"
    assert Signup.objects.filter(attended_at__isnull=False).count() == 1
    assert response.context["attended"] == 1


def test_a_pending_sign_up_is_refused_as_not_confirmed(console_as, db):
    campaign = CampaignFactory(status="published", review_mode="manual")
    pending = sign_up(campaign, mobile(4))
    response = _scan(console_as(Role.SUPPORT), campaign, pending.checkin_code)
    assert response.context["outcome"]["code"] == "attendance.not_confirmed"
    assert "待审核" in response.content.decode()


def test_guessing_codes_is_stopped(console_as, campaign, confirmed):
    client = console_as(Role.EXECUTION)
    codes = [
        response.context["outcome"]["code"]
        for response in (
            _scan(client, campaign, f"ABCDEFG{n:03d}".replace("0", "A").replace("1", "B")) for n in range(12)
        )
    ]
    assert codes[-1] == "core.rate_limited"
    # even the right code waits now
    assert _scan(client, campaign, confirmed.checkin_code).context["outcome"]["code"] == "core.rate_limited"


@pytest.mark.parametrize("campaign_id", ["424242", "99999999999999999999999", "abc", "-1"])
def test_an_unknown_campaign_is_explained(console_as, campaign_id):
    client = console_as(Role.EXECUTION)
    assert client.get(URL, {"campaign": campaign_id}).status_code == 200
    assert client.post(f"{URL}?campaign={campaign_id}", {"code": "ABCDEFGHJK"}).status_code == 200


def test_the_auditor_gets_403_and_no_link(console_as, campaign, confirmed):
    client = console_as(Role.AUDITOR)
    assert client.get(URL).status_code == 403
    assert _scan(client, campaign, confirmed.checkin_code).status_code == 403
    confirmed.refresh_from_db()
    assert confirmed.attended_at is None
    assert f'href="{URL}"' not in client.get("/console/audit/").content.decode()


def test_the_page_reads_in_chinese(console_as, campaign):
    page = (
        console_as(Role.EXECUTION)
        .get(URL, {"campaign": campaign.pk}, HTTP_ACCEPT_LANGUAGE="zh-Hans")
        .content.decode()
    )
    assert "签到" in page
