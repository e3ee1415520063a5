"""GET /api/v1/audit: the auditor (and strategy) read and filter the trail; every other role gets 403.
Revealing personal data and exporting are audited through the API as well."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.api.helpers import assert_problem, campaign_payload, campaigns_url, signups_url
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from tests.privacy.helpers import approval_for
from yunying.core.models import AuditEntry
from yunying.core.permissions import Role

AUDIT = "/api/v1/audit"


def actions():
    """Audit rows other than the creation of the test clients' own keys."""
    return AuditEntry.objects.exclude(action="apikey.create")


@pytest.mark.parametrize("role", [Role.EXECUTION, Role.SUPPORT, Role.INTEGRATION])
def test_roles_without_audit_view_get_403(api_as, role):
    assert_problem(api_as(role).get(AUDIT), 403, "core.permission_denied")


def test_the_auditor_reads_the_trail_newest_first_and_filters_it(api, api_as):
    # given: a strategy key creates two campaigns and publishes one
    first = api.post_json(campaigns_url(), campaign_payload(title="一")).json()["id"]
    second = api.post_json(campaigns_url(), campaign_payload(title="二")).json()["id"]
    api.post_json(campaigns_url(first, "publish"))
    auditor = api_as(Role.AUDITOR)
    # when
    everything = auditor.get(AUDIT, {"object_type": "campaign"})
    publishes = auditor.get(AUDIT, {"action": "campaign.publish"})
    about_first = auditor.get(AUDIT, {"object_type": "campaign", "object_id": str(first)})
    all_campaign_actions = auditor.get(AUDIT, {"action": "campaign"})
    # then
    assert everything.status_code == 200, everything.content
    items = everything.json()["items"]
    assert [(i["action"], i["object_id"]) for i in items] == [
        ("campaign.publish", str(first)), ("campaign.create", str(second)), ("campaign.create", str(first)),
    ]  # fmt: skip
    assert items[0]["actor_label"] == "strategy test key"
    assert items[0]["actor_role"] == "strategy"
    assert items[0]["before"]["status"] == "draft" and items[0]["after"]["status"] == "published"
    assert [i["action"] for i in publishes.json()["items"]] == ["campaign.publish"]
    assert [i["action"] for i in about_first.json()["items"]] == ["campaign.publish", "campaign.create"]
    assert all_campaign_actions.json()["count"] == 3


def test_the_trail_filters_by_actor_and_time(api, api_as):
    # given
    api.post_json(campaigns_url(), campaign_payload())
    execution = api_as(Role.EXECUTION)
    execution.post_json(campaigns_url(), campaign_payload())
    key_id = actions().get(actor_role="execution").actor_id
    auditor = api_as(Role.AUDITOR)
    today = timezone.localdate()
    # when
    by_key = auditor.get(AUDIT, {"actor": f"api_key:{key_id}"})
    by_label = auditor.get(AUDIT, {"actor": "strategy test key"})
    day = {"action": "campaign.create"}
    today_only = auditor.get(AUDIT, day | {"since": today.isoformat(), "until": today.isoformat()})
    tomorrow = auditor.get(AUDIT, day | {"since": (today + timedelta(days=1)).isoformat()})
    yesterday = auditor.get(AUDIT, day | {"until": (today - timedelta(days=1)).isoformat()})
    # then
    assert [i["actor_role"] for i in by_key.json()["items"]] == ["execution"]
    assert [i["actor_role"] for i in by_label.json()["items"]] == ["strategy"]
    assert today_only.json()["count"] == 2
    assert tomorrow.json()["count"] == 0
    assert yesterday.json()["count"] == 0


def test_instants_filter_to_the_second_naive_ones_in_the_configured_zone(api, api_as):
    # given
    api.post_json(campaigns_url(), campaign_payload())
    made = timezone.localtime(AuditEntry.objects.get(action="campaign.create").at).replace(tzinfo=None)
    auditor = api_as(Role.AUDITOR)
    # when
    before = {"action": "campaign", "until": (made - timedelta(seconds=1)).isoformat()}
    around = {
        "action": "campaign",
        "since": (made - timedelta(seconds=1)).isoformat(),
        "until": (made + timedelta(seconds=1)).isoformat(),
    }
    # then
    assert auditor.get(AUDIT, before).json()["count"] == 0
    assert auditor.get(AUDIT, around).json()["count"] == 1


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ({"since": "9999-12-31"}, 0), ({"until": "0001-01-01"}, 0),
        ({"since": "0001-01-01T00:00:00+14:00", "until": "9999-12-31T23:59:59-12:00"}, 1),
    ],
    ids=["since-the-end-of-time", "until-the-beginning", "all-time-with-offsets"],
)  # fmt: skip
def test_extreme_instants_match_all_or_nothing_never_a_500(api, api_as, query, found):
    api.post_json(campaigns_url(), campaign_payload())
    response = api_as(Role.AUDITOR).get(AUDIT, {"action": "campaign"} | query)
    assert response.status_code == 200, response.content
    assert response.json()["count"] == found


def test_bad_filters_are_a_422_not_a_500(api_as):
    response = api_as(Role.AUDITOR).get(AUDIT, {"since": "yesterday"})
    assert_problem(response, 422, "core.invalid")


def test_revealing_sign_ups_writes_one_audit_row_naming_the_members_and_the_purpose(api, open_campaign):
    # given
    signups = [sign_up(open_campaign, mobile(n)) for n in (1, 2)]
    # when
    approval = approval_for(api, open_campaign.pk, "list", note="核对中奖名单")
    response = api.get(signups_url(open_campaign.pk), {"reveal": "true", "approval": approval})
    # then
    assert response.status_code == 200
    entry = actions().get(action="pii.reveal")
    assert (entry.action, entry.object_type, entry.object_id) == (
        "pii.reveal",
        "campaign",
        str(open_campaign.pk),
    )
    assert entry.reason == "customer_service: 核对中奖名单"
    assert entry.after["member_ids"] == sorted(s.member_id for s in signups)
    assert "13800000001" not in str(entry.after)


def test_a_masked_read_is_not_a_reveal_and_writes_nothing(api, open_campaign):
    sign_up(open_campaign, mobile(1))
    assert api.get(signups_url(open_campaign.pk)).status_code == 200
    assert actions().count() == 0


@pytest.mark.parametrize(("reveal", "fmt"), [(False, "csv"), (True, "csv"), (True, "xlsx")])
def test_every_export_writes_exactly_one_audit_row(api, open_campaign, reveal, fmt):
    # given: more sign-ups than one export batch would not change the count
    for n in range(3):
        sign_up(open_campaign, mobile(n))
    query = {"format": fmt} | (
        {"reveal": "true", "approval": approval_for(api, open_campaign.pk, fmt, note="活动复盘")}
        if reveal
        else {}
    )
    # when
    response = api.get(signups_url(open_campaign.pk, action="export"), query)
    b"".join(response.streaming_content) if response.streaming else response.content
    # then
    assert response.status_code == 200
    entry = actions().get(action="signup.export")
    assert entry.after == {"format": fmt, "revealed": reveal, "rows": 3}


def test_reading_the_trail_costs_the_same_queries_for_one_row_or_many(api, api_as, django_assert_num_queries):
    # given
    auditor = api_as(Role.AUDITOR)
    api.post_json(campaigns_url(), campaign_payload())
    auditor.get(AUDIT)
    with CaptureQueriesContext(connection) as one:
        first = auditor.get(AUDIT, {"action": "campaign"})
    assert first.json()["count"] == 1, first.content
    queries = len(one)  # now: the next request clears the connection's query log
    for _ in range(5):
        api.post_json(campaigns_url(), campaign_payload())
    # when / then
    with django_assert_num_queries(queries):
        assert auditor.get(AUDIT, {"action": "campaign"}).json()["count"] == 6
