"""Waitlisted sign-ups show their live place in line (issue 8 §4): 1 is the one promoted next, the
numbers move as the line moves, and reading them costs no query per row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.helpers import signup_payload, signups_url
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.models import Signup
from yunying.campaigns.services.admission import signup_withdraw
from yunying.campaigns.services.lifecycle import campaign_close
from yunying.campaigns.services.lottery import lottery_draw
from yunying.core.permissions import SYSTEM

pytestmark = pytest.mark.django_db


def _positions(api, campaign) -> dict[int, int | None]:
    items = api.get(signups_url(campaign.pk), {"page_size": 100}).json()["items"]
    return {item["id"]: item["waitlist_position"] for item in items}


def test_each_waiting_sign_up_shows_its_place_and_the_others_show_none(api, published):
    # given: one seat, three in line
    campaign = published(capacity=1, waitlist_enabled=True)
    seated = sign_up(campaign, mobile(0))
    waiting = [sign_up(campaign, mobile(n)) for n in (1, 2, 3)]
    # when
    positions = _positions(api, campaign)
    one = api.get(signups_url(campaign.pk, waiting[1].pk)).json()
    # then
    assert positions == {seated.pk: None, waiting[0].pk: 1, waiting[1].pk: 2, waiting[2].pk: 3}
    assert (one["status"], one["waitlist_position"]) == ("waitlisted", 2)


def test_the_place_is_live_and_1_is_the_one_promoted_next(api, published):
    # given
    campaign = published(capacity=2, waitlist_enabled=True)
    seated = [sign_up(campaign, mobile(n)) for n in (0, 1)]
    waiting = [sign_up(campaign, mobile(n)) for n in (2, 3, 4, 5)]
    # when: someone in the middle of the line leaves
    signup_withdraw(campaign_id=campaign.pk, signup_id=waiting[1].pk, actor=SYSTEM, reason="不去了")
    # then: those behind move up
    assert [_positions(api, campaign)[s.pk] for s in waiting] == [1, None, 2, 3]
    # and each time a seat frees, the sign-up that was at 1 is the one confirmed
    for seat in seated:
        before = _positions(api, campaign)
        head = next(pk for pk, position in before.items() if position == 1)
        signup_withdraw(campaign_id=campaign.pk, signup_id=seat.pk, actor=SYSTEM, reason="行程冲突")
        assert Signup.objects.get(pk=head).status == "confirmed"
        after = _positions(api, campaign)
        assert {pk: p - 1 for pk, p in before.items() if p and p > 1} == {
            pk: p for pk, p in after.items() if p
        }


def test_after_a_draw_the_place_follows_the_drawn_order(api):
    from tests.campaigns.factories import CampaignFactory

    # given: a lottery for 2 with 6 entrants, drawn
    campaign = CampaignFactory(
        status="published", admission_mode="lottery", capacity=2, waitlist_enabled=True
    )
    entrants = [sign_up(campaign, mobile(n)) for n in range(6)]
    campaign_close(campaign_id=campaign.pk, actor=SYSTEM)
    lottery_draw(campaign_id=campaign.pk, actor=SYSTEM)
    # when
    positions = _positions(api, campaign)
    # then: the places are the order in which admission promotes (drawn rank), not sign-up order
    line = Signup.objects.filter(campaign=campaign, status="waitlisted").order_by("waitlist_rank", "id")
    assert [positions[s.pk] for s in line] == [1, 2, 3, 4]
    assert len(positions) == len(entrants)


def test_a_sign_up_that_lands_on_the_waiting_list_is_told_its_place(integration, published):
    # given
    campaign = published(capacity=1, waitlist_enabled=True)
    sign_up(campaign, mobile(0))
    sign_up(campaign, mobile(1))
    # when
    response = integration.post_json(signups_url(campaign.pk), signup_payload(2))
    # then
    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["waitlist_position"]) == ("waitlisted", 2)


def test_list_queries_with_positions_do_not_grow_with_the_rows(api, published, django_assert_num_queries):
    # given: one waiting sign-up
    campaign = published(capacity=1, waitlist_enabled=True)
    sign_up(campaign, mobile(0))
    sign_up(campaign, mobile(1))
    url = signups_url(campaign.pk)
    api.get(url)  # the key's first use records last_used_at: keep it out of the count
    with CaptureQueriesContext(connection) as one:
        assert [i["waitlist_position"] for i in api.get(url).json()["items"]] == [None, 1]
    # when: ten more wait
    for n in range(2, 12):
        sign_up(campaign, mobile(n))
    # then
    with django_assert_num_queries(len(one)):
        items = api.get(url).json()["items"]
    assert [i["waitlist_position"] for i in items] == [None, *range(1, 12)]


def test_reading_one_waiting_sign_up_costs_a_fixed_number_of_queries(
    api, published, django_assert_num_queries
):
    # given
    campaign = published(capacity=1, waitlist_enabled=True)
    sign_up(campaign, mobile(0))
    first = sign_up(campaign, mobile(1))
    for n in range(2, 12):
        sign_up(campaign, mobile(n))
    last = Signup.objects.filter(campaign=campaign).latest("id")
    api.get(signups_url(campaign.pk, first.pk))  # the key's first use records last_used_at
    with CaptureQueriesContext(connection) as head:
        assert api.get(signups_url(campaign.pk, first.pk)).json()["waitlist_position"] == 1
    # when / then: the last in line costs what the first does
    with django_assert_num_queries(len(head)):
        assert api.get(signups_url(campaign.pk, last.pk)).json()["waitlist_position"] == 11
