"""Every path that shows personal data in clear writes exactly one access row per member revealed
(S3, issue 14 "done when"), and each row is on the access chain. One row per path: console look-up,
member 360, console sign-up, console export in clear, API member look-up and detail, API sign-up
detail, list and export with a purpose; the member's data file for a request received by phone,
from the console and the API."""

from __future__ import annotations

import pytest

from tests.api.helpers import signups_url
from tests.console.campaign_data import campaign_with_signups
from tests.privacy.helpers import SECOND, approval_for
from yunying.campaigns.models import Signup
from yunying.core.chain import ACCESS_CHAIN, chain_verify
from yunying.core.models import PersonalDataAccess
from yunying.core.permissions import Actor, Role
from yunying.privacy.exports import approval_decide
from yunying.privacy.models import ExportApproval
from yunying.privacy.rights import request_create

REVEAL = {"purpose": "customer_service", "purpose_note": "工单 1"}


def _first(campaign) -> Signup:
    return Signup.objects.filter(campaign=campaign).order_by("id").first()


def console_lookup(console_as, api_as, campaign):
    client = console_as(Role.SUPPORT)
    ticket = client.post("/console/members/", {"phone": "13900000000"}).context["ticket"]
    response = client.post("/console/members/reveal/", {"ticket": ticket, **REVEAL})
    return response, [_first(campaign).member_id]


def console_360(console_as, api_as, campaign):
    member_id = _first(campaign).member_id
    response = console_as(Role.SUPPORT).post(f"/console/members/{member_id}/reveal/", REVEAL)
    return response, [member_id]


def console_signup(console_as, api_as, campaign):
    signup = _first(campaign)
    url = f"/console/campaigns/{campaign.pk}/signups/{signup.pk}/reveal/"
    response = console_as(Role.SUPPORT).post(url, {"purpose": "customer_service", "note": "工单 1"})
    return response, [signup.member_id]


def console_export(console_as, api_as, campaign):
    # the two-person rule: the form asks, a second operator approves, then one download
    client, export = console_as(Role.STRATEGY), f"/console/campaigns/{campaign.pk}/export/"
    client.post(export, {"reveal": "on", "purpose": "prize_delivery", "format": "csv"})
    approval = ExportApproval.objects.get()
    approval_decide(actor=SECOND, approval_id=approval.pk, approve=True)
    response = client.post(export, {"reveal": "on", "approval": approval.pk, "format": "csv"})
    b"".join(response.streaming_content)
    return response, list(Signup.objects.filter(campaign=campaign).values_list("member_id", flat=True))


def api_lookup(console_as, api_as, campaign):
    body = {"phone": "13900000000", "reveal": True, "purpose": "customer_service"}
    return api_as(Role.SUPPORT).post_json("/api/v1/members/lookup", body), [_first(campaign).member_id]


def api_member(console_as, api_as, campaign):
    member_id = _first(campaign).member_id
    response = api_as(Role.SUPPORT).get(f"/api/v1/members/{member_id}", {"reveal": "true", **REVEAL})
    return response, [member_id]


def api_signup(console_as, api_as, campaign):
    signup = _first(campaign)
    response = api_as(Role.SUPPORT).get(signups_url(campaign.pk, signup.pk), {"reveal": "true", **REVEAL})
    return response, [signup.member_id]


def api_signup_list(console_as, api_as, campaign):
    client = api_as(Role.STRATEGY)
    query = {
        "reveal": "true",
        "approval": approval_for(client, campaign.pk, "list", purpose="prize_delivery"),
    }
    response = client.get(signups_url(campaign.pk), query)
    return response, list(Signup.objects.filter(campaign=campaign).values_list("member_id", flat=True))


def api_signup_export(console_as, api_as, campaign):
    client = api_as(Role.STRATEGY)
    query = {"reveal": "true", "approval": approval_for(client, campaign.pk, "csv", purpose="prize_delivery")}
    response = client.get(signups_url(campaign.pk, action="export"), query)
    if response.streaming:
        b"".join(response.streaming_content)
    return response, list(Signup.objects.filter(campaign=campaign).values_list("member_id", flat=True))


def _privacy_request(campaign) -> int:
    """An access request received by phone, which support answers with the member's data file."""
    support = Actor(kind="user", id=7, label="kefu01", role=Role.SUPPORT)
    return request_create(
        actor=support, member_id=_first(campaign).member_id, kind="access", channel="phone"
    ).pk


def console_privacy_request(console_as, api_as, campaign):
    request_id = _privacy_request(campaign)  # recorded by kefu01; handed over by another operator
    response = console_as(Role.SUPPORT).post(
        f"/console/privacy/requests/{request_id}/export/", {"identity_confirmed": "on", "note": "回拨核实"}
    )
    return response, [_first(campaign).member_id]


def api_privacy_request(console_as, api_as, campaign):
    request_id = _privacy_request(campaign)
    response = api_as(Role.SUPPORT).post_json(
        f"/api/v1/privacy/requests/{request_id}/export", {"identity_confirmed": True, "note": "回拨核实"}
    )
    return response, [_first(campaign).member_id]


PATHS = [
    console_lookup, console_360, console_signup, console_export, console_privacy_request,
    api_lookup, api_member, api_signup, api_signup_list, api_signup_export, api_privacy_request,
]  # fmt: skip


@pytest.mark.parametrize("reveal", PATHS, ids=lambda f: f.__name__)
def test_every_reveal_path_writes_one_chained_access_row_per_member(console_as, api_as, reveal):
    # given: three members signed up; nothing revealed yet
    campaign = campaign_with_signups(3)
    assert not PersonalDataAccess.objects.exists()
    # when
    response, revealed = reveal(console_as, api_as, campaign)
    # then
    assert response.status_code == 200
    rows = list(PersonalDataAccess.objects.order_by("id"))
    assert sorted(r.member_id for r in rows) == sorted(revealed)
    assert all(r.purpose and r.fields for r in rows)
    verdict = chain_verify(ACCESS_CHAIN, PersonalDataAccess)
    assert verdict.ok and verdict.count == len(revealed)
