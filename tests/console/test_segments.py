"""Console segments: the builder's live count and save, the segment page (recompute, masked sample,
message), the RFM and lifecycle page, the campaign editor's segment choice, and 403 per role."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.analytics.factories import member, order
from tests.campaigns.factories import CampaignFactory
from tests.members.factories import MemberFactory
from yunying.analytics.models import Segment
from yunying.analytics.services import rfm_recompute, segment_create, segment_recompute
from yunying.console.views import segments
from yunying.core.models import AuditEntry
from yunying.core.permissions import ROLE_PERMISSIONS, Actor, Role

OPERATOR_ROLES = [Role.STRATEGY, Role.EXECUTION, Role.SUPPORT, Role.AUDITOR]
OP = Actor(kind="api_key", id=1, label="op", role=Role.STRATEGY)


def _url(pattern) -> str:
    return "/console/" + str(pattern.pattern).replace("<int:segment_id>", "1")


@pytest.mark.parametrize(
    ("pattern", "role"),
    [
        pytest.param(p, r, id=f"{p.name}-{r}")
        for p in segments.urlpatterns
        for r in OPERATOR_ROLES
        if p.callback.console_perm not in ROLE_PERMISSIONS[r]
    ],
)
def test_a_role_without_the_permission_gets_403(console_as, pattern, role):
    client = console_as(role)
    assert client.get(_url(pattern)).status_code == 403
    assert client.post(_url(pattern), {}).status_code == 403


def test_the_live_count_counts_and_explains_mistakes(console_as):
    # given
    now = timezone.now()
    for code in ("330106", "330100", "440300"):
        member(now=now, region_code=code)
    client = console_as(Role.EXECUTION)
    # when
    counted = client.post("/console/segments/preview/", {"match": "all", "regions": "33"})
    empty = client.post("/console/segments/preview/", {"match": "all"})
    wrong = client.post("/console/segments/preview/", {"match": "all", "age_min": "30", "age_max": "20"})
    # then
    assert b'data-testid="segment-count">2<' in counted.content
    assert b"segment-count-errors" in empty.content
    assert b"conditions.0.age" in wrong.content


def test_build_save_and_see_a_segment(console_as):
    # given
    now = timezone.now()
    buyer = member(now=now, region_code="330106")
    order(buyer, now=now, days_ago=100, total_fen=5000)
    member(now=now, region_code="330106")
    rfm_recompute()
    client = console_as(Role.EXECUTION)
    assert client.get("/console/segments/new/").status_code == 200
    # when
    response = client.post(
        "/console/segments/new/",
        {"name": "ZJ lapsed", "match": "all", "regions": "33", "days_min": "90", "net_min_yuan": "49.5"},
    )
    # then
    segment = Segment.objects.get(name="ZJ lapsed")
    assert response.status_code == 302 and response["Location"] == f"/console/segments/{segment.pk}/"
    assert segment.member_count == 1
    assert {"field": "net_paid_fen", "min": 4950} in segment.rules["conditions"]
    assert AuditEntry.objects.filter(action="segment.create", object_id=str(segment.pk)).exists()
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"ZJ lapsed" in page.content
    edit = client.get(f"/console/segments/{segment.pk}/edit/")
    assert b'value="90"' in edit.content  # the fields show the saved rule
    assert client.get("/console/segments/").status_code == 200


def test_a_duplicate_name_is_refused_on_the_form(console_as):
    segment_create(actor=OP, name="Taken", rules={"conditions": [{"field": "gender", "values": ["male"]}]})
    client = console_as(Role.EXECUTION)
    response = client.post("/console/segments/new/", {"name": "Taken", "match": "all", "genders": ["male"]})
    assert response.status_code == 422
    assert Segment.objects.count() == 1


def test_the_sample_is_masked_and_a_message_is_queued(console_as, settings):
    # given
    who = MemberFactory(region_code="330106", name="张三丰")
    segment = segment_create(
        actor=OP, name="ZJ", rules={"conditions": [{"field": "region", "values": ["33"]}]}
    )
    segment_recompute(segment_id=segment.pk)
    client = console_as(Role.EXECUTION)
    # when
    page = client.get(f"/console/segments/{segment.pk}/")
    sent = client.post(
        f"/console/segments/{segment.pk}/message/", {"subject": "Hi", "body": "Sale", "channels": ["sms"]}
    )
    # then
    assert "张三丰" not in page.content.decode()
    assert sent.status_code == 302
    assert AuditEntry.objects.get(action="segment.message").after["members"] == 0  # no marketing consent
    assert who.pk


def test_insights_page_draws_the_grid_and_the_stages(console_as):
    now = timezone.now()
    buyer = member(now=now)
    order(buyer, now=now, days_ago=3, total_fen=12345)
    rfm_recompute()
    client = console_as(Role.STRATEGY)
    page = client.get("/console/segments/insights/")
    assert page.status_code == 200
    assert b'id="chart-rfm"' in page.content and b'id="chart-lifecycle"' in page.content
    assert b"123.45" in page.content
    assert client.post("/console/segments/rfm/recompute/").status_code == 302


def test_the_campaign_editor_offers_segments(console_as):
    # given
    segment = segment_create(actor=OP, name="VIP", rules={"conditions": [{"field": "r_score", "min": 5}]})
    campaign = CampaignFactory(status="draft")
    op = console_as(Role.EXECUTION)
    url = f"/console/campaigns/{campaign.pk}/edit/eligibility/"
    # when
    page = op.get(url)
    saved = op.post(url, {"segments_in": [str(segment.pk)]})
    # then
    assert 'data-testid="eligibility-segments"' in page.content.decode() and "VIP" in page.content.decode()
    assert saved.status_code == 302
    campaign.refresh_from_db()
    assert campaign.eligibility == {"segments_in": [segment.pk]}
    assert op.get(url).content.decode().count("checked") >= 1
