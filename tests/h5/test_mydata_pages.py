"""我的数据 on the member pages: an operator's reveal with its purpose and the reader's role (never
their name), refusals and risk decisions with a review button, the export (JSON and a page), and
deleting the account, after which the same phone signs in as a new member."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from tests.h5.conftest import sign_in
from yunying.campaigns.models import SignupRefusal
from yunying.commerce.models import OrderStatus
from yunying.core.permissions import Actor, Role
from yunying.core.purposes import reveal_authorize
from yunying.core.ratelimit import ratelimit_reset
from yunying.members.models import Member
from yunying.members.services import member_find, member_reveal
from yunying.risk.models import Decision

PHONE = "+8613800138000"
SUPPORT = Actor(kind="user", id=None, label="kefu-zhang", role=Role.SUPPORT)


def _support_user():
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("kefu-zhang", password="x")
    user.groups.add(Group.objects.get_or_create(name="support")[0])
    return Actor(kind="user", id=user.pk, label=user.username, role=Role.SUPPORT)


def _reveal(member, note="工单 1024"):
    actor = _support_user()
    purpose = reveal_authorize(actor, purpose="customer_service", note=note)
    member_reveal(actor=actor, member_id=member.pk, purpose=purpose)


def test_the_centre_shows_an_operators_reveal_by_role_with_its_purpose(member_client):
    # given
    member = member_find(phone=PHONE)
    _reveal(member)
    # when
    page = member_client.get("/m/me/data/").content.decode()
    # then
    assert "Our customer service" in page and "Customer service: the member asked for help: 工单 1024" in page
    assert "kefu-zhang" not in page
    assert "Phone" in page  # which fields


def test_the_me_page_links_to_the_centre(member_client):
    assert 'href="/m/me/data/"' in member_client.get("/m/me/").content.decode()


def test_the_centre_lists_holdings_sharing_refusals_and_decisions_with_a_review_button(member_client):
    member = member_find(phone=PHONE)
    SignupRefusal.objects.create(
        campaign_id=1, code="signup.ineligible", reasons="eligibility.too_young", member_id=member.pk
    )
    decision = Decision.objects.create(
        entry="coupon.claim",
        subject_type="coupon",
        subject_ref="c1",
        member_ref=f"p:{member.phone_index}",
        at=datetime.now(UTC),
        score=80,
        action="block",
        reasons=[{"rule": "r", "label": "Too many claims"}],
    )
    page = member_client.get("/m/me/data/").content.decode()
    assert "Your phone number, name" in page and "SMS provider" in page and "Our online shop" in page
    assert "The member is younger than the minimum age." in page
    assert "Too many claims" in page and f'action="/m/risk/{decision.pk}/review/"' in page


@pytest.mark.parametrize("n", [1, 25])
def test_the_centre_costs_the_same_queries_for_one_row_and_many(member_client, django_assert_num_queries, n):
    member = member_find(phone=PHONE)
    actor = _support_user()
    for _ in range(n):
        member_reveal(actor=actor, member_id=member.pk, purpose="customer_service")
        SignupRefusal.objects.create(campaign_id=1, code="signup.ineligible", reasons="", member_id=member.pk)
    member_client.get("/m/me/data/")  # warm the session and translations
    with django_assert_num_queries(10):  # access rows carry their role: no look-up of operators
        assert member_client.get("/m/me/data/").status_code == 200


def test_the_export_downloads_json_and_shows_a_page(member_client):
    response = member_client.post("/m/me/data/export/", {"format": "json"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["holdings"]["members.profile"]["data"]["phone"] == PHONE
    page = member_client.post("/m/me/data/export/", {"format": "html"}).content.decode()
    assert PHONE in page


def test_the_export_page_reads_in_words_amounts_in_yuan_and_local_times(member_client, settings):
    # given: an order, a sign-up, points and an automatic decision about the member
    from tests.campaigns.factories import CampaignFactory
    from tests.campaigns.helpers import sign_up
    from tests.commerce.helpers import ingest, order_payload, refund
    from yunying.core.permissions import SYSTEM
    from yunying.loyalty.ledger import points_earn

    settings.TIME_ZONE = "Asia/Shanghai"
    member = member_find(phone=PHONE)
    ingest(order_payload("SO-PAGE", phone=PHONE, paid_at="2026-11-30T16:30:00+00:00"))
    refund("SO-PAGE", external_id="R1", amount_fen=1000)
    sign_up(CampaignFactory(status="published"), PHONE)
    points_earn(
        member_id=member.pk, points=50, key="t:1", source="manual", actor=SYSTEM, expires_at=None, memo=""
    )
    Decision.objects.create(
        entry="order.ingest", subject_type="order", subject_ref="o1", member_ref=f"p:{member.phone_index}",
        at=datetime.now(UTC), score=80, action="review", reasons=[],
    )  # fmt: skip
    # when
    page = member_client.post("/m/me/data/export/", {"format": "html"}).content.decode()
    main = page[page.index("<main") :]
    # then: folded sections, words for keys and codes, yuan, Beijing time
    holdings = json.loads(member_client.post("/m/me/data/export/", {"format": "json"}).content)["holdings"]
    assert main.count("<details") == len(holdings) + 2  # and the access log and the consent
    assert "_fen" not in main and "total_fen" not in main
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", main)  # no ISO time stamps
    assert "¥149.97" in main and "¥90.00" in main and "¥10.00" in main  # total, a line, the refund
    assert str(OrderStatus.PARTIALLY_REFUNDED.label) in main  # the status in words
    assert "2026-12-01 00:30" in main  # paid 16:30 UTC is past midnight in Beijing
    assert "Order number" in main and "SO-PAGE" in main and "Hold for human review" in main
    assert '"status"' not in main and "partially_refunded" not in main and "order.ingest" not in main
    assert PHONE in main


def test_the_export_past_the_limit_is_refused_with_its_code(member_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "privacy_export_member_day": 1}
    member_client.post("/m/me/data/export/", {"format": "json"})
    refused = member_client.post("/m/me/data/export/", {"format": "json"})
    assert refused.status_code == 429 and 'data-code="core.rate_limited"' in refused.content.decode()
    assert "times a day" in refused.content.decode()  # a day's limit, told as one (this client reads English)


def test_deleting_needs_the_confirmation(member_client):
    response = member_client.post("/m/me/data/delete/", {})
    assert response.status_code == 400  # a refusal, not a success page
    assert 'data-code="privacy.confirmation_required"' in response.content.decode()
    assert member_find(phone=PHONE) is not None


def test_after_deleting_the_session_ends_and_the_phone_signs_in_as_a_new_member(member_client, notify_dir):
    old = member_find(phone=PHONE)
    other = Client(HTTP_ACCEPT_LANGUAGE="en")  # the same member signed in on a second device
    second = SessionStore()
    second["h5_member"] = old.pk
    second.create()
    other.cookies["sessionid"] = second.session_key
    assert other.get("/m/me/").status_code == 200
    response = member_client.post("/m/me/data/delete/", {"confirm": "yes"})
    assert "Your account is deleted" in response.content.decode()
    assert member_client.get("/m/me/").status_code == 302
    assert other.get("/m/me/").status_code == 302  # every session of the account ended
    ratelimit_reset()  # a minute later: one code a minute per phone
    sign_in(member_client, notify_dir)
    new = member_find(phone=PHONE)
    assert new.pk != old.pk and Member.objects.get(pk=old.pk).phone_index is None


@pytest.mark.parametrize(
    ("case", "offered"),
    [
        pytest.param(None, True, id="no-review"),
        pytest.param({"status": "open"}, False, id="engine-review-open"),
        pytest.param({"status": "open", "asked_by_member": True}, False, id="member-asked"),
        pytest.param({"status": "approved"}, True, id="engine-review-decided"),
    ],
)
def test_a_review_is_offered_only_when_asking_would_be_taken(member_client, case, offered):
    """New-user review: a decision already under review ("人工复核：待审核") offered the button, and
    tapping it said "您已经申请过…" though the member never asked."""
    from yunying.risk.models import Case

    # given
    member = member_find(phone=PHONE)
    decision = Decision.objects.create(
        entry="coupon.claim", subject_type="coupon", subject_ref="c1", member_ref=f"p:{member.phone_index}",
        at=datetime.now(UTC), score=80, action="review", reasons=[{"rule": "r", "label": "Too many claims"}],
    )  # fmt: skip
    if case:
        Case.objects.create(decision=decision, **case)
    # when
    page = member_client.get("/m/me/data/").content.decode()
    # then
    assert (f'action="/m/risk/{decision.pk}/review/"' in page) is offered
    assert ("Under human review" in page) is (case is not None and case["status"] == "open")
