"""Support's member look-up, profile corrections, and the storefront's sign-up status read."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.api.helpers import assert_problem
from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import INTEGRATION, sign_up
from tests.members.factories import MemberFactory, mobile
from yunying.campaigns.services import admission, lottery
from yunying.core.models import AuditEntry, PersonalDataAccess
from yunying.core.permissions import SYSTEM, Role
from yunying.members.models import Member
from yunying.members.services import Profile, member_email, member_name

LOOKUP = "/api/v1/members/lookup"


def status_url(campaign_id: int) -> str:
    return f"/api/v1/campaigns/{campaign_id}/signups/status"


@pytest.fixture
def support(api_as):
    return api_as(Role.SUPPORT)


@pytest.fixture
def member(db):
    return MemberFactory(phone=mobile(5), external_id="shop-5", name="王小芳", birth_date=date(1992, 3, 4))


def audits(action: str):
    return list(AuditEntry.objects.filter(action=action))


# --- look-up -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "identity", [{"phone": "138 0000 0005"}, {"external_id": "shop-5"}], ids=["phone", "external_id"]
)
def test_support_finds_a_member_and_their_sign_ups_masked_and_the_look_up_is_audited(
    support, member, identity
):
    # given
    campaign = CampaignFactory(status="published", title="会员日")
    signup = sign_up(campaign, mobile(5))
    # when
    response = support.post_json(LOOKUP, identity)
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["external_id"]) == (member.pk, "shop-5")
    assert (body["phone"], body["name"], body["birth_date"]) == ("138****0005", "王**", "1992-**-**")
    assert [(s["id"], s["campaign_title"], s["status"]) for s in body["signups"]] == [
        (signup.pk, "会员日", "confirmed")
    ]
    (entry,) = audits("member.lookup")
    assert (entry.object_type, entry.object_id, entry.after["found"]) == ("member", str(member.pk), True)
    assert "13800000005" not in str(entry.after)  # the query is personal data: masked in the trail
    assert not PersonalDataAccess.objects.exists()


def test_a_look_up_that_finds_nobody_is_a_404_and_still_audited(support, db):
    assert_problem(support.post_json(LOOKUP, {"phone": mobile(77)}), 404, "member.not_found")
    (entry,) = audits("member.lookup")
    assert (entry.object_id, entry.after) == (
        "", {"query": {"phone": "138****0077"}, "found": False, "revealed": False},
    )  # fmt: skip


def test_a_revealing_look_up_needs_a_purpose_and_logs_the_access(support, member):
    assert_problem(support.post_json(LOOKUP, {"phone": mobile(5), "reveal": True}), 422, "core.invalid")
    response = support.post_json(
        LOOKUP,
        {"phone": mobile(5), "reveal": True, "purpose": "customer_service", "purpose_note": "会员来电核实"},
    )
    assert response.json()["phone"] == "13800000005"
    assert response.json()["name"] == "王小芳"
    assert PersonalDataAccess.objects.get().member_id == member.pk
    revealed = AuditEntry.objects.get(action="member.lookup", after__revealed=True)
    assert revealed.reason == "customer_service: 会员来电核实"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"phone": mobile(5), "external_id": "shop-5"},
        {"phone": "12"},
        {"phone": mobile(5), "x": 1},
        {"phone": None, "external_id": "shop-5"},
    ],
    ids=["neither", "both", "too-short", "unknown-field", "null"],
)
def test_a_look_up_takes_exactly_one_identifier(support, member, body):
    assert_problem(support.post_json(LOOKUP, body), 422, "core.invalid")


def test_the_schema_states_that_exactly_one_identifier_is_given(api):
    schemas = api.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert schemas["LookupIn"]["oneOf"] == [{"required": ["phone"]}, {"required": ["external_id"]}]
    assert schemas["IdentityIn"]["properties"]["phone"]["type"] == "string"  # not nullable


def test_a_look_up_with_an_invalid_phone_is_a_422(support, db):
    assert_problem(support.post_json(LOOKUP, {"phone": "+86 100"}), 422, "member.phone_invalid")


@pytest.mark.parametrize("role", [Role.EXECUTION, Role.INTEGRATION, Role.AUDITOR])
def test_look_up_needs_member_lookup(api_as, member, role):
    response = api_as(role).post_json(LOOKUP, {"phone": mobile(5)})
    assert_problem(response, 403, "core.permission_denied")
    assert not audits("member.lookup")


# --- correction --------------------------------------------------------------------------------------


def test_support_corrects_a_profile_with_a_reason_audited_masked(support, member):
    # when
    response = support.patch_json(
        f"/api/v1/members/{member.pk}",
        {"name": "王晓芳", "birth_date": "1992-04-03", "email": "Fang@Example.com", "gender": "female",
         "reason": "会员来电，身份证信息核对后更正"},
    )  # fmt: skip
    # then
    assert response.status_code == 200, response.content
    member.refresh_from_db()
    assert (member_name(member), member.birth_date, member_email(member)) == (
        "王晓芳", date(1992, 4, 3), "fang@example.com",
    )  # fmt: skip
    (entry,) = audits("member.correct")
    assert entry.reason == "会员来电，身份证信息核对后更正"
    # only the changed fields (gender was already female), personal ones masked
    assert entry.before == {"name": "王**", "birth_date": "1992-**-**", "email": ""}
    assert entry.after == {"name": "王**", "birth_date": "1992-**-**", "email": "f***@example.com"}
    assert "王晓芳" not in str(entry.after) and "fang@" not in str(entry.after)


def test_a_region_correction_is_audited_in_clear_like_every_masked_view_shows_it(support, member):
    support.patch_json(f"/api/v1/members/{member.pk}", {"region_code": "310101", "reason": "搬家"})
    member.refresh_from_db()
    assert member.region_code == "310101"
    (entry,) = audits("member.correct")
    assert (entry.before, entry.after) == ({"region_code": "440300"}, {"region_code": "310101"})


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "王"}, "core.invalid"),  # no reason
        ({"name": " ", "reason": "x"}, "core.invalid"),
        ({"region_code": "999999", "reason": "x"}, "member.region_invalid"),
        ({"phone": mobile(9), "reason": "x"}, "core.invalid"),  # identity is not a profile field
        ({"gender": "other", "reason": "x"}, "core.invalid"),
        ({"birth_date": "1800-01-01", "reason": "x"}, "core.invalid"),
        ({"birth_date": "2999-01-01", "reason": "x"}, "core.invalid"),
    ],
    ids=["no-reason", "blank-name", "bad-region", "phone", "bad-gender", "born-1800", "born-later"],
)
def test_a_bad_correction_changes_nothing_and_writes_no_audit_row(support, member, body, code):
    assert_problem(support.patch_json(f"/api/v1/members/{member.pk}", body), 422, code)
    member.refresh_from_db()
    assert member_name(member) == "王小芳" and member.region_code == "440300"
    assert not audits("member.correct")


def test_correcting_an_unknown_member_is_a_404(support, db):
    assert_problem(
        support.patch_json("/api/v1/members/99999", {"name": "x", "reason": "y"}), 404, "member.not_found"
    )


@pytest.mark.parametrize("role", [Role.EXECUTION, Role.INTEGRATION, Role.AUDITOR])
def test_correction_needs_member_edit(api_as, member, role):
    response = api_as(role).patch_json(f"/api/v1/members/{member.pk}", {"name": "x", "reason": "y"})
    assert_problem(response, 403, "core.permission_denied")


def test_strategy_may_correct_too(api, member):
    assert (
        api.patch_json(f"/api/v1/members/{member.pk}", {"gender": "male", "reason": "录入错误"}).status_code
        == 200
    )
    assert Member.objects.get(pk=member.pk).gender == "male"


# --- the storefront's status read --------------------------------------------------------------------


def test_the_storefront_reads_its_members_status_by_phone_or_external_id_without_personal_data(
    integration, member
):
    # given
    campaign = CampaignFactory(status="published")
    sign_up(campaign, mobile(5))
    # when
    by_phone = integration.post_json(status_url(campaign.pk), {"phone": mobile(5)})
    by_external = integration.post_json(status_url(campaign.pk), {"external_id": "shop-5"})
    # then
    assert by_phone.status_code == 200, by_phone.content
    expected = {
        "campaign_id": campaign.pk,
        "status": "confirmed",
        "waitlist_position": None,
        "lottery_drawn": None,
        "lottery_result": None,
    }
    assert by_phone.json() == expected
    assert by_external.json() == expected


def test_an_unknown_member_and_a_member_who_never_signed_up_read_the_same(integration, member):
    campaign = CampaignFactory(status="published")
    stranger = integration.post_json(status_url(campaign.pk), {"phone": mobile(66)}).json()
    known = integration.post_json(status_url(campaign.pk), {"external_id": "shop-5"}).json()
    assert (
        stranger
        == known
        == {
            "campaign_id": campaign.pk,
            "status": "none",
            "waitlist_position": None,
            "lottery_drawn": None,
            "lottery_result": None,
        }
    )


def test_the_storefront_reads_its_members_live_place_on_the_waiting_list(integration, db):
    # given: one seat, three waiting; the first waiting member withdraws
    campaign = CampaignFactory(status="published", capacity=1, waitlist_enabled=True)
    signups = [sign_up(campaign, mobile(n)) for n in range(4)]
    admission.signup_withdraw(
        campaign_id=campaign.pk, signup_id=signups[1].pk, actor=INTEGRATION, reason="没空"
    )
    # when
    read = [integration.post_json(status_url(campaign.pk), {"phone": mobile(n)}).json() for n in range(4)]
    # then
    assert [(r["status"], r["waitlist_position"]) for r in read] == [
        ("confirmed", None), ("withdrawn", None), ("waitlisted", 1), ("waitlisted", 2),
    ]  # fmt: skip


def test_the_storefront_reads_the_lottery_result(integration, db):
    # given: a lottery with one seat and two entrants, drawn
    now = timezone.now()
    campaign = CampaignFactory(
        status="published", admission_mode="lottery", capacity=1, waitlist_enabled=False
    )
    for n in (1, 2):
        sign_up(campaign, mobile(n), profile=Profile())
    before = integration.post_json(status_url(campaign.pk), {"phone": mobile(1)}).json()
    campaign.__class__.objects.filter(pk=campaign.pk).update(
        signup_end_at=now - timedelta(seconds=1), signup_start_at=now - timedelta(hours=2)
    )
    lottery.lottery_draw(campaign_id=campaign.pk, actor=SYSTEM)
    # when
    results = [integration.post_json(status_url(campaign.pk), {"phone": mobile(n)}).json() for n in (1, 2)]
    # then
    assert (before["status"], before["lottery_drawn"], before["lottery_result"]) == (
        "registered",
        False,
        None,
    )
    assert sorted(r["lottery_result"] for r in results) == ["not_selected", "won"]
    assert all(r["lottery_drawn"] for r in results)
    assert sorted(r["status"] for r in results) == ["confirmed", "not_selected"]


def test_status_of_an_unknown_campaign_is_a_404(integration, db):
    assert_problem(integration.post_json(status_url(999999), {"phone": mobile(1)}), 404, "campaign.not_found")


@pytest.mark.parametrize("role", [Role.EXECUTION, Role.SUPPORT, Role.AUDITOR])
def test_status_needs_signup_status(api_as, role):
    campaign = CampaignFactory(status="published")
    assert_problem(
        api_as(role).post_json(status_url(campaign.pk), {"phone": mobile(1)}), 403, "core.permission_denied"
    )
