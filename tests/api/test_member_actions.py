"""Member-side actions are tied to the member the request names (S3): the storefront withdraws by a
random public id and the member's identifier, gets no personal data back, cannot count through
sequential ids, and cannot bind a new identifier to a known member — that takes member.link."""

from __future__ import annotations

import re

import pytest

from tests.api.helpers import assert_problem, signup_payload, signups_url
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.models import Signup
from yunying.core.models import AuditEntry
from yunying.core.permissions import Role
from yunying.members.models import Member
from yunying.members.services import member_phone, member_resolve


def _withdraw(client, signup_or_ref, campaign, **member):
    ref = signup_or_ref if isinstance(signup_or_ref, str | int) else signup_or_ref.public_id
    body = {"reason": "行程冲突"} | ({"member": member} if member else {})
    return client.post_json(signups_url(campaign.pk, ref, "withdraw"), body)


def test_the_storefront_cannot_withdraw_by_sequential_id(integration, open_campaign):
    # given: somebody else's sign-up
    signup = sign_up(open_campaign, mobile(1))
    # when
    response = _withdraw(integration, signup.pk, open_campaign)
    # then
    assert_problem(response, 404, "signup.not_found")
    signup.refresh_from_db()
    assert signup.status == "confirmed"


def test_withdrawing_another_members_sign_up_is_the_same_404_as_an_unknown_one(integration, open_campaign):
    # given
    signup = sign_up(open_campaign, mobile(1))
    sign_up(open_campaign, mobile(2))
    # when
    wrong_member = _withdraw(integration, signup, open_campaign, phone=mobile(2))
    stranger = _withdraw(integration, signup, open_campaign, phone=mobile(3))
    no_member = _withdraw(integration, signup, open_campaign)
    unknown = _withdraw(integration, "su_" + "A" * 22, open_campaign, phone=mobile(1))
    # then: four answers alike, word for word, and nothing moved
    bodies = [
        assert_problem(r, 404, "signup.not_found") for r in (wrong_member, stranger, no_member, unknown)
    ]
    assert all(body == bodies[0] for body in bodies)
    signup.refresh_from_db()
    assert signup.status == "confirmed"


def test_the_member_withdraws_through_the_storefront_and_gets_no_personal_data(integration, open_campaign):
    # given
    created = integration.post_json(signups_url(open_campaign.pk), signup_payload(1, member={"name": "张三"}))
    public_id = created.json()["public_id"]
    # when
    response = _withdraw(integration, public_id, open_campaign, phone="138 0000 0001")
    # then
    assert response.status_code == 200, response.content
    for body in (created.json(), response.json()):
        assert "member" not in body and "answers" not in body
    assert response.json()["status"] == "withdrawn"


def test_an_operator_gets_the_masked_member_and_may_withdraw_by_either_id(api_as, open_campaign):
    # given
    support = api_as(Role.SUPPORT)
    first, second = sign_up(open_campaign, mobile(1)), sign_up(open_campaign, mobile(2))
    # when
    by_id = _withdraw(support, first.pk, open_campaign)
    by_public_id = _withdraw(support, second, open_campaign)
    # then
    assert by_id.json()["member"]["phone"] == "138****0001"
    assert by_public_id.json()["member"]["phone"] == "138****0002"


def test_public_ids_are_random_not_a_sequence(open_campaign):
    # given
    ids = [sign_up(open_campaign, mobile(n)).public_id for n in range(1, 6)]
    # then: 128 random bits each, nothing shared with its neighbours
    assert all(re.fullmatch(r"su_[A-Za-z0-9_-]{22}", public_id) for public_id in ids)
    assert len({public_id[3:9] for public_id in ids}) == 5


# --- binding identifiers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("known", "sent"),
    [
        ({"phone": mobile(1)}, {"phone": mobile(1), "external_id": "shop-new"}),
        ({"phone": mobile(1), "external_id": "shop-1"}, {"phone": mobile(1), "external_id": "shop-new"}),
        ({"external_id": "shop-1"}, {"phone": mobile(1), "external_id": "shop-1"}),
    ],
    ids=["unlinked-phone", "phone-linked-elsewhere", "external-id-without-phone"],
)
def test_a_sign_up_never_links_and_never_says_which_link_exists(integration, open_campaign, known, sent):
    # given
    member_resolve(phone=known.get("phone"), external_id=known.get("external_id"))
    # when
    response = integration.post_json(signups_url(open_campaign.pk), {"member": sent, "channel": "h5"})
    # then: one answer for every case, naming no identifier
    body = assert_problem(response, 409, "member.identity_mismatch")
    assert "shop" not in response.content.decode() and "0001" not in response.content.decode()
    assert set(body) == {"type", "title", "status", "detail", "code"}
    assert not Signup.objects.exists()
    member = Member.objects.get()
    assert member.external_id == known.get("external_id")


def test_support_links_an_external_id_with_a_reason_and_it_is_audited(api_as, integration, open_campaign):
    # given
    member = member_resolve(phone=mobile(1), external_id=None)
    # when
    response = api_as(Role.SUPPORT).post_json(
        f"/api/v1/members/{member.pk}/link",
        {"external_id": "shop-1", "reason": "会员在 App 内短信验证后绑定"},
    )
    # then
    assert response.status_code == 200, response.content
    member.refresh_from_db()
    assert member.external_id == "shop-1"
    entry = AuditEntry.objects.get(action="member.link")
    assert (entry.object_id, entry.after, entry.reason) == (
        str(member.pk),
        {"external_id": "shop-1"},
        "会员在 App 内短信验证后绑定",
    )
    # and the storefront's sign-up with both identifiers now goes through
    assert (
        integration.post_json(
            signups_url(open_campaign.pk), signup_payload(1, member={"external_id": "shop-1"})
        ).status_code
        == 201
    )


def test_linking_a_phone_is_audited_masked(api):
    member = member_resolve(phone=None, external_id="shop-1")
    response = api.post_json(f"/api/v1/members/{member.pk}/link", {"phone": mobile(7), "reason": "客服核实"})
    assert response.status_code == 200, response.content
    member.refresh_from_db()
    assert member_phone(member) == mobile(7)
    assert AuditEntry.objects.get(action="member.link").after == {"phone": "138****0007"}


def test_support_cannot_replace_a_members_phone(api_as, db):
    """The H5 pages sign in by phone: replacing one hands the account to the new number's holder (the
    attacker review took a member's account with one support-key call). Strategy only."""
    member = member_resolve(phone=mobile(1), external_id="shop-1")
    support = api_as(Role.SUPPORT)
    refused = support.post_json(f"/api/v1/members/{member.pk}/link", {"phone": mobile(9), "reason": "换号"})
    assert_problem(refused, 403, "core.permission_denied")
    member.refresh_from_db()
    assert member_phone(member) == mobile(1)
    assert not AuditEntry.objects.filter(action="member.link").exists()
    # an external id stays support's job (nobody signs in with one); strategy may replace, audited
    assert (
        support.post_json(
            f"/api/v1/members/{member.pk}/link", {"external_id": "shop-1b", "reason": "核实"}
        ).status_code
        == 200
    )
    replaced = api_as(Role.STRATEGY).post_json(
        f"/api/v1/members/{member.pk}/link", {"phone": mobile(9), "reason": "会员本人来电更换手机号"}
    )
    assert replaced.status_code == 200
    member.refresh_from_db()
    assert member_phone(member) == mobile(9)


def test_the_storefront_may_not_link(integration, db):
    member = member_resolve(phone=mobile(1), external_id=None)
    response = integration.post_json(f"/api/v1/members/{member.pk}/link", {"external_id": "x", "reason": "r"})
    assert_problem(response, 403, "core.permission_denied")


def test_an_identifier_of_another_member_cannot_be_linked(api, db):
    # given
    member_resolve(phone=mobile(2), external_id="shop-2")
    member = member_resolve(phone=mobile(1), external_id=None)
    # when
    response = api.post_json(f"/api/v1/members/{member.pk}/link", {"external_id": "shop-2", "reason": "核实"})
    # then
    assert_problem(response, 409, "member.link_conflict")
    member.refresh_from_db()
    assert member.external_id is None
    assert not AuditEntry.objects.filter(action="member.link").exists()


def test_support_cannot_add_a_phone_to_a_member_who_has_none(api_as, db):
    """Second attacker review: a storefront member with no phone, a phone added by support, and the
    support agent signed in on the H5 pages as them, downloaded their data and erased them."""
    member = member_resolve(phone=None, external_id="shop-no-phone")
    refused = api_as(Role.SUPPORT).post_json(
        f"/api/v1/members/{member.pk}/link", {"phone": mobile(9), "reason": "会员来电核实"}
    )
    assert_problem(refused, 403, "core.permission_denied")
    member.refresh_from_db()
    assert (member_phone(member), member.phone_index) == (None, None)
    assert not AuditEntry.objects.filter(action="member.link").exists()
