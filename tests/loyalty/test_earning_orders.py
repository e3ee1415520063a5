"""Order points (L2): earned per line, pending for the return window, multiplied in the birthday
month and by registered sources; refunds take back per line and give back what was spent; the
named peer bugs."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.commerce.helpers import STOREFRONT, cancel, ingest, order_payload, refund
from tests.loyalty.helpers import account, earned_for, held, postings_sum, reversed_for, rules_set
from yunying.commerce.models import OrderLine
from yunying.commerce.services import order_ingest
from yunying.commerce.validation import order_parse
from yunying.core.permissions import SYSTEM
from yunying.loyalty import earning
from yunying.loyalty.earning import earn_key
from yunying.loyalty.ledger import ledger_reconcile, points_earn, points_mature_due, points_spend
from yunying.loyalty.models import PointLot, PointPosting, PostingKind, PostingSource
from yunying.members.services import Profile, member_resolve

pytestmark = pytest.mark.django_db

PHONE = "+8613800000001"


def paid_at(days_ago: float = 1):
    return timezone.now() - timedelta(days=days_ago)


def order(external_id="SO-1", *, lines=None, days_ago=1, phone=PHONE):
    overrides = {"paid_at": paid_at(days_ago).isoformat()}
    if lines is not None:
        overrides["lines"] = [
            {"sku": f"S{n}", "unit_price_fen": fen, "quantity": 1, "paid_fen": fen}
            for n, fen in enumerate(lines)
        ]
    return ingest(order_payload(external_id, phone=phone, **overrides)).order


def line_keys(order):
    return [
        earn_key(pk)
        for pk in OrderLine.objects.filter(order=order).order_by("line_no").values_list("pk", flat=True)
    ]


@pytest.fixture(autouse=True)
def rules():
    return rules_set(welcome_points=0)


@pytest.fixture
def no_tiers():
    saved = dict(earning.multiplier_sources)
    earning.multiplier_sources.clear()
    yield earning.multiplier_sources
    earning.multiplier_sources.clear()
    earning.multiplier_sources.update(saved)


# ---------------------------------------------------------------------------------------------------
# Earning


@pytest.mark.parametrize(
    ("per_unit", "unit_fen", "lines", "expected"),
    [
        (1, 100, [9000, 5997], [90, 59]),  # rounded down per line: 5997 fen earn 59, not 59.97
        (1, 100, [199, 199], [1, 1]),  # the fen left over are not carried to the next line
        (1, 100, [99], []),  # below one point: no posting
        (5, 1000, [19900], [99]),  # 5 points per ¥10
        (0, 100, [9000], []),  # order points off
    ],
    ids=["per-line-floor", "no-carry", "below-one-point", "five-per-ten-yuan", "off"],
)
def test_an_order_earns_per_line_rounded_down(no_tiers, per_unit, unit_fen, lines, expected):
    # given
    rules_set(points_per_unit=per_unit, unit_fen=unit_fen, welcome_points=0)
    # when
    recorded = order(lines=lines)
    # then
    earned = [p for p in (earned_for(k) for k in line_keys(recorded)) if p]
    assert earned == expected
    assert account(recorded.member_id).pending == sum(expected)
    assert account(recorded.member_id).balance == 0  # pending until the return window closes


def test_order_points_are_pending_until_the_return_window_closes_then_spendable(no_tiers):
    # given: an order paid a day ago, a 7-day window
    recorded = order(lines=[10000])
    lot = PointLot.objects.get(posting__business_key=line_keys(recorded)[0])
    assert lot.pending_until == recorded.paid_at + timedelta(days=7)
    # when: the window closes
    points_mature_due(now=recorded.paid_at + timedelta(days=7, seconds=1))
    # then
    acc = account(recorded.member_id)
    assert (acc.balance, acc.pending) == (100, 0)


def test_an_order_paid_longer_ago_than_the_window_earns_spendable_points_at_once(no_tiers):
    recorded = order(lines=[10000], days_ago=10)
    assert (account(recorded.member_id).balance, account(recorded.member_id).pending) == (100, 0)


def test_year_end_expiry_is_the_end_of_the_next_calendar_year_in_shanghai(no_tiers):
    recorded = order(lines=[10000])
    lot = PointLot.objects.get(posting__business_key=line_keys(recorded)[0])
    spendable_from = recorded.paid_at + timedelta(days=7)
    local_year = spendable_from.astimezone(ZoneInfo("Asia/Shanghai")).year
    assert lot.expires_at.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None).isoformat() == (
        f"{local_year + 2}-01-01T00:00:00"
    )


def test_days_expiry_counts_from_when_the_points_become_spendable(no_tiers):
    # given: points that would live 3 days, a 7-day window
    rules_set(expiry_policy="days", expiry_days=3, welcome_points=0)
    # when
    recorded = order(lines=[10000])
    # then: they still get their 3 days once spendable, never expiring while pending
    lot = PointLot.objects.get(posting__business_key=line_keys(recorded)[0])
    assert lot.expires_at == recorded.paid_at + timedelta(days=7 + 3)


def _member_born_in(month: int):
    return member_resolve(phone=PHONE, external_id=None, profile=Profile(birth_date=date(1990, month, 15)))


@pytest.mark.parametrize(
    ("birthday_this_month", "tier_permille", "expected", "shown"),
    [
        (False, None, [90, 59], ""),
        (
            True,
            None,
            [180, 119],
            " ×2",
        ),  # double: 5997 × 2 / 100 = 119.94 → 119 (one floor, after the product)
        (False, 1500, [135, 89], " ×1.5"),
        (True, 1500, [270, 179], " ×3"),  # the product of both
    ],
    ids=["plain", "birthday", "tier", "birthday-and-tier"],
)
def test_multipliers_multiply_with_one_floor_per_line(
    no_tiers, birthday_this_month, tier_permille, expected, shown
):
    # given
    month = paid_at().astimezone(ZoneInfo("Asia/Shanghai")).month
    _member_born_in(month if birthday_this_month else month % 12 + 1)
    if tier_permille:
        no_tiers["tier"] = lambda member_id, at: tier_permille
    # when
    recorded = order()
    # then
    assert [earned_for(k) for k in line_keys(recorded)] == expected
    memo = PointPosting.objects.get(business_key=line_keys(recorded)[0]).memo
    assert memo == f"SO-1 #1 TEA-1{shown}"


def test_imported_orders_earn_nothing_unless_the_rules_say_so(no_tiers):
    # given: an order from a history import
    payload = order_payload("SO-IMP", paid_at=paid_at().isoformat())
    imported = order_ingest(order=order_parse(payload), actor=STOREFRONT, source="import").order
    assert [earned_for(k) for k in line_keys(imported)] == [0, 0]
    # when: the rules allow imported orders
    rules_set(import_earns=True, welcome_points=0)
    payload = order_payload("SO-IMP-2", paid_at=paid_at().isoformat())
    imported = order_ingest(order=order_parse(payload), actor=STOREFRONT, source="import").order
    # then
    assert [earned_for(k) for k in line_keys(imported)] == [90, 59]


def test_orders_paid_before_the_rules_existed_earn_nothing(no_tiers):
    rules_set(orders_paid_from=timezone.now() - timedelta(days=2), welcome_points=0)
    old = order("SO-OLD", days_ago=3)
    new = order("SO-NEW", days_ago=1)
    assert [earned_for(k) for k in line_keys(old)] == [0, 0]
    assert [earned_for(k) for k in line_keys(new)] == [90, 59]


def test_without_rules_nothing_is_earned(no_tiers):
    from yunying.loyalty.models import PointsRules

    PointsRules.objects.all().delete()
    recorded = order()
    assert held(recorded.member_id) == 0


def test_an_order_sent_again_earns_once(no_tiers):
    first = order()
    again = ingest(order_payload("SO-1", phone=PHONE, paid_at=first.paid_at.isoformat()))
    assert again.replayed
    assert held(first.member_id) == 149


# ---------------------------------------------------------------------------------------------------
# Refunds


@pytest.mark.parametrize(
    ("refunds", "expected_reversed"),
    [
        ([{"line_no": 1, "amount_fen": 4500}], [45, 0]),
        ([{"line_no": 1, "quantity": 1}], [45, 0]),  # one of two items: 4500 fen
        ([{"line_no": 2, "amount_fen": 1999}, {"line_no": 2, "amount_fen": 1999}], [0, 39]),
        (
            [{"line_no": 2, "amount_fen": 1999}, {"line_no": 2, "amount_fen": 1999}, {"line_no": 2}],
            [0, 59],  # a line refunded in parts ends at exactly what it earned
        ),
        ([{"amount_fen": 14997}], [90, 59]),  # the whole order
        ([{"amount_fen": 5000}], [30, 19]),  # spread by paid_fen: 3000.6 and 1999.4 fen
        ([{"line_no": 1}, {"amount_fen": 3000}], [90, 29]),  # all to line 2: floor(59 × 3000 / 5997)
        ([{"line_no": 1, "amount_fen": 100}, {}], [90, 59]),  # the rest of the order
    ],
    ids=[
        "line-amount",
        "line-quantity",
        "line-in-two-parts",
        "line-in-three-parts-exact",
        "order-whole",
        "order-partial-spread",
        "line-then-order",
        "line-then-rest",
    ],
)
def test_refunds_take_back_each_lines_share(no_tiers, refunds, expected_reversed):
    # given: 9000 fen earning 90, 5997 fen earning 59
    recorded = order()
    # when
    for n, raw in enumerate(refunds):
        refund("SO-1", external_id=f"R{n}", **raw)
    # then
    assert [reversed_for(k) for k in line_keys(recorded)] == expected_reversed
    assert held(recorded.member_id) == 149 - sum(expected_reversed)
    assert ledger_reconcile() == []


def test_a_cancellation_takes_back_everything(no_tiers):
    recorded = order()
    cancel("SO-1", external_id="C1")
    assert [reversed_for(k) for k in line_keys(recorded)] == [90, 59]
    assert held(recorded.member_id) == 0
    assert ledger_reconcile() == []


def test_a_replayed_refund_posts_nothing(no_tiers):
    recorded = order()
    at = timezone.now().isoformat()
    refund("SO-1", external_id="R1", line_no=1, amount_fen=4500, occurred_at=at)
    before = PointPosting.objects.count()
    again = refund("SO-1", external_id="R1", line_no=1, amount_fen=4500, occurred_at=at)
    assert again.replayed
    assert PointPosting.objects.count() == before
    # and a handler called twice for one event (a re-delivery) computes nothing left to post
    earning.on_order_fact(
        earning.OrderFact(
            earning.OrderFactKind.REFUNDED,
            recorded.pk,
            recorded.member_id,
            4500,
            timezone.now(),
            again.event.pk,
        )
    )
    assert PointPosting.objects.count() == before


def test_a_refund_of_an_order_that_earned_nothing_takes_nothing(no_tiers):
    rules_set(points_per_unit=0, welcome_points=0)
    recorded = order()
    refund("SO-1", external_id="R1")
    assert PointPosting.objects.filter(account__member_id=recorded.member_id).count() == 0


def _member_with(points: int):
    member = member_resolve(phone=PHONE, external_id=None)
    points_earn(
        member_id=member.pk,
        points=points,
        key="gift",
        source=PostingSource.GIFT,
        actor=SYSTEM,
        expires_at=None,
    )
    return member


def _checkout_spend(member, points: int, external_id: str = "SO-1"):
    return points_spend(
        member_id=member.pk,
        points=points,
        key=f"checkout:{external_id}",
        source=PostingSource.CHECKOUT,
        actor=SYSTEM,
        ref=external_id,
    ).posting


@pytest.mark.parametrize(
    ("refunds", "restored"),
    [
        ([{"amount_fen": 4999}], 33),  # floor(100 × 4999 / 14997) = 33
        ([{"amount_fen": 4999}, {"amount_fen": 4999}], 66),
        ([{"amount_fen": 4999}, {"amount_fen": 4999}, {}], 100),  # all of it in the end
        ([{"line_no": 2}], 39),  # floor(100 × 5997 / 14997)
    ],
    ids=["a-third", "two-thirds", "all-in-three", "one-line"],
)
def test_a_refund_gives_back_the_spent_points_in_proportion(no_tiers, refunds, restored):
    # given: 100 of the member's 500 points paid part of SO-1
    member = _member_with(500)
    spend = _checkout_spend(member, 100)
    order()
    # when
    for n, raw in enumerate(refunds):
        refund("SO-1", external_id=f"R{n}", **raw)
    # then
    back = sum(
        PointPosting.objects.filter(related=spend, kind=PostingKind.RESTORE).values_list("points", flat=True)
    )
    assert back == restored
    assert ledger_reconcile() == []


def test_a_cancellation_gives_back_every_spent_point(no_tiers):
    member = _member_with(500)
    _checkout_spend(member, 100)
    order()
    cancel("SO-1", external_id="C1")
    assert account(member.pk).balance == 500
    assert account(member.pk).pending == 0


def test_odoo_257854_buy_earn_refund_repeat_leaves_no_points(no_tiers):
    """odoo/odoo#257854: every round of buying, earning and refunding left the earned points."""
    member_id = None
    for n in range(4):
        recorded = order(f"SO-{n}", days_ago=10)  # past the window: spendable at once
        member_id = recorded.member_id
        assert held(member_id) == 149
        refund(f"SO-{n}", external_id="R")
        assert held(member_id) == 0
    assert account(member_id).debt == 0
    assert postings_sum(member_id) == 0
    assert ledger_reconcile() == []


@pytest.mark.parametrize("earned_points_spent_elsewhere", [0, 149], ids=["kept", "spent"])
def test_odoo_212922_221928_a_refund_never_deducts_twice(no_tiers, earned_points_spent_elsewhere):
    """odoo#212922, #221928: refunding an order paid partly with points took the spent points away
    again (or the earned ones twice). Here: 100 points paid part of the order, the order earned 149;
    after a full refund the member holds what they had before the order, less what they spent
    elsewhere, and owes nothing more than that."""
    # given
    member = _member_with(300)
    _checkout_spend(member, 100)
    recorded = order(days_ago=10)  # spendable at once
    assert account(member.pk).balance == 300 - 100 + 149
    if earned_points_spent_elsewhere:
        points_spend(
            member_id=member.pk, points=earned_points_spent_elsewhere, key="elsewhere",
            source=PostingSource.REDEEM, actor=SYSTEM,
        )  # fmt: skip
    # when: the whole order is refunded
    refund("SO-1", external_id="R-ALL")
    # then
    acc = account(member.pk)
    assert acc.balance == 300 - earned_points_spent_elsewhere
    assert acc.debt == 0
    assert [reversed_for(k) for k in line_keys(recorded)] == [90, 59]
    assert postings_sum(member.pk) == acc.balance + acc.pending
    assert ledger_reconcile() == []


def test_refunding_after_the_earned_points_were_spent_leaves_a_debt_the_next_order_pays(no_tiers):
    # given: the order's points are spent, nothing else is held
    recorded = order(days_ago=10)
    points_spend(
        member_id=recorded.member_id, points=149, key="redeem", source=PostingSource.REDEEM, actor=SYSTEM
    )
    # when
    refund("SO-1", external_id="R1")
    # then: a debt, never a negative balance
    acc = account(recorded.member_id)
    assert (acc.balance, acc.debt) == (0, 149)
    order("SO-2", days_ago=10)
    acc = account(recorded.member_id)
    assert (acc.balance, acc.debt) == (0, 0)
    assert ledger_reconcile() == []


def test_a_give_back_that_meets_another_takes_only_what_is_left():
    """The checkout's own cancel (points API) may give back part of a spend between the refund's read
    and the ledger's lock: the refund then gives back what is left, and nothing when nothing is."""
    from yunying.loyalty.earning import _restore
    from yunying.loyalty.ledger import points_restore

    member = _member_with(500)
    spend = _checkout_spend(member, 100)
    points_restore(spend_key=spend.business_key, key="api-cancel", points=80, actor=SYSTEM)
    _restore(spend, 50, key="refund-1", memo="SO-1")
    assert PointPosting.objects.get(business_key="refund-1").points == 20
    _restore(spend, 50, key="refund-2", memo="SO-1")
    assert not PointPosting.objects.filter(business_key="refund-2").exists()
    assert account(member.pk).balance == 500
