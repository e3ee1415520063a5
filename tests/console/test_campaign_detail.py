"""A campaign's page (console:campaign_detail): summary, lifecycle buttons by state and role, and
each button's POST through the lifecycle service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.campaigns.factories import CampaignFactory
from yunying.campaigns.models import Campaign
from yunying.core.permissions import Role


def detail(campaign) -> str:
    return f"/console/campaigns/{campaign.pk}/"


def do(campaign, action: str) -> str:
    return f"/console/campaigns/{campaign.pk}/do/{action}/"


def test_the_page_shows_summary_rules_and_the_buttons_of_its_state(console_as):
    # given
    op = console_as(Role.STRATEGY)
    campaign = CampaignFactory(
        status="published", eligibility={"min_age": 18}, rules_text="一人一次",
        form=[{"key": "size", "label": "尺码", "type": "single_choice", "options": [{"value": "m", "label": "M"}]}],
    )  # fmt: skip
    # when
    page = op.get(detail(campaign)).content.decode()
    # then
    assert "一人一次" in page and "尺码" in page and "18" in page
    assert do(campaign, "close") in page and do(campaign, "cancel") in page and do(campaign, "copy") in page
    assert do(campaign, "publish") not in page and do(campaign, "delete") not in page
    assert page.count("data-confirm") >= 3


def test_a_draft_offers_publish_and_delete(console_as):
    op = console_as(Role.STRATEGY)
    campaign = CampaignFactory(status="draft")
    page = op.get(detail(campaign)).content.decode()
    assert do(campaign, "publish") in page and do(campaign, "delete") in page


def test_support_sees_no_buttons(console_as):
    op = console_as(Role.SUPPORT)
    campaign = CampaignFactory(status="published")
    page = op.get(detail(campaign)).content.decode()
    assert "/do/" not in page and "/edit/" not in page


@pytest.mark.parametrize("campaign_id", ["999999", str(2**63), str(2**70)])
def test_an_unknown_campaign_is_404(console_as, campaign_id):
    op = console_as(Role.STRATEGY)
    assert op.get(f"/console/campaigns/{campaign_id}/").status_code == 404
    assert op.post(f"/console/campaigns/{campaign_id}/do/close/").status_code == 404


def test_close_extend_finish(console_as):
    # given
    op = console_as(Role.STRATEGY)
    campaign = CampaignFactory(status="published")
    # when / then
    assert op.post(do(campaign, "close")).status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "closed"
    later = timezone.localtime(campaign.signup_end_at + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    op.post(do(campaign, "extend"), {"signup_end_at": later, "reason": "延长"})
    campaign.refresh_from_db()
    assert campaign.status == "published"
    op.post(do(campaign, "close"))
    op.post(do(campaign, "finish"))
    campaign.refresh_from_db()
    assert campaign.status == "finished"


def test_a_refused_extend_is_shown_not_a_500(console_as):
    op = console_as(Role.STRATEGY)
    campaign = CampaignFactory(status="closed")
    response = op.post(do(campaign, "extend"), {"signup_end_at": "2001-01-01T00:00"}, follow=True)
    assert response.status_code == 200 and "alert-danger" in response.content.decode()
    response = op.post(do(campaign, "extend"), {"signup_end_at": "1800-01-01T00:00"}, follow=True)
    assert response.status_code == 200 and "alert-danger" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "closed"


def test_cancel_needs_a_reason(console_as):
    op = console_as(Role.STRATEGY)
    campaign = CampaignFactory(status="published")
    response = op.post(do(campaign, "cancel"), {"reason": "  "}, follow=True)
    assert "alert-danger" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "published"
    op.post(do(campaign, "cancel"), {"reason": "天气原因"})
    campaign.refresh_from_db()
    assert campaign.status == "cancelled" and campaign.status_reason == "天气原因"


def test_publishing_an_incomplete_draft_names_what_is_missing(console_as):
    op = console_as(Role.STRATEGY)
    campaign = CampaignFactory(status="draft", rules_text="", channels=[])
    response = op.post(do(campaign, "publish"), follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "alert-danger" in page
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_copy_opens_the_new_draft_in_the_editor_and_delete_goes_back_to_the_list(console_as):
    op = console_as(Role.EXECUTION)
    campaign = CampaignFactory(status="published", title="原活动")
    response = op.post(do(campaign, "copy"))
    copy = Campaign.objects.exclude(pk=campaign.pk).get()
    assert response["Location"] == f"/console/campaigns/{copy.pk}/edit/basics/"
    assert copy.status == "draft" and copy.title.startswith("原活动")
    response = op.post(do(copy, "delete"))
    assert response["Location"] == "/console/campaigns/"
    assert not Campaign.objects.filter(pk=copy.pk).exists()


@pytest.mark.parametrize("action", ["publish", "close", "cancel", "extend", "finish"])
def test_execution_gets_403_on_publishing_actions(console_as, action):
    op = console_as(Role.EXECUTION)
    campaign = CampaignFactory(status="draft" if action == "publish" else "published")
    assert op.post(do(campaign, action), {"reason": "x"}).status_code == 403
    page = op.get(detail(campaign)).content.decode()
    assert do(campaign, action) not in page


def test_an_unknown_action_is_404_and_get_is_refused(console_as):
    op = console_as(Role.STRATEGY)
    campaign = CampaignFactory()
    assert op.post(do(campaign, "explode")).status_code == 404
    assert op.get(do(campaign, "close")).status_code == 405


def test_the_tabs_link_only_pages_that_exist(console_as):
    from django.urls import NoReverseMatch, reverse

    op = console_as(Role.STRATEGY)
    campaign = CampaignFactory()
    page = op.get(detail(campaign)).content.decode()
    for name in ("console:campaign_monitor", "console:campaign_signups", "console:campaign_report"):
        try:
            url = reverse(name, args=[campaign.pk])
        except NoReverseMatch:
            continue  # that page is not built yet: no link
        assert url in page
    assert f"?campaign={campaign.pk}" in page
