"""The dashboard: what needs action now, in a fixed number of queries."""

from __future__ import annotations

import json
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.console.campaign_data import campaign_with_signups, mobile, refuse
from yunying.core.permissions import Role

URL = "/console/dashboard/"


def _chart(response, chart_id: str) -> dict:
    html = response.content.decode()
    start = html.index(f'<script id="{chart_id}" type="application/json">') + len(
        f'<script id="{chart_id}" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_the_dashboard_shows_what_needs_action(console_as):
    # given: one campaign with sign-ups waiting for review, one running, one closing today
    manual = CampaignFactory(status="published", review_mode="manual", title="人工审核活动")
    sign_up(manual, mobile(1))
    sign_up(manual, mobile(2))
    running = campaign_with_signups(3, title="进行中活动")
    refuse(running, mobile(0))  # a duplicate
    closing = CampaignFactory(
        status="published", title="今日截止活动", signup_end_at=timezone.now() + timedelta(minutes=5)
    )
    # when
    response = console_as(Role.EXECUTION).get(URL)
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "人工审核活动" in html and f"/console/review/?campaign={manual.pk}" in html
    assert "进行中活动" in html and f"/console/campaigns/{running.pk}/monitor/" in html
    assert closing.title in html
    assert 'id="stat-waiting">2<' in html
    assert 'id="stat-exceptions">1<' in html
    hours = _chart(response, "chart-hours")["series"][0]["data"]
    assert len(hours) == 24 and sum(hours) == 5
    assert "重复" in html or "Duplicates" in html


def test_the_dashboard_speaks_english_on_request(console_as):
    client = console_as(Role.EXECUTION)
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    response = client.get(URL)
    assert "Seats left on running campaigns" in response.content.decode()


def test_the_dashboard_renders_in_chinese_by_default(console_as):
    response = console_as(Role.EXECUTION).get(URL)
    assert "剩余名额" in response.content.decode()


def test_an_auditor_may_not_open_the_dashboard(console_as):
    assert console_as(Role.AUDITOR).get(URL).status_code == 403


def test_dashboard_queries_do_not_grow_with_the_number_of_campaigns(console_as, django_assert_num_queries):
    # given
    client = console_as(Role.EXECUTION)

    def campaigns(n):
        for _ in range(n):
            c = CampaignFactory(status="published", review_mode="manual")
            sign_up(c, mobile(c.pk * 10))
            refuse(c, mobile(c.pk * 10))
            CampaignFactory(status="published", signup_end_at=timezone.now() + timedelta(minutes=5))

    campaigns(2)
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    campaigns(4)
    # when / then
    with django_assert_num_queries(len(few)):
        assert client.get(URL).status_code == 200
