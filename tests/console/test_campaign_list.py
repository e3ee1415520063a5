"""The campaign list (console:campaign_list): search, filters, saved filters, bulk actions, queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.campaigns.factories import CampaignFactory
from tests.console.conftest import make_operator, sign_in
from yunying.campaigns.models import Campaign
from yunying.console.models import SavedFilter
from yunying.core.models import AuditEntry
from yunying.core.permissions import Role

LIST = "/console/campaigns/"


def titles(response) -> list[str]:
    return [row["campaign"].title for row in response.context["rows"]]


def test_the_list_shows_seats_badges_and_links(console_as):
    # given
    op = console_as(Role.SUPPORT)
    campaign = CampaignFactory(title="双十一预热", status="published", capacity=50, seats_taken=7)
    # when
    response = op.get(LIST)
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "双十一预热" in page and "7 / 50" in page and "text-bg-success" in page
    assert f"/console/campaigns/{campaign.pk}/" in page
    assert 'name="ids"' not in page and "/console/campaigns/new/" not in page  # support: no bulk, no edit


def test_search_and_filters_narrow_the_list(console_as):
    # given
    op = console_as(Role.EXECUTION)
    CampaignFactory(title="春季上新", status="published", type="product_launch")
    CampaignFactory(title="春季沙龙", status="draft", type="offline_event")
    far = timezone.now() + timedelta(days=200)
    CampaignFactory(
        title="冬季沙龙", status="draft", type="offline_event", signup_start_at=far, signup_end_at=far + timedelta(days=1),
        event_start_at=far + timedelta(days=2), event_end_at=far + timedelta(days=2),
    )  # fmt: skip
    # when / then
    assert sorted(titles(op.get(LIST, {"q": "春季"}))) == ["春季上新", "春季沙龙"]
    assert titles(op.get(LIST, {"status": "published"})) == ["春季上新"]
    assert sorted(titles(op.get(LIST, {"type": "offline_event"}))) == ["冬季沙龙", "春季沙龙"]
    soon = (timezone.localdate() + timedelta(days=100)).isoformat()
    assert titles(op.get(LIST, {"date_from": soon})) == ["冬季沙龙"]
    assert "冬季沙龙" not in titles(op.get(LIST, {"date_to": timezone.localdate().isoformat()}))


@pytest.mark.parametrize(
    "query",
    [
        {"status": "exploded"},
        {"date_from": "1800-01-01"},
        {"date_to": "not-a-day"},
        {"q": "长" * 5000},
        {"page": str(10**20)},
        {"page": "abc"},
        {"type": "x" * 300},
    ],
    ids=["unknown-status", "year-1800", "bad-date", "huge-search", "page-far", "page-text", "unknown-type"],
)
def test_bad_filters_give_a_page_not_a_500(console_as, query):
    op = console_as(Role.EXECUTION)
    CampaignFactory()
    response = op.get(LIST, query)
    assert response.status_code == 200


def test_a_bad_filter_is_shown_on_its_field(console_as):
    op = console_as(Role.EXECUTION)
    page = op.get(LIST, {"status": "exploded"}).content.decode()
    assert 'id="id_status_error"' in page


def test_the_list_is_paginated(console_as):
    op = console_as(Role.EXECUTION)
    CampaignFactory.create_batch(27)
    first = op.get(LIST)
    assert len(first.context["rows"]) == 25
    assert len(op.get(LIST, {"page": "2"}).context["rows"]) == 2


def test_list_queries_do_not_grow_with_the_rows(console_as, django_assert_num_queries):
    # given
    op = console_as(Role.STRATEGY)
    CampaignFactory.create_batch(3)
    op.get(LIST, {"q": "测试"})
    with CaptureQueriesContext(connection) as few:
        assert len(op.get(LIST, {"q": "测试"}).context["rows"]) == 3
    CampaignFactory.create_batch(6)
    # when / then
    with django_assert_num_queries(len(few)):
        assert len(op.get(LIST, {"q": "测试"}).context["rows"]) == 9


def test_saved_filters_are_saved_applied_and_deleted_per_operator(console_as, client):
    # given
    op = console_as(Role.EXECUTION)
    CampaignFactory(title="春季上新", status="published")
    CampaignFactory(title="秋季上新", status="draft")
    # when: save the current filter
    response = op.post(
        "/console/campaigns/filters/", {"name": "我的筛选甲", "query": "status=published&evil=1"}
    )
    # then
    assert response.status_code == 302
    saved = SavedFilter.objects.get()
    assert saved.name == "我的筛选甲" and saved.query == "status=published"  # parsed again, only known keys
    page = op.get(LIST).content.decode()
    assert "我的筛选甲" in page and "?status=published" in page
    assert titles(op.get(LIST + "?" + saved.query)) == ["春季上新"]
    # saving the same name replaces it
    op.post("/console/campaigns/filters/", {"name": "我的筛选甲", "query": "status=draft"})
    assert SavedFilter.objects.get().query == "status=draft"
    # another operator neither sees nor deletes it
    other = make_operator(Role.EXECUTION, username="other")
    sign_in(client, other)
    assert "我的筛选甲" not in client.get(LIST).content.decode()
    assert client.post(f"/console/campaigns/filters/{saved.pk}/delete/").status_code == 404
    # its owner deletes it
    assert op.post(f"/console/campaigns/filters/{saved.pk}/delete/").status_code == 302
    assert not SavedFilter.objects.exists()
    assert AuditEntry.objects.filter(action="console.saved_filter_delete").exists()


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "query": "status=draft"},
        {"name": "x" * 61},
        {"name": "坏", "query": "date_from=1800-13-01"},
    ],
    ids=["blank-name", "long-name", "bad-query"],
)
def test_a_bad_saved_filter_is_refused_with_a_message(console_as, data):
    op = console_as(Role.EXECUTION)
    response = op.post("/console/campaigns/filters/", data, follow=True)
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    assert not SavedFilter.objects.exists()


def test_bulk_close_reports_each_row_and_a_refused_row_does_not_stop_the_others(console_as):
    # given: two open campaigns and, between them, a draft that cannot be closed
    op = console_as(Role.STRATEGY)
    first = CampaignFactory(status="published")
    draft = CampaignFactory(status="draft", title="还是草稿")
    last = CampaignFactory(status="published")
    # when
    response = op.post(
        "/console/campaigns/bulk/",
        {"action": "close", "ids": [first.pk, draft.pk, last.pk, 2**70, "x"]},
        follow=True,
    )
    # then
    assert response.status_code == 200
    statuses = dict(Campaign.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "closed", draft.pk: "draft", last.pk: "closed"}
    page = response.content.decode()
    assert "还是草稿" in page and "alert-danger" in page
    shown = [str(m) for m in response.context["messages"]]
    assert sum("还是草稿" in m for m in shown) == 1
    assert any("2" in m and "3" in m for m in shown)  # "2 of 3 done"


def test_bulk_cancel_needs_a_reason_per_row(console_as):
    op = console_as(Role.STRATEGY)
    one = CampaignFactory(status="published")
    op.post("/console/campaigns/bulk/", {"action": "cancel", "ids": [one.pk], "reason": ""})
    one.refresh_from_db()
    assert one.status == "published"
    op.post("/console/campaigns/bulk/", {"action": "cancel", "ids": [one.pk], "reason": "场地取消"})
    one.refresh_from_db()
    assert one.status == "cancelled" and one.status_reason == "场地取消"


def test_bulk_copy_and_delete_drafts(console_as):
    op = console_as(Role.EXECUTION)
    draft = CampaignFactory(status="draft", title="草稿甲")
    live = CampaignFactory(status="published")
    op.post("/console/campaigns/bulk/", {"action": "copy", "ids": [draft.pk, live.pk]})
    assert Campaign.objects.count() == 4
    op.post("/console/campaigns/bulk/", {"action": "delete", "ids": [draft.pk, live.pk]})
    assert not Campaign.objects.filter(pk=draft.pk).exists()
    assert Campaign.objects.filter(pk=live.pk).exists()  # published: refused, kept


@pytest.mark.parametrize("action", ["close", "cancel", "publish"])
def test_execution_cannot_bulk_publish_close_or_cancel(console_as, action):
    op = console_as(Role.EXECUTION)
    campaign = CampaignFactory(status="published" if action != "publish" else "draft")
    response = op.post("/console/campaigns/bulk/", {"action": action, "ids": [campaign.pk], "reason": "x"})
    assert response.status_code == 403
    before = campaign.status
    campaign.refresh_from_db()
    assert campaign.status == before


def test_execution_is_offered_only_the_bulk_actions_of_its_role(console_as):
    op = console_as(Role.EXECUTION)
    CampaignFactory()
    page = op.get(LIST).content.decode()
    assert 'value="copy"' in page and 'value="delete"' in page
    assert 'value="close"' not in page and 'value="cancel"' not in page and 'value="publish"' not in page


def test_support_cannot_bulk_anything(console_as):
    op = console_as(Role.SUPPORT)
    campaign = CampaignFactory(status="draft")
    assert op.post("/console/campaigns/bulk/", {"action": "delete", "ids": [campaign.pk]}).status_code == 403
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_an_auditor_cannot_open_the_list(console_as):
    assert console_as(Role.AUDITOR).get(LIST).status_code == 403


def test_the_list_in_english_and_chinese(console_as):
    op = console_as(Role.EXECUTION)
    CampaignFactory(status="published")
    assert "已发布" in op.get(LIST).content.decode()
    op.cookies["django_language"] = "en"
    page = op.get(LIST).content.decode()
    assert "Published" in page and "Seats taken / capacity" in page
