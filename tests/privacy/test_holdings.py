"""Every model holding member-linked personal data is declared by some PersonalDataHolding, and each
holding exports what it declares (PIPL arts. 44-45)."""

import json

import pytest
from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder

from tests.members.factories import MemberFactory
from yunying.core.registry import personal_data_holdings
from yunying.members.models import Member

# Which holding covers each model that names a member (a foreign key to Member, or a member id or
# risk reference kept as a plain column). A new model that names a member fails the test until it is
# declared here and in its app's holdings.
COVERED = {
    "members.Member": "members.profile",
    "members.ConsentRecord": "members.consent",
    "members.ConsentEvent": "members.consent",
    "members.ProfileAnswer": "members.answers",
    "members.MemberTag": "members.tags",
    "campaigns.Signup": "campaigns.signups",
    "campaigns.SignupRefusal": "campaigns.signups",
    "commerce.Order": "commerce.orders",
    "loyalty.PointAccount": "loyalty.points",
    "loyalty.PointAdjustment": "loyalty.points",
    "loyalty.Checkin": "loyalty.points",
    "loyalty.TaskCompletion": "loyalty.points",
    "loyalty.TaskListReward": "loyalty.points",
    "loyalty.MemberTier": "loyalty.tier",
    "loyalty.TierChange": "loyalty.tier",
    "loyalty.GrowthPosting": "loyalty.tier",
    "loyalty.Referral": "loyalty.referrals",
    "loyalty.Promoter": "loyalty.brokerage",
    "loyalty.PromoterBinding": "loyalty.brokerage",
    "loyalty.CommissionEntry": "loyalty.brokerage",
    "promotions.Coupon": "promotions.coupons",
    "promotions.Redemption": "promotions.coupons",
    "risk.Decision": "risk.decisions",
    "risk.Hit": "risk.decisions",
    "risk.Invite": "risk.decisions",
    "risk.Challenge": "risk.decisions",
    "risk.Complaint": "risk.decisions",
    "analytics.SegmentMember": "analytics.profile",
    "analytics.MemberRfm": "analytics.profile",
    "analytics.SegmentMembershipEvent": "analytics.profile",
    "notify.OutboxMessage": "notify.messages",
}
# Models naming a member that are not the member's data: the access log and data-subject requests
# are shown to the member by the privacy centre itself.
# Holdings kept on a model another holding already names: the real-name check's result lives on the
# member row (members.identity).
ALSO_ON = {"members.identity": "members.Member"}
# Records about the member's data, not data the member gave: the access log, their requests, and
# a breach incident's list of whom it affected (ids only, shown as counts and masked samples).
NOT_HOLDINGS = {"core.PersonalDataAccess", "privacy.DataSubjectRequest", "privacy.BreachAffected"}
MEMBER_COLUMNS = {"member_id", "member_ref", "inviter", "invitee", "buyer"}


def _names_a_member(model) -> bool:
    for field in model._meta.get_fields():
        if field.is_relation and not field.auto_created and field.related_model is Member:
            return True
        if not field.is_relation and field.name in MEMBER_COLUMNS:
            return True
    return False


def test_every_model_naming_a_member_is_declared_by_a_holding():
    # given
    keys = {h.key for h in personal_data_holdings()}
    naming = {
        m._meta.label for m in apps.get_models() if m.__module__.startswith("yunying.") and _names_a_member(m)
    } | {"members.Member"}
    # then
    undeclared = naming - set(COVERED) - NOT_HOLDINGS
    assert not undeclared, f"declare these in a PersonalDataHolding and in COVERED: {sorted(undeclared)}"
    assert {COVERED[m] for m in naming if m in COVERED} <= keys
    assert keys - set(COVERED.values()) - set(ALSO_ON) == set(), "a holding no model stands behind"


def test_every_holding_says_what_why_and_how_long():
    for holding in personal_data_holdings():
        assert str(holding.label) and str(holding.purpose) and str(holding.retention), holding.key
        assert holding.export is not None, holding.key


@pytest.mark.django_db
def test_each_holding_exports_the_members_data_as_json():
    # given
    member = MemberFactory(phone="+8613800001111", name="张三")
    # when
    exported = {h.key: h.export(member.pk) for h in personal_data_holdings()}
    # then
    text = json.dumps(exported, cls=DjangoJSONEncoder, ensure_ascii=False)
    assert exported["members.profile"]["phone"] == "+8613800001111"
    assert "张三" in text
