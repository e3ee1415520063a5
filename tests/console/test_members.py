"""Member look-up: audited, masked, with sign-ups, timeline and the access log; withdraw, correct and
reveal (one member, a purpose) through the domain's services."""

from __future__ import annotations

import pytest

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import MemberFactory, mobile
from yunying.campaigns.models import Signup
from yunying.core.models import AuditEntry, PersonalDataAccess
from yunying.core.permissions import Role

URL = "/console/members/"


@pytest.fixture
def member(db):
    return MemberFactory(phone=mobile(5), name="张三丰", external_id="shop-5", birth_date=None)


@pytest.fixture
def signup(member):
    campaign = CampaignFactory(status="published", title="会员日")
    return sign_up(campaign, mobile(5))


def _find(client, **query):
    return client.post(URL, query)


def test_a_look_up_by_phone_shows_the_masked_member_and_is_audited(console_as, member, signup):
    # when
    client = console_as(Role.SUPPORT)
    response = _find(client, phone="138 0000 0005")
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "138****0005" in page and "张**" in page and "张三丰" not in page and "13800000005" not in page
    assert "会员日" in page and f"#{signup.pk}" in page
    assert response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action="member.lookup")
    assert entry.after["query"] == {"phone": "138****0005"} and entry.actor_label == client.user.username
    assert not PersonalDataAccess.objects.exists()


def test_a_look_up_by_external_id_finds_the_same_member(console_as, member):
    page = _find(console_as(Role.SUPPORT), external_id="shop-5").content.decode()
    assert f"{member.pk}" in page and "138****0005" in page


@pytest.mark.parametrize(
    "query",
    [{"phone": "13900000000"}, {"external_id": "nobody"}],
    ids=["phone", "external-id"],
)
def test_an_unknown_member_is_told_as_the_api_tells_it(console_as, member, query):
    response = _find(console_as(Role.SUPPORT), **query)
    assert response.status_code == 200
    assert "No such member" in response.content.decode() or "没有" in response.content.decode()
    assert AuditEntry.objects.get(action="member.lookup").after["found"] is False


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"phone": "138", "external_id": "x"},
        {"phone": "abc"},
        {"phone": "1" * 5000},
        {"external_id": "x" * 5000},
    ],
    ids=["none", "both", "not-a-phone", "huge-phone", "huge-id"],
)
def test_bad_look_ups_are_explained(console_as, query):
    assert _find(console_as(Role.SUPPORT), **query).status_code == 200


def _ticket(response) -> str:
    return response.context["ticket"]


def test_reveal_shows_one_member_in_clear_with_a_purpose_and_logs_it(console_as, member):
    # given
    client = console_as(Role.SUPPORT)
    ticket = _ticket(_find(client, phone="13800000005"))
    # when
    response = client.post(
        f"{URL}reveal/", {"ticket": ticket, "purpose": "customer_service", "purpose_note": "来电"}
    )
    # then
    page = response.content.decode()
    assert "13800000005" in page and "张三丰" in page
    access = PersonalDataAccess.objects.get(member_id=member.pk)
    assert access.purpose == "customer_service: 来电" and access.actor_label == client.user.username


def test_reveal_without_a_purpose_shows_nothing_in_clear(console_as, member):
    client = console_as(Role.SUPPORT)
    ticket = _ticket(_find(client, phone="13800000005"))
    page = client.post(f"{URL}reveal/", {"ticket": ticket, "purpose": ""}).content.decode()
    assert "13800000005" not in page and not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize("ticket", ["", "garbage", "v1:k:AAAA", "x" * 5000])
def test_a_forged_ticket_reveals_nothing(console_as, member, ticket):
    client = console_as(Role.SUPPORT)
    response = client.post(f"{URL}reveal/", {"ticket": ticket, "purpose": "customer_service"})
    assert response.status_code == 200 and "13800000005" not in response.content.decode()
    assert not PersonalDataAccess.objects.exists()


def test_another_operators_ticket_is_refused(console_as, member):
    mine = _ticket(_find(console_as(Role.SUPPORT), phone="13800000005"))
    other = console_as(Role.STRATEGY)
    response = other.post(f"{URL}reveal/", {"ticket": mine, "purpose": "customer_service"})
    assert "13800000005" not in response.content.decode() and not PersonalDataAccess.objects.exists()


def test_support_withdraws_a_sign_up_with_a_reason(console_as, member, signup):
    # given
    client = console_as(Role.SUPPORT)
    ticket = _ticket(_find(client, phone="13800000005"))
    # when
    response = client.post(
        f"{URL}withdraw/",
        {
            "ticket": ticket,
            "target": f"{signup.campaign_id}-{signup.pk}",
            "reason": "会员来电取消",
            "note": "工单 42",
        },
    )
    # then
    assert response.status_code == 200
    signup.refresh_from_db()
    assert (signup.status, signup.status_reason, signup.status_note) == (
        "withdrawn",
        "会员来电取消",
        "工单 42",
    )
    assert AuditEntry.objects.filter(action="signup.withdraw", object_id=str(signup.pk)).exists()


def test_withdraw_needs_a_reason(console_as, member, signup):
    client = console_as(Role.SUPPORT)
    ticket = _ticket(_find(client, phone="13800000005"))
    client.post(
        f"{URL}withdraw/", {"ticket": ticket, "target": f"{signup.campaign_id}-{signup.pk}", "reason": ""}
    )
    signup.refresh_from_db()
    assert signup.status == "confirmed"


def test_another_members_sign_up_cannot_be_withdrawn_from_this_page(console_as, member, signup):
    stranger = sign_up(signup.campaign, mobile(77))
    client = console_as(Role.SUPPORT)
    ticket = _ticket(_find(client, phone="13800000005"))
    # 5,000 digits: int() raises ValueError past 4,300 (a 500 before core.numbers.digits_int)
    for target in [
        f"{stranger.campaign_id}-{stranger.pk}",
        "1-99999999999999999999999",
        "x",
        "1-" + "9" * 5000,
    ]:
        response = client.post(f"{URL}withdraw/", {"ticket": ticket, "target": target, "reason": "r"})
        assert response.status_code == 200
    assert Signup.objects.get(pk=stranger.pk).status == "confirmed"


def test_support_corrects_the_profile_with_a_reason(console_as, member):
    # given
    client = console_as(Role.SUPPORT)
    ticket = _ticket(_find(client, phone="13800000005"))
    # when
    response = client.post(
        f"{URL}correct/", {"ticket": ticket, "region_code": "110101", "reason": "会员来电更正"}
    )
    # then
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.region_code == "110101"
    entry = AuditEntry.objects.get(action="member.correct")
    assert entry.reason == "会员来电更正" and entry.after == {"region_code": "110101"}


@pytest.mark.parametrize(
    "data",
    [
        {"region_code": "110101"},
        {"reason": "r"},
        {"region_code": "999999", "reason": "r"},
        {"birth_date": "1800-01-01", "reason": "r"},
        {"name": "x" * 5000, "reason": "r"},
        {"email": "not-an-email", "reason": "r"},
    ],
    ids=["no-reason", "no-change", "bad-region", "1800", "huge-name", "bad-email"],
)
def test_a_bad_correction_changes_nothing(console_as, member, data):
    client = console_as(Role.SUPPORT)
    ticket = _ticket(_find(client, phone="13800000005"))
    assert client.post(f"{URL}correct/", {"ticket": ticket, **data}).status_code == 200
    member.refresh_from_db()
    assert member.region_code == "440300"
    assert not AuditEntry.objects.filter(action="member.correct").exists()


def test_the_page_lists_who_accessed_the_data(console_as, member):
    client = console_as(Role.SUPPORT)
    ticket = _ticket(_find(client, phone="13800000005"))
    client.post(f"{URL}reveal/", {"ticket": ticket, "purpose": "prize_delivery"})
    page = _find(client, phone="13800000005").content.decode()
    assert "prize_delivery" in page and client.user.username in page


def test_execution_has_no_look_up(console_as, member):
    client = console_as(Role.EXECUTION)
    assert client.get(URL).status_code == 403
    assert _find(client, phone="13800000005").status_code == 403
    assert not AuditEntry.objects.filter(action="member.lookup").exists()


@pytest.mark.parametrize("role", [Role.EXECUTION, Role.AUDITOR])
def test_roles_without_the_actions_get_403(console_as, member, role):
    client = console_as(role)
    for action in ("reveal", "correct"):
        assert client.post(f"{URL}{action}/", {"ticket": "x"}).status_code == 403
    assert 'href="/console/members/"' not in client.get("/console/security/").content.decode()


def test_the_timeline_shows_the_sign_ups_history(console_as, member, signup):
    page = _find(console_as(Role.SUPPORT), phone="13800000005").content.decode()
    assert "已确认" in page and "storefront" in page


def test_the_page_renders_in_english(console_as, member):
    client = console_as(Role.SUPPORT)
    page = client.post(URL, {"phone": "13800000005"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Who accessed their data" in page
