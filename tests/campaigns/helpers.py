"""Calling the admission service the way the API does, with little ceremony."""

from yunying.campaigns.services.admission import MemberIdentity, Source, signup_create
from yunying.core.permissions import Actor, Role

INTEGRATION = Actor(kind="api_key", id=99, label="storefront", role=Role.INTEGRATION)


def sign_up(campaign, phone: str, *, answers=None, channel="h5", profile=None, actor=INTEGRATION):
    from yunying.members.services import Profile

    return signup_create(
        campaign_id=campaign.pk,
        identity=MemberIdentity(phone=phone, profile=profile or Profile(birth_date=None)),
        answers=answers or {},
        source=Source(channel=channel),
        actor=actor,
    )
