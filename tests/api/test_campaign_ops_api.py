"""Copy, delete, extend and search campaigns through /api/v1/campaigns, each with its permission."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from tests.api.helpers import assert_problem, campaigns_url
from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.models import Campaign, LotteryDraw
from yunying.core.models import AuditEntry
from yunying.core.permissions import Role
from yunying.members.services import Profile

# --- copy --------------------------------------------------------------------------------------------


def test_copy_makes_a_draft_with_the_same_definition_and_dates_and_a_marked_title(api):
    # given
    source = CampaignFactory(
        status="published", title="秋季新品体验", capacity=30, eligibility={"min_age": 18},
        form=[{"key": "size", "label": "尺码", "type": "single_choice", "options": [{"value": "m", "label": "M"}]}],
    )  # fmt: skip
    sign_up(source, mobile(1), profile=Profile(birth_date=date(1990, 5, 1)))
    # when
    response = api.post_json(campaigns_url(source.pk, "copy"))
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    copy = Campaign.objects.get(pk=body["id"])
    assert copy.pk != source.pk
    assert (copy.status, copy.seats_taken, copy.title) == ("draft", 0, "秋季新品体验（副本）")
    for field in (
        "capacity",
        "eligibility",
        "form",
        "channels",
        "rules_text",
        "signup_start_at",
        "event_end_at",
    ):
        assert getattr(copy, field) == getattr(source, field), field
    entry = AuditEntry.objects.get(action="campaign.copy")
    assert (entry.object_id, entry.after["copied_from"]) == (str(copy.pk), source.pk)


def test_copy_in_english_says_copy_and_keeps_the_title_within_its_length(api):
    source = CampaignFactory(title="x" * 200)
    body = api.post_json(campaigns_url(source.pk, "copy"), HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["title"].endswith("x (copy)") and len(body["title"]) == 200


def test_copy_of_an_unknown_campaign_is_a_404(api):
    assert_problem(api.post_json(campaigns_url(999999, "copy")), 404, "campaign.not_found")


@pytest.mark.parametrize(
    ("role", "action", "method"),
    [
        (Role.SUPPORT, "copy", "post"),
        (Role.AUDITOR, "", "delete"),
        (Role.EXECUTION, "extend", "post"),
    ],
    ids=["support-copy", "auditor-delete", "execution-extend"],
)
def test_each_action_needs_its_permission(api_as, role, action, method):
    campaign = CampaignFactory(status="closed")
    client = api_as(role)
    url = campaigns_url(campaign.pk, action)
    body = {"signup_end_at": (timezone.now() + timedelta(days=1)).isoformat()}
    response = client.post_json(url, body) if method == "post" else client.delete(url)
    assert_problem(response, 403, "core.permission_denied")


# --- delete ------------------------------------------------------------------------------------------


def test_deleting_a_draft_answers_204_and_audits_its_definition(api):
    # given
    draft = CampaignFactory(title="草稿")
    # when
    response = api.delete(campaigns_url(draft.pk))
    # then
    assert response.status_code == 204
    assert not Campaign.objects.filter(pk=draft.pk).exists()
    entry = AuditEntry.objects.get(action="campaign.delete")
    assert (entry.object_id, entry.before["title"], entry.after) == (str(draft.pk), "草稿", {})
    assert_problem(api.delete(campaigns_url(draft.pk)), 404, "campaign.not_found")


@pytest.mark.parametrize("status", ["published", "closed", "finished", "cancelled"])
def test_only_drafts_can_be_deleted(api, status):
    campaign = CampaignFactory(status=status)
    body = assert_problem(api.delete(campaigns_url(campaign.pk)), 409, "campaign.not_deletable")
    assert body["current_status"] == status
    assert Campaign.objects.filter(pk=campaign.pk).exists()
    assert not AuditEntry.objects.filter(action="campaign.delete").exists()


def test_a_draft_with_sign_ups_cannot_be_deleted(api):
    # given: a campaign that took sign-ups and was moved back to draft by hand (no service does this)
    campaign = CampaignFactory(status="published")
    sign_up(campaign, mobile(1))
    Campaign.objects.filter(pk=campaign.pk).update(status="draft")
    # when / then
    body = assert_problem(api.delete(campaigns_url(campaign.pk)), 409, "campaign.not_deletable")
    assert body["has_signups"] is True


# --- extend ------------------------------------------------------------------------------------------


def closed_campaign(**overrides):
    now = timezone.now()
    values = {
        "status": "closed", "signup_start_at": now - timedelta(days=3), "signup_end_at": now - timedelta(hours=1),
        "event_start_at": now + timedelta(days=5), "event_end_at": now + timedelta(days=5, hours=3),
        "closed_at": now - timedelta(hours=1),
    }  # fmt: skip
    return CampaignFactory(**(values | overrides))


def test_extend_reopens_a_closed_campaign_with_the_later_deadline(api):
    # given
    campaign = closed_campaign()
    new_end = timezone.now() + timedelta(days=2)
    # when
    response = api.post_json(
        campaigns_url(campaign.pk, "extend"), {"signup_end_at": new_end.isoformat(), "reason": "报名太火爆"}
    )
    # then
    assert response.status_code == 200, response.content
    campaign.refresh_from_db()
    assert (campaign.status, campaign.signup_end_at, campaign.closed_at) == ("published", new_end, None)
    entry = AuditEntry.objects.get(action="campaign.extend")
    assert entry.before["status"] == "closed" and entry.after["status"] == "published"
    assert entry.reason == "报名太火爆"
    # and members can sign up again
    assert sign_up(campaign, mobile(3)).status == "confirmed"


@pytest.mark.parametrize(
    ("end_in", "why"),
    [
        (timedelta(hours=-2), "earlier than the old deadline"),
        (timedelta(minutes=-30), "later than the old one but already past"),
        (timedelta(days=6), "after the event starts"),
    ],
    ids=["earlier", "past", "after-event"],
)
def test_extend_refuses_a_deadline_that_does_not_fit(api, end_in, why):
    campaign = closed_campaign()
    response = api.post_json(
        campaigns_url(campaign.pk, "extend"), {"signup_end_at": (timezone.now() + end_in).isoformat()}
    )
    body = assert_problem(response, 422, "core.invalid")
    assert [e["field"] for e in body["errors"]] == ["signup_end_at"], why
    campaign.refresh_from_db()
    assert campaign.status == "closed"


def test_extend_refuses_once_the_event_has_started(api):
    now = timezone.now()
    campaign = closed_campaign(
        event_start_at=now - timedelta(minutes=1), event_end_at=now + timedelta(hours=2)
    )
    response = api.post_json(
        campaigns_url(campaign.pk, "extend"), {"signup_end_at": (now + timedelta(hours=1)).isoformat()}
    )
    assert_problem(response, 409, "campaign.event_started")


@pytest.mark.parametrize("status", ["draft", "published", "finished", "cancelled"])
def test_extend_applies_only_to_a_closed_campaign(api, status):
    campaign = closed_campaign(status=status)
    response = api.post_json(
        campaigns_url(campaign.pk, "extend"),
        {"signup_end_at": (timezone.now() + timedelta(days=1)).isoformat()},
    )
    assert_problem(response, 409, "campaign.invalid_transition")


def test_extend_refuses_a_drawn_lottery(api):
    campaign = closed_campaign(admission_mode="lottery")
    LotteryDraw.objects.create(
        campaign=campaign, algorithm="sha256-rank-v1", seed="s" * 16, entrant_count=0,
        entrants_digest="0" * 64, winner_count=0, actor_label="test",
    )  # fmt: skip
    response = api.post_json(
        campaigns_url(campaign.pk, "extend"),
        {"signup_end_at": (timezone.now() + timedelta(days=1)).isoformat()},
    )
    assert_problem(response, 409, "campaign.already_drawn")


# --- search ------------------------------------------------------------------------------------------


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["title"] for c in response.json()["items"]]


def test_search_by_title_substring_state_and_type(api):
    CampaignFactory(title="双11 美妆节", status="published", type="promotion")
    CampaignFactory(title="双11 数码节", status="draft", type="promotion")
    CampaignFactory(title="品牌日", status="published", type="brand_event")
    assert ids(api.get(campaigns_url(), {"title": "双11"})) == ["双11 数码节", "双11 美妆节"]
    assert ids(api.get(campaigns_url(), {"title": "双11", "status": "published"})) == ["双11 美妆节"]
    assert ids(api.get(campaigns_url(), {"type": "brand_event"})) == ["品牌日"]
    assert ids(api.get(campaigns_url(), {"title": "美妆", "type": "brand_event"})) == []


def test_search_by_date_range_keeps_campaigns_running_in_it(api):
    # given: runs (sign-up start to event end) in the configured zone
    day = timezone.localdate() + timedelta(days=10)

    def at(days: int, hour: int):
        return timezone.make_aware(datetime.combine(day + timedelta(days=days), time(hour)))

    def run(title, start, end):
        CampaignFactory(
            title=title, signup_start_at=at(start, 9), signup_end_at=at(start, 10),
            event_start_at=at(end, 9), event_end_at=at(end, 18),
        )  # fmt: skip

    run("before", -5, -1)
    run("overlaps start", -2, 0)
    run("inside", 1, 2)
    run("overlaps end", 3, 6)
    run("after", 4, 8)
    # when
    found = ids(
        api.get(
            campaigns_url(), {"date_from": day.isoformat(), "date_to": (day + timedelta(days=3)).isoformat()}
        )
    )
    # then
    assert sorted(found) == ["inside", "overlaps end", "overlaps start"]


def test_search_with_a_date_that_is_not_one_is_a_422(api):
    assert_problem(api.get(campaigns_url(), {"date_from": "soon"}), 422, "core.invalid")


@pytest.mark.parametrize(
    ("query", "found"),
    [({"date_from": "9999-12-31"}, 0), ({"date_to": "0001-01-01"}, 0), ({"date_from": "0001-01-01", "date_to": "9999-12-31"}, 1)],
    ids=["from-the-end-of-time", "to-the-beginning", "all-time"],
)  # fmt: skip
def test_search_with_extreme_dates_matches_all_or_nothing_never_a_500(api, query, found):
    CampaignFactory()
    response = api.get(campaigns_url(), query)
    assert response.status_code == 200, response.content
    assert response.json()["count"] == found
