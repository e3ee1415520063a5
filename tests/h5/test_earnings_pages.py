"""H5 brokerage: a promoter's link shows who recommends and binds the signed-in visitor (refusals said
on the page); "my earnings" for a promoter, and applying to become one."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.loyalty.brokerage_helpers import OPERATOR, promoter
from tests.members.factories import MemberFactory
from yunying.loyalty import brokerage
from yunying.loyalty.models import Promoter, PromoterBinding, PromoterState
from yunying.members.models import Member

pytestmark = pytest.mark.django_db


def test_a_link_shows_the_partner_and_asks_a_visitor_to_sign_in():
    partner = promoter(partner="茶友会")
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/m/p/{partner.code}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "茶友会" in text and f"next=%2Fm%2Fp%2F{partner.code}%2F" in text
    assert Client().get("/m/p/NOSUCH/").status_code == 302


def test_a_signed_in_member_following_a_link_is_bound_once(member_client):
    partner = promoter(partner="茶友会")
    opened = member_client.get(f"/m/p/{partner.code}/").content.decode()
    assert 'id="bind-form"' in opened and not PromoterBinding.objects.exists()  # opening binds nobody
    first = member_client.post(f"/m/p/{partner.code}/").content.decode()
    again = member_client.post(f"/m/p/{partner.code}/").content.decode()
    assert "You are now linked" in first and "already linked" in again
    assert PromoterBinding.objects.filter(promoter=partner).count() == 1
    other = promoter(partner="别家")
    refused = member_client.post(f"/m/p/{other.code}/").content.decode()
    assert "Another promoter brought this member first." in refused


def test_following_ones_own_link_is_refused_on_the_page(member_client):
    me = Member.objects.latest("pk")
    mine = promoter(me)
    page = member_client.post(f"/m/p/{mine.code}/").content.decode()
    assert "cannot be brought by their own link" in page
    assert not PromoterBinding.objects.exists()


def test_a_link_opened_from_another_site_binds_nobody(member_client):
    """Attacker review: a GET bound a signed-in member sent here by another site (SameSite=Lax)."""
    partner = promoter(partner="茶友会")
    member_client.get(f"/m/p/{partner.code}/", HTTP_REFERER="https://evil.example/")
    assert not PromoterBinding.objects.exists()


def test_apply_then_approved_then_earnings(member_client):
    page = member_client.get("/m/me/earnings/").content.decode()
    assert "Become a promoter" in page
    assert member_client.post("/m/me/earnings/apply/").status_code == 302
    applied = Promoter.objects.get()
    assert applied.state == PromoterState.APPLIED
    assert "being reviewed" in member_client.get("/m/me/earnings/").content.decode()
    brokerage.promoter_transition(promoter_id=applied.pk, state=PromoterState.ACTIVE, actor=OPERATOR)
    brokerage.member_bind(member_id=MemberFactory().pk, code=applied.code, source="code", actor=OPERATOR)
    earnings = member_client.get("/m/me/earnings/").content.decode()
    assert (
        applied.code in earnings and f"/m/p/{applied.code}/" in earnings and "Members brought: 1" in earnings
    )


def test_applications_closed(member_client):
    brokerage.brokerage_configure(levels=1, binding_days=0, applications_open=False, actor=OPERATOR)
    assert "Applications are closed" in member_client.get("/m/me/earnings/").content.decode()
    member_client.post("/m/me/earnings/apply/")
    assert not Promoter.objects.exists()


def test_earnings_needs_sign_in():
    assert Client().get("/m/me/earnings/").status_code == 302
