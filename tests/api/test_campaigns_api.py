"""/api/v1/campaigns through HTTP: create, read, list, edit (rules lock once published), lifecycle
actions, statistics; every refusal is a problem+json with its stable code."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.api.helpers import assert_problem, campaign_payload, campaigns_url, signup_payload, signups_url
from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import MemberFactory, mobile
from yunying.campaigns.models import Campaign, Signup
from yunying.members.services import Profile

# --- create, get, list -------------------------------------------------------------------------------


def test_create_returns_201_with_the_draft_echoed(api):
    # given
    payload = campaign_payload(
        eligibility={"min_age": 18, "regions_allow": ["440000"]},
        form=[
            {
                "key": "size",
                "label": "尺码",
                "type": "single_choice",
                "options": [{"value": "M", "label": "M"}],
            }
        ],
        waitlist_enabled=True,
    )
    # when
    response = api.post_json(campaigns_url(), payload)
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    for field in ("title", "theme", "type", "rules_text", "capacity", "channels", "waitlist_enabled"):
        assert body[field] == payload[field], field
    assert body["status"] == "draft"
    assert (body["seats_taken"], body["seats_left"]) == (0, 20)
    assert body["eligibility"]["min_age"] == 18
    assert body["eligibility"]["regions_allow"] == ["440000"]
    assert [q["key"] for q in body["form"]] == ["size"]
    assert body["created_by"] == "strategy test key"
    assert body["published_at"] is None
    assert Campaign.objects.get(pk=body["id"]).title == payload["title"]


def test_create_with_an_idempotency_key_creates_once(api):
    # given
    payload = campaign_payload()
    # when
    first = api.post_json(campaigns_url(), payload, HTTP_IDEMPOTENCY_KEY="plan-2024-11")
    again = api.post_json(campaigns_url(), payload, HTTP_IDEMPOTENCY_KEY="plan-2024-11")
    # then
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Campaign.objects.count() == 1


def test_get_returns_the_campaign_with_seats_left(api, open_campaign):
    # given
    sign_up(open_campaign, mobile(1))
    # when
    response = api.get(campaigns_url(open_campaign.pk))
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["capacity"]) == (open_campaign.pk, "published", 10)
    assert (body["seats_taken"], body["seats_left"]) == (1, 9)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"a", "b", "c"}),
        ({"status": "published"}, {"a", "b"}),
        ({"type": "brand_event"}, {"b", "c"}),
        ({"status": "published", "type": "brand_event"}, {"b"}),
        ({"status": "cancelled"}, set()),
    ],
    ids=["all", "by-status", "by-type", "both", "none"],
)
def test_list_filters_by_status_and_type(api, query, expected):
    # given
    CampaignFactory(title="a", status="published", type="promotion")
    CampaignFactory(title="b", status="published", type="brand_event")
    CampaignFactory(title="c", status="draft", type="brand_event")
    # when
    response = api.get(campaigns_url(), query)
    # then
    assert response.status_code == 200
    body = response.json()
    assert {c["title"] for c in body["items"]} == expected
    assert body["count"] == len(expected)


def test_list_paginates_newest_first(api):
    # given
    ids = [CampaignFactory().pk for _ in range(5)]
    # when
    first = api.get(campaigns_url(), {"page": 1, "page_size": 2}).json()
    last = api.get(campaigns_url(), {"page": 3, "page_size": 2}).json()
    # then
    assert first["count"] == last["count"] == 5
    assert [c["id"] for c in first["items"]] == ids[::-1][:2]
    assert [c["id"] for c in last["items"]] == ids[:1]


def test_list_with_an_unknown_status_is_a_422(api):
    # when
    response = api.get(campaigns_url(), {"status": "archived"})
    # then
    body = assert_problem(response, 422, "core.invalid")
    assert body["errors"][0]["field"] == "status"


def test_list_queries_do_not_grow_with_the_number_of_campaigns(api, django_assert_num_queries):
    # given
    CampaignFactory()
    api.get(campaigns_url())  # the key's first use records last_used_at: keep it out of the count
    with CaptureQueriesContext(connection) as one:
        assert len(api.get(campaigns_url()).json()["items"]) == 1
    CampaignFactory.create_batch(9)
    # when / then
    with django_assert_num_queries(len(one)):
        assert len(api.get(campaigns_url()).json()["items"]) == 10


# --- edit ----------------------------------------------------------------------------------------------


def test_patch_on_a_draft_may_change_the_rules(api):
    # given
    campaign = CampaignFactory(status="draft")
    changes = {"rules_text": "新规则", "capacity": 3, "review_mode": "manual", "eligibility": {"min_age": 20}}
    # when
    response = api.patch_json(campaigns_url(campaign.pk), changes)
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["rules_text"], body["capacity"], body["review_mode"]) == ("新规则", 3, "manual")
    assert body["eligibility"]["min_age"] == 20


def test_patch_on_a_published_campaign_may_change_cosmetic_fields(api, open_campaign):
    # when
    response = api.patch_json(
        campaigns_url(open_campaign.pk),
        {"title": "新标题", "description": "更详细的介绍", "channels": ["h5"]},
    )
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["description"], body["channels"]) == ("新标题", "更详细的介绍", ["h5"])


def test_patch_on_a_published_campaign_may_add_capacity_and_promotes_the_waiting_list(api, published):
    # given
    campaign = published(capacity=1, waitlist_enabled=True)
    sign_up(campaign, mobile(1))
    waiting = sign_up(campaign, mobile(2))
    # when
    response = api.patch_json(campaigns_url(campaign.pk), {"capacity": 5})
    # then
    assert response.status_code == 200, response.content
    assert (response.json()["capacity"], response.json()["seats_left"]) == (5, 3)
    waiting.refresh_from_db()
    assert waiting.status == "confirmed"


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"rules_text": "改了规则"}, ["rules_text"]),
        ({"capacity": 5}, ["capacity"]),
        ({"eligibility": {"min_age": 30}}, ["eligibility"]),
        ({"review_mode": "manual", "waitlist_enabled": True}, ["review_mode", "waitlist_enabled"]),
        ({"title": "可以改", "type": "brand_event"}, ["type"]),
    ],
    ids=["rules-text", "capacity-down", "eligibility", "two-fields", "cosmetic-plus-rule"],
)
def test_patch_changing_rules_of_a_published_campaign_is_a_409_naming_every_field(
    api, open_campaign, changes, fields
):
    # when
    response = api.patch_json(campaigns_url(open_campaign.pk), changes)
    # then
    body = assert_problem(response, 409, "campaign.rules_locked")
    assert body["fields"] == fields
    open_campaign.refresh_from_db()
    assert open_campaign.title != "可以改"  # refused as a whole
    assert open_campaign.capacity == 10


def test_patch_resending_unchanged_rules_of_a_published_campaign_is_accepted(api):
    # given: a campaign created and published through the API, edited by a client that sends the
    # whole object back (rules unchanged)
    payload = campaign_payload(
        eligibility={"min_age": 18},
        form=[{"key": "size", "label": "尺码", "type": "text"}],
    )
    created = api.post_json(campaigns_url(), payload).json()
    api.post_json(campaigns_url(created["id"], "publish"))
    # when
    response = api.patch_json(
        campaigns_url(created["id"]),
        {"title": "改个标题", "eligibility": payload["eligibility"], "form": payload["form"]},
    )
    # then
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "改个标题"


def test_patch_with_an_inverted_window_is_a_422_naming_the_field(api):
    # given
    campaign = CampaignFactory(status="draft")
    # when
    response = api.patch_json(
        campaigns_url(campaign.pk),
        {"signup_end_at": (campaign.signup_start_at - timedelta(hours=1)).isoformat()},
    )
    # then
    body = assert_problem(response, 422, "core.invalid")
    assert [e["field"] for e in body["errors"]] == ["signup_end_at"]


# --- bad definitions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"eligibility": {"min_age": 30, "max_age": 20}}, "eligibility"),
        ({"eligibility": {"regions_allow": ["990000"]}}, "eligibility"),
        ({"eligibility": {"shoe_size": 42}}, "eligibility.shoe_size"),
        ({"form": [{"key": "size", "label": "尺码", "type": "single_choice"}]}, "form.0"),
        ({"form": [{"key": "Size!", "label": "尺码", "type": "text"}]}, "form.0.key"),
        ({"capacity": 0}, "capacity"),
        ({"channels": ["fax"]}, "channels.0"),
        ({"title": ""}, "title"),
    ],
    ids=[
        "max-age-below-min",
        "unknown-region",
        "unknown-rule",
        "choice-without-options",
        "bad-key",
        "zero-capacity",
        "unknown-channel",
        "empty-title",
    ],
)
def test_create_with_a_bad_definition_is_a_422_naming_the_field(api, overrides, field):
    # when
    response = api.post_json(campaigns_url(), campaign_payload(**overrides))
    # then
    body = assert_problem(response, 422, "core.invalid")
    assert field in [e["field"] for e in body["errors"]]
    assert not Campaign.objects.exists()


def test_create_with_duplicate_question_keys_is_a_422_form_definition_invalid(api):
    # given
    form = [
        {"key": "size", "label": "尺码", "type": "text"},
        {"key": "size", "label": "再问一次", "type": "text"},
    ]
    # when
    response = api.post_json(campaigns_url(), campaign_payload(form=form))
    # then: reported with every other problem of the definition, under core.invalid
    body = assert_problem(response, 422, "core.invalid")
    assert {"field": "form.1.key", "code": "form.definition_invalid", "message": "duplicate key"} in body[
        "errors"
    ]
    assert not Campaign.objects.exists()


def test_create_with_sign_up_ending_before_it_starts_is_a_422(api):
    # given
    now = timezone.now()
    payload = campaign_payload(
        signup_start_at=now.isoformat(), signup_end_at=(now - timedelta(hours=1)).isoformat()
    )
    # when
    response = api.post_json(campaigns_url(), payload)
    # then
    body = assert_problem(response, 422, "core.invalid")
    assert [e["field"] for e in body["errors"]] == ["signup_end_at"]


# --- lifecycle --------------------------------------------------------------------------------------


def test_publish_a_complete_draft(api):
    # given
    campaign = CampaignFactory(status="draft")
    # when
    response = api.post_json(campaigns_url(campaign.pk, "publish"))
    # then
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"
    assert response.json()["published_at"] is not None


@pytest.mark.parametrize(
    ("overrides", "missing"),
    [
        ({"rules_text": ""}, ["rules_text"]),
        ({"rules_text": "   "}, ["rules_text"]),
        ({"channels": []}, ["channels"]),
        ({"rules_text": "", "channels": []}, ["rules_text", "channels"]),
    ],
    ids=["no-rules", "blank-rules", "no-channels", "neither"],
)
def test_publish_an_incomplete_draft_is_a_422_listing_what_is_missing(api, overrides, missing):
    # given
    campaign = CampaignFactory(status="draft", **overrides)
    # when
    response = api.post_json(campaigns_url(campaign.pk, "publish"))
    # then
    body = assert_problem(response, 422, "campaign.incomplete")
    assert body["missing"] == missing
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_close_then_finish(api, open_campaign):
    # when
    closed = api.post_json(campaigns_url(open_campaign.pk, "close"), {"reason": "提前截止"})
    finished = api.post_json(campaigns_url(open_campaign.pk, "finish"))
    # then
    assert closed.status_code == 200, closed.content
    assert (closed.json()["status"], closed.json()["status_reason"]) == ("closed", "提前截止")
    assert closed.json()["closed_at"] is not None
    assert finished.status_code == 200, finished.content
    assert finished.json()["status"] == "finished"


def test_close_needs_no_body(api, open_campaign):
    # when
    response = api.post(campaigns_url(open_campaign.pk, "close"), content_type="application/json")
    # then
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "closed"


@pytest.mark.parametrize("status", ["draft", "published", "closed"])
def test_cancel_with_a_reason(api, status):
    # given
    campaign = CampaignFactory(status=status)
    # when
    response = api.post_json(campaigns_url(campaign.pk, "cancel"), {"reason": "供应商延期"})
    # then
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["status_reason"]) == ("cancelled", "供应商延期")


@pytest.mark.parametrize("body", [{}, {"reason": "  "}], ids=["no-reason", "blank-reason"])
def test_cancel_without_a_reason_is_a_422(api, open_campaign, body):
    # when
    response = api.post_json(campaigns_url(open_campaign.pk, "cancel"), body)
    # then
    assert_problem(response, 422, "campaign.reason_required")
    open_campaign.refresh_from_db()
    assert open_campaign.status == "published"


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("draft", "close"),
        ("draft", "finish"),
        ("published", "publish"),
        ("published", "finish"),
        ("closed", "publish"),
        ("finished", "cancel"),
        ("cancelled", "publish"),
        ("cancelled", "close"),
    ],
    ids=lambda v: v,
)
def test_an_invalid_transition_is_a_409_with_the_current_status(api, status, action):
    # given
    campaign = CampaignFactory(status=status)
    # when
    response = api.post_json(campaigns_url(campaign.pk, action), {"reason": "试试"})
    # then
    body = assert_problem(response, 409, "campaign.invalid_transition")
    assert body["current_status"] == status
    campaign.refresh_from_db()
    assert campaign.status == status


@pytest.mark.parametrize("status", ["finished", "cancelled"])
def test_patch_on_a_finished_or_cancelled_campaign_is_a_409(api, status):
    # given
    campaign = CampaignFactory(status=status)
    # when
    response = api.patch_json(campaigns_url(campaign.pk), {"title": "改不了"})
    # then
    body = assert_problem(response, 409, "campaign.rules_locked")
    assert body["fields"] == ["title"]


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("get", ""),
        ("patch", ""),
        ("post", "publish"),
        ("post", "close"),
        ("post", "finish"),
        ("post", "cancel"),
        ("get", "stats"),
        ("post", "signups"),
        ("get", "signups"),
        ("get", "signups/export"),
        ("post", "draw"),
    ],
    ids=lambda v: v or "-",
)
def test_an_unknown_campaign_is_a_404(api, method, action):
    # given
    url = campaigns_url(999_999, action)
    body = (
        signup_payload(1)
        if action == "signups"
        else {}
        if action in ("draw", "publish", "finish")
        else {"title": "x"}
        if action == ""
        else {"reason": "无"}
    )
    # when
    if method == "get":
        response = api.get(url)
    elif method == "patch":
        response = api.patch_json(url, body)
    else:
        response = api.post_json(url, body)
    # then
    problem = assert_problem(response, 404, "campaign.not_found")
    assert problem["id"] == 999_999


@pytest.mark.parametrize("path", ["/api/v1/campaigns/abc", "/api/v1/nothing", "/api/v2/campaigns"])
def test_an_unknown_path_is_a_404_problem(api, path):
    # when
    response = api.get(path)
    # then
    assert_problem(response, 404, "core.not_found")


# --- statistics -------------------------------------------------------------------------------------


def test_stats_count_sign_ups_by_status_channel_and_profile(api, published):
    # given
    campaign = published(capacity=2, waitlist_enabled=True)
    today = timezone.localdate()
    young = Profile(gender="female", birth_date=date(today.year - 20, 1, 1), region_code="440300")
    older = Profile(gender="male", birth_date=date(today.year - 40, 1, 1), region_code="310100")
    sign_up(campaign, mobile(1), profile=young, channel="h5")
    sign_up(campaign, mobile(2), profile=older, channel="app")
    sign_up(campaign, mobile(3), profile=young, channel="app")  # waitlisted
    leaving = sign_up(campaign, mobile(4), profile=Profile(), channel="h5")  # waitlisted, then withdrawn
    api.post_json(signups_url(campaign.pk, leaving.pk, "withdraw"), {"reason": "没空"})
    # when
    response = api.get(campaigns_url(campaign.pk, "stats"))
    # then
    assert response.status_code == 200, response.content
    stats = response.json()
    assert (stats["campaign_id"], stats["capacity"], stats["seats_taken"], stats["seats_left"]) == (
        campaign.pk,
        2,
        2,
        0,
    )
    assert stats["by_status"]["confirmed"] == 2
    assert stats["by_status"]["waitlisted"] == 1
    assert stats["by_status"]["withdrawn"] == 1
    assert stats["by_status"]["rejected"] == 0
    assert stats["by_channel"] == {"h5": 1, "app": 2}  # live sign-ups only
    assert stats["by_gender"] == {"female": 2, "male": 1}
    assert stats["by_age_band"] == {"18-24": 2, "35-44": 1}
    assert stats["by_province"] == {"广东省": 2, "上海市": 1}
    assert sum(m["count"] for m in stats["per_minute"]) == 4


def test_stats_of_a_campaign_without_sign_ups(api, open_campaign):
    # when
    stats = api.get(campaigns_url(open_campaign.pk, "stats")).json()
    # then
    assert stats["seats_left"] == 10
    assert set(stats["by_status"].values()) == {0}
    assert stats["by_channel"] == stats["by_gender"] == stats["by_province"] == {}
    assert stats["per_minute"] == []


def test_stats_show_unknown_profile_facts_as_such(api, open_campaign):
    # given
    MemberFactory(phone=mobile(7), birth_date=None, region_code="")
    sign_up(open_campaign, mobile(7))
    # when
    stats = api.get(campaigns_url(open_campaign.pk, "stats")).json()
    # then
    assert stats["by_age_band"] == {"unknown": 1}
    assert stats["by_province"] == {"未知": 1}


def test_patch_on_a_published_campaign_may_extend_the_deadline_but_not_shorten_it(api, open_campaign):
    # given
    later = (open_campaign.signup_end_at + timedelta(hours=6)).isoformat()
    earlier = (open_campaign.signup_end_at - timedelta(hours=6)).isoformat()
    # when
    extended = api.patch_json(campaigns_url(open_campaign.pk), {"signup_end_at": later})
    shortened = api.patch_json(campaigns_url(open_campaign.pk), {"signup_end_at": earlier})
    # then
    assert extended.status_code == 200, extended.content
    body = assert_problem(shortened, 409, "campaign.rules_locked")
    assert body["fields"] == ["signup_end_at"]


# --- lottery draw -----------------------------------------------------------------------------------


@pytest.fixture
def closed_lottery(published):
    """A lottery campaign (2 places, waiting list) whose 3 entrants are registered, then closed."""
    campaign = published(admission_mode="lottery", capacity=2, waitlist_enabled=True)
    for n in range(1, 4):
        sign_up(campaign, mobile(n))
    Campaign.objects.filter(pk=campaign.pk).update(status="closed")
    return campaign


def test_draw_then_verify(api, closed_lottery):
    # given: the commitment published on the campaign before the draw
    commitment = api.get(campaigns_url(closed_lottery.pk)).json()["lottery_seed_sha256"]
    # when
    drawn = api.post_json(campaigns_url(closed_lottery.pk, "draw"), {})
    verified = api.get(campaigns_url(closed_lottery.pk, "draw"))
    # then: the draw reveals the seed whose hash was published
    assert drawn.status_code == 201, drawn.content
    draw = drawn.json()
    assert (draw["campaign_id"], draw["algorithm"], draw["seed_sha256"]) == (
        closed_lottery.pk,
        "sha256-rank-v2",
        commitment,
    )
    assert hashlib.sha256(draw["seed"].encode()).hexdigest() == commitment
    assert (draw["entrant_count"], draw["winner_count"]) == (3, 2)
    assert verified.status_code == 200, verified.content
    check = verified.json()
    assert check["draw"] == draw
    assert (check["digest_matches"], check["winners_match"], check["commitment_matches"]) == (
        True,
        True,
        True,
    )
    assert check["verified"] is True
    assert len(check["entrant_ids"]) == 3
    assert sorted(check["winner_ids"]) == sorted(
        Signup.objects.filter(campaign=closed_lottery, status="confirmed").values_list("pk", flat=True)
    )
    assert Signup.objects.filter(campaign=closed_lottery, status="waitlisted").count() == 1


def test_draw_with_an_idempotency_key_replays_and_without_one_is_a_409(api, closed_lottery):
    # given
    url = campaigns_url(closed_lottery.pk, "draw")
    first = api.post_json(url, {}, HTTP_IDEMPOTENCY_KEY="draw-1")
    # when
    replay = api.post_json(url, {}, HTTP_IDEMPOTENCY_KEY="draw-1")
    again = api.post_json(url, {})
    # then
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json() == first.json()
    assert_problem(again, 409, "campaign.already_drawn")


def test_draw_of_a_first_come_campaign_is_a_409(api, open_campaign):
    # when
    response = api.post_json(campaigns_url(open_campaign.pk, "draw"))
    # then
    assert_problem(response, 409, "campaign.not_lottery")


def test_draw_while_sign_up_is_open_is_a_409(api, published):
    # given
    campaign = published(admission_mode="lottery")
    # when
    response = api.post_json(campaigns_url(campaign.pk, "draw"))
    # then
    body = assert_problem(response, 409, "campaign.draw_not_ready")
    assert body["current_status"] == "published"


def test_verify_before_the_draw_is_a_404(api, closed_lottery):
    # when
    response = api.get(campaigns_url(closed_lottery.pk, "draw"))
    # then
    assert_problem(response, 404, "campaign.not_drawn")


def test_the_caller_cannot_choose_the_seed(api, closed_lottery):
    # when: an operator tries to pick the seed at draw time
    response = api.post_json(campaigns_url(closed_lottery.pk, "draw"), {"seed": "favourable-seed-1"})
    # then
    body = assert_problem(response, 422, "core.invalid")
    assert [e["field"] for e in body["errors"]] == ["seed"]
    assert not Signup.objects.filter(campaign=closed_lottery).exclude(status="registered").exists()


@pytest.mark.parametrize("path", ["close", "draw"])
def test_an_optional_body_may_be_left_out_but_not_be_null(api, path):
    # given
    from tests.campaigns.factories import CampaignFactory

    campaign = CampaignFactory(status="published")
    # when
    response = api.post(f"/api/v1/campaigns/{campaign.pk}/{path}", "null", content_type="application/json")
    # then: the schema says an object; JSON null is refused, not read as "left out"
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body"]


def test_a_storefront_key_reads_only_published_campaigns(api_as):
    # given: a draft (the team's work in progress) and a published campaign
    from tests.campaigns.factories import CampaignFactory
    from yunying.core.permissions import Role

    draft, live = CampaignFactory(status="draft"), CampaignFactory(status="published")
    storefront, team = api_as(Role.INTEGRATION), api_as(Role.EXECUTION)
    # when
    listed = [c["id"] for c in storefront.get("/api/v1/campaigns").json()["items"]]
    # then: the draft does not exist for the storefront; the team still sees it
    assert listed == [live.pk]
    assert storefront.get(f"/api/v1/campaigns/{draft.pk}").status_code == 404
    assert team.get(f"/api/v1/campaigns/{draft.pk}").status_code == 200


def test_the_storefront_key_reads_no_operator_names_and_finds_no_drafts(api_as, db):
    """Operator user names help a password guesser, and a draft's existence is the team's business
    (attacker review: created_by, the draw's actor_label, and /draw answering drafts differently)."""
    from yunying.core.permissions import Role

    published = CampaignFactory(status="published", created_by="ops.wang")
    draft = CampaignFactory(status="draft", created_by="ops.li")
    storefront, team = api_as(Role.INTEGRATION), api_as(Role.EXECUTION)
    assert storefront.get(f"/api/v1/campaigns/{published.pk}").json()["created_by"] == ""
    assert team.get(f"/api/v1/campaigns/{published.pk}").json()["created_by"] == "ops.wang"
    assert all(c["created_by"] == "" for c in storefront.get("/api/v1/campaigns").json()["items"])
    for path in (f"/api/v1/campaigns/{draft.pk}", f"/api/v1/campaigns/{draft.pk}/draw"):
        response = storefront.get(path)
        assert response.status_code == 404 and response.json()["code"] == "campaign.not_found", path
