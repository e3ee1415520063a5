"""Two-person rule for exports in clear (S2), through the API: it cannot be bypassed by approving
one's own request (the same key, another key of the same person), by a download from another key,
by reusing or outliving an approval, or by using it for another campaign, format or filter. Each
refusal has its status and code; the file names the requester and the approval."""

from __future__ import annotations

import csv
import io
import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from openpyxl import load_workbook

from tests.api.helpers import assert_problem, signups_url
from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.conftest import ApiClient, held_key
from tests.members.factories import mobile
from yunying.core.apikeys import apikey_create
from yunying.core.audit import PersonalDataAccess
from yunying.core.models import AuditEntry
from yunying.core.permissions import Role
from yunying.privacy.models import ExportApproval

APPROVALS = "/api/v1/privacy/export-approvals"


def _key(owner: str, role: Role = Role.STRATEGY, name: str = "") -> ApiClient:
    _, token = held_key(owner, role, name)
    return ApiClient(token)


@pytest.fixture
def world(db):
    campaign, other = CampaignFactory(status="published"), CampaignFactory(status="published")
    for n in range(3):
        sign_up(campaign, mobile(n + 1))
    alice, alice_again, bob = _key("alice"), _key("alice", name="alice's second key"), _key("bob")
    return campaign, other, alice, alice_again, bob


def _request(client, campaign_id: int, fmt: str = "csv", **extra):
    body = {"campaign_id": campaign_id, "format": fmt, "purpose": "prize_delivery", "purpose_note": "寄奖品"}
    return client.post_json(APPROVALS, body | extra)


def _approve(client, approval_id: int, decision: str = "approve"):
    return client.post_json(f"{APPROVALS}/{approval_id}/{decision}", {"note": "ok"})


def _download(client, campaign_id: int, approval_id: int | None, fmt: str = "csv", **filters):
    query = {"reveal": "true", "format": fmt, **filters}
    if approval_id is not None:
        query["approval"] = approval_id
    response = client.get(signups_url(campaign_id, action="export"), query)
    if response.status_code == 200 and response.streaming:
        response.body = b"".join(response.streaming_content)
    return response


def _approved(world, fmt: str = "csv", **extra) -> int:
    campaign, _, alice, _, bob = world
    approval_id = _request(alice, campaign.pk, fmt, **extra).json()["id"]
    assert _approve(bob, approval_id).status_code == 200
    return approval_id


def test_the_rule_end_to_end_with_a_watermark_and_access_rows(world):
    campaign, _, alice, _, bob = world
    # when
    asked = _request(alice, campaign.pk)
    assert asked.status_code == 201 and asked.json()["state"] == "requested"
    approval_id = asked.json()["id"]
    approved = _approve(bob, approval_id)
    response = _download(alice, campaign.pk, approval_id)
    # then
    assert approved.json()["state"] == "approved" and approved.json()["approver_label"] == "bob key"
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))
    assert (
        rows[0][0].startswith("# ")
        and f"#{approval_id}" in rows[0][0]
        # the people who answer for it, not only the names their keys were given (attacker review)
        and "alice（API 密钥 alice key）" in rows[0][0]
        and "bob（API 密钥 bob key）" in rows[0][0]
        and "prize_delivery" not in rows[0][0]  # the purpose in words, not its code
    )
    assert "13800000001" in response.body.decode()
    assert PersonalDataAccess.objects.count() == 3
    assert ExportApproval.objects.get().state == "used"
    assert list(
        AuditEntry.objects.filter(object_type="export_approval")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["export.request", "export.approve", "export.use"]


def test_an_xlsx_in_clear_carries_the_watermark_in_its_properties_and_last_row(world):
    campaign, _, alice, _, _ = world
    approval_id = _approved(world, "xlsx")
    response = _download(alice, campaign.pk, approval_id, "xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert f"#{approval_id}" in book.properties.description
    assert f"#{approval_id}" in list(book.active.values)[-1][0]


def test_no_download_in_clear_without_an_approval(world):
    campaign, _, alice, _, _ = world
    assert_problem(_download(alice, campaign.pk, None), 403, "export.approval_required")
    assert_problem(alice.get(signups_url(campaign.pk), {"reveal": "true"}), 403, "export.approval_required")
    assert not PersonalDataAccess.objects.exists()


def test_self_approval_is_refused(world):
    campaign, _, alice, _, _ = world
    approval_id = _request(alice, campaign.pk).json()["id"]
    assert_problem(_approve(alice, approval_id), 403, "export.self_approval")
    assert ExportApproval.objects.get().state == "requested"


def test_approval_through_another_key_of_the_same_person_is_refused(world):
    campaign, _, alice, alice_again, _ = world
    approval_id = _request(alice, campaign.pk).json()["id"]
    assert_problem(_approve(alice_again, approval_id), 403, "export.self_approval")


def test_a_key_without_an_owner_approves_nothing(world):
    campaign, _, alice, _, _ = world
    approval_id = _request(alice, campaign.pk).json()["id"]
    assert_problem(_approve(_key(""), approval_id), 403, "export.approver_unidentified")


def test_a_key_without_an_owner_requests_nothing(world):
    """Its holder could otherwise approve its request from the console as a different person."""
    campaign, *_ = world
    assert_problem(_request(_key(""), campaign.pk), 403, "export.requester_unidentified")
    assert not ExportApproval.objects.exists()


def test_an_old_key_named_an_owner_can_request(world):
    campaign, *_ = world
    key, token = apikey_create(name="made before owners", role=Role.STRATEGY)
    with pytest.raises(CommandError, match="no console user"):
        call_command("apikey", "set-owner", key.prefix, "operator-bob", stdout=io.StringIO())
    get_user_model().objects.create_user("operator-bob")
    call_command("apikey", "set-owner", key.prefix, "operator-bob", stdout=io.StringIO())
    assert _request(ApiClient(token), campaign.pk).status_code == 201
    assert ExportApproval.objects.get().requester_person == "user:operator-bob"


def test_a_role_without_the_approving_permission_is_refused(world):
    campaign, _, alice, _, _ = world
    approval_id = _request(alice, campaign.pk).json()["id"]
    body = assert_problem(_approve(_key("carol", Role.EXECUTION), approval_id), 403, "core.permission_denied")
    assert body["permission"] == "pii.export_approve"
    body = assert_problem(_request(_key("dave", Role.EXECUTION), campaign.pk), 403, "core.permission_denied")


def test_a_download_by_another_actor_is_refused(world):
    campaign, _, _, alice_again, bob = world
    approval_id = _approved(world)
    assert_problem(_download(bob, campaign.pk, approval_id), 403, "export.not_requester")
    assert_problem(_download(alice_again, campaign.pk, approval_id), 403, "export.not_requester")
    assert ExportApproval.objects.get().state == "approved"


def test_an_approval_opens_one_download(world):
    campaign, _, alice, _, _ = world
    approval_id = _approved(world)
    assert _download(alice, campaign.pk, approval_id).status_code == 200
    assert_problem(_download(alice, campaign.pk, approval_id), 403, "export.approval_used")


def test_an_expired_approval_is_refused(world):
    campaign, _, alice, _, _ = world
    approval_id = _approved(world)
    ExportApproval.objects.filter(pk=approval_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_problem(_download(alice, campaign.pk, approval_id), 403, "export.approval_expired")
    assert ExportApproval.objects.get().state == "expired"
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize(
    "change", ["campaign", "format", "status", "channel"], ids=["campaign", "format", "status", "channel"]
)
def test_an_approval_for_another_scope_is_refused(world, change):
    campaign, other, alice, _, _ = world
    approval_id = _approved(world)
    target, fmt, filters = campaign.pk, "csv", {}
    if change == "campaign":
        target = other.pk
    elif change == "format":
        fmt = "xlsx"
    elif change == "status":
        filters = {"status": "confirmed"}
    else:
        filters = {"channel": "h5"}
    assert_problem(_download(alice, target, approval_id, fmt, **filters), 403, "export.scope_mismatch")
    assert ExportApproval.objects.get().state == "approved"  # still usable for its own scope


def test_a_request_not_approved_or_rejected_opens_nothing(world):
    campaign, _, alice, _, bob = world
    approval_id = _request(alice, campaign.pk).json()["id"]
    assert_problem(_download(alice, campaign.pk, approval_id), 403, "export.not_approved")
    assert _approve(bob, approval_id, "reject").json()["state"] == "rejected"
    assert_problem(_download(alice, campaign.pk, approval_id), 403, "export.not_approved")
    assert_problem(_approve(bob, approval_id), 409, "export.not_pending")


def test_an_unknown_approval_is_a_404(world):
    campaign, _, alice, _, bob = world
    assert_problem(_download(alice, campaign.pk, 999999), 404, "export.approval_not_found")
    assert_problem(_approve(bob, 999999), 404, "export.approval_not_found")


def test_a_list_approval_opens_the_pages_until_it_expires(world):
    campaign, _, alice, _, _ = world
    approval_id = _approved(world, "list")
    query = {"reveal": "true", "approval": approval_id, "page_size": 2}
    assert alice.get(signups_url(campaign.pk), query).status_code == 200
    assert alice.get(signups_url(campaign.pk), query | {"page": 2}).status_code == 200
    ExportApproval.objects.filter(pk=approval_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_problem(alice.get(signups_url(campaign.pk), query), 403, "export.approval_expired")


def test_lapsed_approvals_show_as_expired_without_anyone_trying_them(world):
    from yunying.privacy.exports import approvals_expire

    campaign, _, alice, _, _ = world
    lapsed_file, lapsed_list, used_file, fresh = (
        _approved(world), _approved(world, "list"), _approved(world, "xlsx"), _approved(world),
    )  # fmt: skip
    assert alice.get(signups_url(campaign.pk), {"reveal": "true", "approval": lapsed_list}).status_code == 200
    assert _download(alice, campaign.pk, used_file, "xlsx").status_code == 200
    past = timezone.now() - timedelta(seconds=1)
    ExportApproval.objects.filter(pk__in=[lapsed_file, lapsed_list, used_file]).update(expires_at=past)
    assert approvals_expire() == 2
    states = dict(ExportApproval.objects.values_list("pk", "state"))
    assert states == {lapsed_file: "expired", lapsed_list: "expired", used_file: "used", fresh: "approved"}
    assert approvals_expire() == 0


def test_a_bad_format_is_refused_by_name(world):
    campaign, _, alice, _, _ = world
    response = _request(alice, campaign.pk, "pdf")
    assert response.status_code == 422


@pytest.mark.django_db(transaction=True)
def test_two_downloads_at_once_get_one_file():
    campaign = CampaignFactory(status="published")
    sign_up(campaign, mobile(1))
    alice, bob = _key("alice"), _key("bob")
    approval_id = _request(alice, campaign.pk).json()["id"]
    _approve(bob, approval_id)
    barrier, statuses = threading.Barrier(2), []

    def download():
        try:
            barrier.wait(timeout=10)
            statuses.append(_download(alice, campaign.pk, approval_id).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=download) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 403]


def test_reveal_volume_counts_members_in_exports_and_alerts_once(world, settings):
    # given: an hourly limit of 2 members per operator
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "pii_reveal_members_hour": 2}
    campaign, _, alice, _, _ = world
    # when: one export of 3 members (one request)
    assert _download(alice, campaign.pk, _approved(world)).status_code == 200
    # then: the alert names the operator and counts members, not requests
    from yunying.core.models import Alert

    alert = Alert.objects.get(code="pii.reveal_burst")
    assert alert.data["members_this_hour"] == 3 and alert.data["limit_members_per_hour"] == 2
    assert alert.data["actor_label"] == "alice key"
    # and a second export the same hour raises no second alert
    assert _download(alice, campaign.pk, _approved(world)).status_code == 200
    assert Alert.objects.filter(code="pii.reveal_burst").count() == 1


def test_reveal_volume_under_the_limit_raises_nothing(world, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "pii_reveal_members_hour": 3}
    campaign, _, alice, _, _ = world
    assert _download(alice, campaign.pk, _approved(world)).status_code == 200
    from yunying.core.models import Alert

    assert not Alert.objects.filter(code="pii.reveal_burst").exists()


@pytest.mark.parametrize(
    "filters", [{"status": "<b>x</b>"}, {"channel": "x' OR 1=1"}], ids=["status", "channel"]
)
def test_a_filter_no_export_takes_is_refused_before_anyone_is_asked(world, filters):
    from yunying.core.errors import DomainError
    from yunying.core.permissions import Actor
    from yunying.privacy.exports import Scope, approval_request

    campaign, _, alice, _, _ = world
    assert _request(alice, campaign.pk, **filters).status_code == 422
    scope = Scope(campaign.pk, "csv", filters.get("status", ""), filters.get("channel", ""))
    with pytest.raises(DomainError) as refused:  # the console's path, the same service
        approval_request(
            actor=Actor(kind="user", id=3, label="carol", role=Role.STRATEGY),
            scope=scope,
            purpose="prize_delivery",
        )
    assert refused.value.code == "export.filter_invalid"
    assert not ExportApproval.objects.exists()


def test_an_approval_is_seen_by_its_requester_with_any_of_their_keys_and_by_approvers_only(world):
    """Attacker review: a key without approve rights told taken ids (403) from free ones (404); new
    user review: the console's 我的导出申请 missed what the operator asked for with their own key."""
    campaign, _, alice, _, bob = world
    approval_id = _request(alice, campaign.pk).json()["id"]
    alices_other_key = _key("alice", name="alice 2")
    stranger = _key("mallory", role=Role.SUPPORT)
    assert alices_other_key.get(f"{APPROVALS}/{approval_id}").status_code == 200
    assert bob.get(f"{APPROVALS}/{approval_id}").status_code == 200
    assert_problem(stranger.get(f"{APPROVALS}/{approval_id}"), 404, "export.approval_not_found")
    assert_problem(stranger.get(f"{APPROVALS}/999999"), 404, "export.approval_not_found")
    from yunying.core.permissions import Actor
    from yunying.privacy.exports import approvals_of

    in_console = Actor(kind="user", id=1, label="alice", role=Role.STRATEGY)
    assert [a.pk for a in approvals_of(in_console)] == [approval_id]
