"""Member coupon centre (/m/me/coupons/): mine, to claim, expiring soon, history; claiming, redeeming a
code and exchanging points, each refusal said on the page by its code (never a 500), the code tries
limited per member and per client address, only the signed-in member's own coupons."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.h5.conftest import sign_in
from tests.promotions.helpers import ingest, order_from, promotion_make, quote
from yunying.core.permissions import SYSTEM
from yunying.loyalty.ledger import points_earn
from yunying.loyalty.models import PointAccount, PostingSource
from yunying.members.models import Member
from yunying.members.services import member_find
from yunying.promotions.models import Coupon, CouponState, PromotionState
from yunying.promotions.services import (
    code_batch_create,
    coupon_issue,
    coupon_void,
    promotion_transition,
)

pytestmark = pytest.mark.django_db

PHONE = "13800138000"


def me() -> Member:
    """The member signed in on member_client."""
    return member_find(phone="+86" + PHONE)


def claimable(**fields):
    return promotion_make(
        "coupon_off", claimable=True, threshold_fen=20000, off_fen=3000, name="满减券", **fields
    )


def issue(template, member, **kwargs):
    return coupon_issue(
        promotion_id=template.pk, member_id=member.pk, source="issue", actor=SYSTEM, **kwargs
    ).coupon


def page(client, tab="mine") -> str:
    response = client.get(f"/m/me/coupons/?tab={tab}")
    assert response.status_code == 200
    return response.content.decode()


def follow(client, response) -> str:
    """The page a POST redirected to, where its outcome is said."""
    assert response.status_code == 302, response.content
    assert response["Location"].startswith("/m/me/coupons/")
    landed = client.get(response["Location"])
    assert landed.status_code == 200
    return landed.content.decode()


def refusal(html: str) -> str | None:
    found = re.search(r'role="alert" data-code="([^"]+)"', html)
    return found.group(1) if found else None


def coupon_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-coupon="(\d+)"', html)]


@pytest.fixture
def other_client(db, notify_dir, settings):
    settings.PRIVACY_POLICY_VERSION = "2026-12"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, notify_dir, "13800138001")
    return client


# -- the pages ----------------------------------------------------------------------------------------


def test_my_page_links_to_the_coupons_with_the_count_i_can_use(member_client):
    # given two usable coupons and one withdrawn
    member = me()
    template = promotion_make("coupon_off", off_fen=500, per_member_limit=5)
    issue(template, member)
    issue(template, member)
    coupon_void(coupon_id=issue(template, member).pk, actor=SYSTEM, reason="test")
    # when
    html = member_client.get("/m/me/").content.decode()
    # then
    assert 'href="/m/me/coupons/"' in html and 'id="coupons-usable">2<' in html


def test_mine_soon_and_history_split_my_coupons(member_client):
    # given a coupon ending in a year, one in two days, one expired and one withdrawn
    member = me()
    now = timezone.now()
    year = promotion_make("coupon_off", threshold_fen=20000, off_fen=3000, valid_days=365)
    soon = promotion_make("coupon_percent", permille=850, issuer="platform", valid_days=2)
    past = promotion_make("coupon_shipping", valid_days=1)
    void = promotion_make("coupon_off", off_fen=100)
    long_coupon = issue(year, member)
    soon_coupon = issue(soon, member)
    expired = issue(past, member, now=now - timedelta(days=3))
    withdrawn = issue(void, member)
    coupon_void(coupon_id=withdrawn.pk, actor=SYSTEM, reason="test")
    # when / then: mine, the one ending first first, each with its terms and issuer
    mine = page(member_client, "mine")
    assert coupon_ids(mine) == [soon_coupon.pk, long_coupon.pk]
    assert "Over ¥200, ¥30 off" in mine and "15% off" in mine
    assert "Platform coupon" in mine and "Shop coupon" in mine
    assert mine.count("h5-coupon-soon") == 1
    # expiring soon: only the one ending within three days
    assert coupon_ids(page(member_client, "soon")) == [soon_coupon.pk]
    # history: the expired and the withdrawn, with their state
    history = page(member_client, "history")
    assert sorted(coupon_ids(history)) == sorted([expired.pk, withdrawn.pk])
    assert "Expired" in history and "Withdrawn" in history


def test_a_used_coupon_shows_in_the_history_with_its_date(member_client):
    # given a coupon used on an order
    member = me()
    template = promotion_make("coupon_off", threshold_fen=10000, off_fen=1000)
    coupon = issue(template, member)
    result = quote(member.pk, coupon_ids=[coupon.pk])
    ingest(order_from(result, "SO-H5-1", phone="+86" + PHONE))
    # when
    history = page(member_client, "history")
    # then
    assert coupon_ids(history) == [coupon.pk] and "Used on" in history
    assert coupon_ids(page(member_client, "mine")) == []


@pytest.mark.parametrize("tab", ["mine", "claim", "soon", "history"])
def test_every_tab_has_an_empty_state(member_client, tab):
    html = page(member_client, tab)
    assert "h5-empty" in html and "data-coupon" not in html


def test_the_page_is_chinese_by_default(member_client):
    claimable()
    html = member_client.get("/m/me/coupons/?tab=claim", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for text in (
        "我的优惠券",
        "可领取",
        "我的券",
        "即将过期",
        "已使用/已过期",
        "满¥200减¥30",
        "领取",
        "兑换码",
    ):
        assert text in html, text


def test_another_members_coupons_never_show(member_client, other_client):
    other = member_find(phone="+8613800138001")
    template = promotion_make("coupon_off", off_fen=500)
    theirs = issue(template, other)
    for tab in ("mine", "soon", "history"):
        assert theirs.pk not in coupon_ids(page(member_client, tab))
    assert coupon_ids(page(other_client)) == [theirs.pk]


def test_query_stays_constant_with_more_coupons(member_client, django_assert_max_num_queries):
    member = me()
    for n in range(3):
        template = claimable(issue_limit=10)
        issue(template, member)
        promotion_make("coupon_off", off_fen=100 + n, points_price=10)
    member_client.get("/m/me/coupons/?tab=claim")  # the session and the member, warmed
    with django_assert_max_num_queries(14):
        member_client.get("/m/me/coupons/?tab=claim")


# -- signed out, CSRF, methods ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/m/me/coupons/"),
        ("post", "/m/me/coupons/claim/"),
        ("post", "/m/me/coupons/redeem/"),
        ("get", "/m/me/coupons/points/1/"),
        ("post", "/m/me/coupons/points/1/"),
    ],
)
def test_signed_out_visitors_are_sent_to_sign_in(client, method, path):
    response = getattr(client, method)(path, {"promotion_id": "1", "code": "ABCDEFGH"})
    assert response.status_code == 302 and response["Location"].startswith("/m/signin/")
    assert not Coupon.objects.exists()


def test_posts_need_the_csrf_token(db, notify_dir, settings):
    settings.PRIVACY_POLICY_VERSION = "2026-12"
    client = Client(enforce_csrf_checks=True)
    template = claimable()
    # sign-in itself posts with the token the page gave
    client.get("/m/privacy/")
    token = client.cookies["csrftoken"].value
    client.post("/m/privacy/", {"version": "2026-12", "accept": "on", "csrfmiddlewaretoken": token})
    client.post("/m/signin/", {"step": "send", "phone": PHONE, "csrfmiddlewaretoken": token})
    from tests.h5.conftest import last_code

    code = last_code(notify_dir, "+86" + PHONE)
    client.post("/m/signin/", {"step": "verify", "phone": PHONE, "code": code, "csrfmiddlewaretoken": token})
    assert client.get("/m/me/coupons/").status_code == 200
    # when: a post without the token (another site's form)
    response = client.post("/m/me/coupons/claim/", {"promotion_id": template.pk})
    # then
    assert response.status_code == 403 and not Coupon.objects.exists()


@pytest.mark.parametrize("path", ["/m/me/coupons/claim/", "/m/me/coupons/redeem/"])
def test_the_actions_take_posts_only(member_client, path):
    assert member_client.get(path).status_code == 405


# -- claiming -----------------------------------------------------------------------------------------


def test_claiming_puts_the_coupon_in_mine_and_marks_it_claimed(member_client):
    # given a template with 3 left, one per member
    template = claimable(issue_limit=3)
    html = page(member_client, "claim")
    assert "3 left" in html and "h5-coupon-claim" in html
    # when
    html = follow(member_client, member_client.post("/m/me/coupons/claim/", {"promotion_id": template.pk}))
    # then
    coupon = Coupon.objects.get()
    assert coupon.member == me() and coupon.source == "claim"
    assert 'data-kind="claimed"' in html and coupon_ids(html) == [coupon.pk]
    claim_tab = page(member_client, "claim")
    assert "2 left" in claim_tab and "h5-coupon-held" in claim_tab and "h5-coupon-claim" not in claim_tab


def _paused(**fields):
    template = claimable(**fields)
    promotion_transition(promotion_id=template.pk, to=PromotionState.PAUSED, actor=SYSTEM)
    return template


REFUSALS = [
    ("not_claimable", lambda: promotion_make("coupon_off", off_fen=500).pk, "promotion.not_claimable"),
    ("paused", lambda: _paused().pk, "promotion.not_active"),
    ("draft", lambda: claimable(start=False).pk, "promotion.not_active"),
    ("not_a_coupon", lambda: promotion_make("spend_off", steps=[[10000, 1000]]).pk, "promotion.not_a_coupon"),
    ("unknown_id", lambda: 987654, "promotion.not_found"),
    ("empty", lambda: "", "promotion.not_found"),
    ("letters", lambda: "abc", "promotion.not_found"),
    ("negative", lambda: "-1", "promotion.not_found"),
    ("zero", lambda: "0", "promotion.not_found"),
    ("fullwidth_digits", lambda: "１２", "promotion.not_found"),
    ("huge", lambda: "9" * 40, "promotion.not_found"),
    ("past_bigint", lambda: str(2**63), "promotion.not_found"),
    ("unicode", lambda: "领取😀", "promotion.not_found"),
]


@pytest.mark.parametrize("make, code", [(m, c) for _, m, c in REFUSALS], ids=[i for i, _, _ in REFUSALS])
def test_a_refused_claim_says_why_and_issues_nothing(member_client, make, code):
    # given
    promotion_id = make()
    # when
    html = follow(member_client, member_client.post("/m/me/coupons/claim/", {"promotion_id": promotion_id}))
    # then
    assert refusal(html) == code
    assert not Coupon.objects.exists()


def test_a_second_claim_past_the_members_limit_is_refused(member_client):
    template = claimable()
    member_client.post("/m/me/coupons/claim/", {"promotion_id": template.pk})
    html = follow(member_client, member_client.post("/m/me/coupons/claim/", {"promotion_id": template.pk}))
    assert refusal(html) == "promotion.member_limit_reached"
    assert "You already hold as many of these coupons as one member may." in html
    assert Coupon.objects.count() == 1


def test_the_last_coupon_goes_to_one_member_and_the_next_is_told_they_are_gone(member_client, other_client):
    template = claimable(issue_limit=1)
    follow(other_client, other_client.post("/m/me/coupons/claim/", {"promotion_id": template.pk}))
    assert "h5-coupon-sold-out" in page(member_client, "claim")
    html = follow(member_client, member_client.post("/m/me/coupons/claim/", {"promotion_id": template.pk}))
    assert refusal(html) == "promotion.issue_limit_reached" and Coupon.objects.count() == 1


def test_claims_are_rate_limited_per_member(member_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "coupon_claim_member": 3}
    template = claimable(per_member_limit=10)
    for _ in range(3):
        member_client.post("/m/me/coupons/claim/", {"promotion_id": template.pk})
    html = follow(member_client, member_client.post("/m/me/coupons/claim/", {"promotion_id": template.pk}))
    assert refusal(html) == "core.rate_limited" and Coupon.objects.count() == 3


def test_claims_are_rate_limited_per_client_address(member_client, other_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "coupon_claim_ip": 2}
    template = claimable(per_member_limit=10)
    member_client.post("/m/me/coupons/claim/", {"promotion_id": template.pk})
    member_client.post("/m/me/coupons/claim/", {"promotion_id": template.pk})
    html = follow(other_client, other_client.post("/m/me/coupons/claim/", {"promotion_id": template.pk}))
    assert refusal(html) == "core.rate_limited" and Coupon.objects.count() == 2


# -- codes ---------------------------------------------------------------------------------------------

CODE = "H5TESTCODE01"


@pytest.fixture
def codes(db):
    template = promotion_make(
        "coupon_off", threshold_fen=10000, off_fen=1500, name="兑换券", per_member_limit=5
    )
    code_batch_create(
        promotion_id=template.pk, name="test", codes=[CODE, "H5TESTCODE02", "H5TESTCODE03"], actor=SYSTEM
    )
    return template


def redeem(client, code) -> str:
    return follow(client, client.post("/m/me/coupons/redeem/", {"code": code}))


def test_a_code_gives_its_coupon_once(member_client, other_client, codes):
    # when: typed as people type it (lower case, spaces, dashes)
    html = redeem(member_client, " h5te-stco de01 ")
    # then
    coupon = Coupon.objects.get()
    assert coupon.member == me() and coupon.source == "code"
    assert 'data-kind="redeemed"' in html and coupon_ids(html) == [coupon.pk]
    # the same code again, by me or by someone else
    assert refusal(redeem(member_client, CODE)) == "promotion.code_used"
    assert refusal(redeem(other_client, CODE)) == "promotion.code_used"
    assert Coupon.objects.count() == 1


JUNK_CODES = [
    ("empty", "", "h5.code_empty"),
    ("spaces", "   ", "h5.code_empty"),
    ("too_short", "AB12", "h5.code_malformed"),
    ("chinese", "兑换码兑换码兑换码", "h5.code_malformed"),
    ("emoji", "ABCDEF😀", "h5.code_malformed"),
    ("fullwidth", "ＡＢＣＤＥＦＧＨ", "h5.code_malformed"),
    ("very_long", "A" * 5000, "h5.code_malformed"),
    ("33_chars", "A" * 33, "h5.code_malformed"),
    ("sql", "' OR 1=1 --", "h5.code_malformed"),
    ("unknown", "ZZZZZZZZZZZZ", "promotion.code_unknown"),
]


@pytest.mark.parametrize(
    "code, expected", [(c, e) for _, c, e in JUNK_CODES], ids=[i for i, _, _ in JUNK_CODES]
)
def test_a_code_that_is_not_one_is_refused_with_a_message(member_client, codes, code, expected):
    html = redeem(member_client, code)
    assert refusal(html) == expected
    assert not Coupon.objects.exists()


def test_a_code_of_a_paused_promotion_is_refused(member_client, codes):
    promotion_transition(promotion_id=codes.pk, to=PromotionState.PAUSED, actor=SYSTEM)
    assert refusal(redeem(member_client, CODE)) == "promotion.not_active"


def test_a_code_past_the_members_limit_is_refused(member_client):
    template = promotion_make("coupon_off", off_fen=500)  # one per member
    code_batch_create(promotion_id=template.pk, name="t", codes=["LIMIT00001", "LIMIT00002"], actor=SYSTEM)
    redeem(member_client, "LIMIT00001")
    assert refusal(redeem(member_client, "LIMIT00002")) == "promotion.member_limit_reached"
    assert Coupon.objects.count() == 1


def test_guessing_codes_is_stopped_after_ten_tries_an_hour_even_for_a_right_code(member_client, codes):
    # given ten wrong guesses
    for n in range(10):
        assert refusal(redeem(member_client, f"GUESS{n:07d}")) == "promotion.code_unknown"
    # when: the eleventh is a real code
    html = redeem(member_client, CODE)
    # then: refused unlooked-at, with when to come back
    assert refusal(html) == "core.rate_limited"
    assert re.search(r"Try again in \d+ minutes\.", html)
    assert not Coupon.objects.exists()


def test_a_guesser_cannot_switch_accounts_on_one_address(member_client, other_client, codes, settings):
    # given a member limit high enough not to be the one that stops them
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "coupon_code_member_hour": 100}
    for n in range(5):
        redeem(member_client, f"GUESS{n:07d}")
    for n in range(5):
        redeem(other_client, f"OTHER{n:07d}")
    # then: the address has had its ten
    assert refusal(redeem(other_client, CODE)) == "core.rate_limited"
    assert refusal(redeem(member_client, "H5TESTCODE02")) == "core.rate_limited"
    assert not Coupon.objects.exists()


def test_a_right_code_gives_its_try_back_and_typos_are_not_counted(member_client, codes):
    # given nine wrong guesses and twenty inputs that cannot be a code (not counted)
    for n in range(9):
        redeem(member_client, f"GUESS{n:07d}")
    for _ in range(20):
        redeem(member_client, "")
    # when: a right code (counted, then given back), then one more wrong guess (the tenth)
    assert refusal(redeem(member_client, CODE)) is None
    assert refusal(redeem(member_client, "GUESS9999999")) == "promotion.code_unknown"
    # then: the eleventh try is refused
    assert refusal(redeem(member_client, "H5TESTCODE02")) == "core.rate_limited"
    assert Coupon.objects.count() == 1


# -- points --------------------------------------------------------------------------------------------


def balance(member) -> int:
    account = PointAccount.objects.filter(member=member).first()
    return account.balance if account else 0


@pytest.fixture
def on_sale(db):
    return promotion_make(
        "coupon_off", threshold_fen=10000, off_fen=2000, name="积分券", points_price=300, per_member_limit=3
    )


def give_points(member, points):
    points_earn(
        member_id=member.pk,
        points=points,
        key=f"t-{member.pk}-{points}",
        source=PostingSource.CHECKIN,
        actor=SYSTEM,
        expires_at=None,
    )


def confirm_page(client, template) -> tuple[str, str]:
    response = client.get(f"/m/me/coupons/points/{template.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    token = re.search(r'name="token" value="([^"]+)"', html)
    return html, token.group(1) if token else ""


def test_the_points_offer_shows_price_and_balance_then_exchanges_once(member_client, on_sale):
    member = me()
    start = balance(member)
    give_points(member, 1000)
    # the coupon centre lists it with its price
    claim_tab = page(member_client, "claim")
    assert f'data-offer="{on_sale.pk}"' in claim_tab and "300 points" in claim_tab
    # the confirmation step: price, balance, what is left after
    html, token = confirm_page(member_client, on_sale)
    assert 'id="exchange-price">300 points<' in html
    assert f'id="exchange-balance">{start + 1000}<' in html and f'id="exchange-after">{start + 700}<' in html
    assert not Coupon.objects.exists()  # looking costs nothing
    # when: confirmed, twice (a double tap)
    first = member_client.post(f"/m/me/coupons/points/{on_sale.pk}/", {"token": token})
    second = member_client.post(f"/m/me/coupons/points/{on_sale.pk}/", {"token": token})
    # then: one coupon, the points spent once
    html = follow(member_client, first)
    assert 'data-kind="exchanged"' in html
    follow(member_client, second)
    coupon = Coupon.objects.get()
    assert coupon.source == "points" and coupon.member == member
    assert balance(member) == start + 700
    # a new confirmation (a new token) buys a second one
    _, again = confirm_page(member_client, on_sale)
    assert again != token
    follow(member_client, member_client.post(f"/m/me/coupons/points/{on_sale.pk}/", {"token": again}))
    assert Coupon.objects.count() == 2 and balance(member) == start + 400


def test_a_token_does_not_buy_a_coupon_of_another_template(member_client, on_sale):
    member = me()
    give_points(member, 1000)
    start = balance(member)
    other = promotion_make("coupon_off", off_fen=1000, name="另一张", points_price=300)
    _, token = confirm_page(member_client, on_sale)
    follow(member_client, member_client.post(f"/m/me/coupons/points/{on_sale.pk}/", {"token": token}))
    follow(member_client, member_client.post(f"/m/me/coupons/points/{other.pk}/", {"token": token}))
    assert Coupon.objects.count() == 2 and balance(member) == start - 600


def test_not_enough_points_is_said_and_nothing_is_spent(member_client, on_sale):
    member = me()
    start = balance(member)
    assert start < 300
    html, _ = confirm_page(member_client, on_sale)
    assert 'id="exchange-short"' in html and 'id="exchange-confirm"' not in html
    # a post anyway (an old page): the service refuses
    response = member_client.post(f"/m/me/coupons/points/{on_sale.pk}/", {"token": "x" * 22})
    assert response.status_code == 200
    html = response.content.decode()
    assert refusal(html) == "loyalty.insufficient_points"
    assert "You do not have enough points for this coupon." in html
    assert not Coupon.objects.exists() and balance(member) == start


@pytest.mark.parametrize(
    "token", ["", "short", "x" * 41, "令牌令牌令牌令牌令牌令牌令牌令牌", "a b c d e f g h i j"]
)
def test_a_bad_token_is_refused(member_client, on_sale, token):
    give_points(me(), 1000)
    response = member_client.post(f"/m/me/coupons/points/{on_sale.pk}/", {"token": token})
    assert response.status_code == 200 and refusal(response.content.decode()) == "core.invalid"
    assert not Coupon.objects.exists()


@pytest.mark.parametrize("which", ["not_on_sale", "unknown", "huge", "paused"])
def test_a_coupon_not_on_sale_for_points_is_refused(member_client, on_sale, which):
    give_points(me(), 1000)
    if which == "not_on_sale":
        promotion_id = promotion_make("coupon_off", off_fen=100).pk
    elif which == "unknown":
        promotion_id = 987654
    elif which == "huge":
        promotion_id = 10**30
    else:
        promotion_transition(promotion_id=on_sale.pk, to=PromotionState.PAUSED, actor=SYSTEM)
        promotion_id = on_sale.pk
    for method in ("get", "post"):
        response = getattr(member_client, method)(
            f"/m/me/coupons/points/{promotion_id}/", {"token": "x" * 22}
        )
        assert refusal(follow(member_client, response)) == "promotion.points_not_on_sale"
    assert not Coupon.objects.exists()


def test_past_the_members_limit_the_exchange_is_closed(member_client):
    template = promotion_make("coupon_off", off_fen=500, points_price=10)  # one per member
    give_points(me(), 100)
    _, token = confirm_page(member_client, template)
    follow(member_client, member_client.post(f"/m/me/coupons/points/{template.pk}/", {"token": token}))
    html, _ = confirm_page(member_client, template)
    assert 'id="exchange-held"' in html and 'id="exchange-confirm"' not in html
    response = member_client.post(f"/m/me/coupons/points/{template.pk}/", {"token": "y" * 22})
    assert refusal(response.content.decode()) == "promotion.member_limit_reached"
    assert Coupon.objects.filter(state=CouponState.AVAILABLE).count() == 1
