"""bench/quote.py's own pieces run (`make bench` runs it whole; Oscar stays out of the suite: it
downloads). A small cart, a few runs: the figures the bench prints are the engine's and the
service's, and the queries per quote do not grow with lines and promotions."""

from __future__ import annotations

import pytest

from bench.quote import _groups, oscar_scenario, pure_bench, scenario, service_bench
from yunying.members.models import Member
from yunying.promotions.engine import quote


def test_the_scenario_is_50_lines_under_30_promotions_each_on_its_own_lines():
    # given / when
    cart, offers = scenario()
    # then
    assert len(cart.lines) == 50 and len(offers) == 30
    covering = [[o.key for o in offers if o.scope.covers(line.sku, line.category)] for line in cart.lines]
    assert all(len(keys) == 1 for keys in covering)  # disjoint: Oscar's exclusive offers agree
    assert all(line.unit_price_fen % 10 == 0 for line in cart.lines)  # percentages meet to the fen
    assert scenario() == scenario()  # the same cart every run


@pytest.mark.parametrize(("lines", "promotions"), [(50, 30), (4, 3), (1, 1), (7, 2)], ids=str)
def test_groups_share_out_every_line(lines, promotions):
    assert sum(_groups(lines, promotions)) == lines and len(_groups(lines, promotions)) == promotions


def test_every_promotion_has_an_oscar_equivalent():
    # given
    cart, offers = scenario()
    # when
    oscar = oscar_scenario(cart, offers, runs=1, warmup=0)
    # then
    assert [spec["key"] for spec in oscar["offers"]] == [offer.key for offer in offers]
    assert sum(len(spec["skus"]) for spec in oscar["offers"]) == 50
    assert {spec["benefit"]["type"] for spec in oscar["offers"]} == {"fixed_unit", "percentage", "absolute"}


def test_pure_bench_times_the_engine_and_reports_its_quote():
    # when
    result = pure_bench(runs=3, warmup=1, lines=4, promotions=3)
    # then
    cart, offers = scenario(4, 3)
    expected = quote(cart, offers)
    assert result["runs"] == 3 and 0 < result["p50_ms"] <= result["p99_ms"]
    assert result["payable_fen"] == expected.payable_fen
    assert sum(result["offer_discounts_fen"].values()) == expected.discount_fen > 0


@pytest.mark.django_db
def test_service_bench_quotes_from_the_database_in_constant_queries():
    # given
    member = Member.objects.create(external_id="bench-quote-test")
    # when
    result = service_bench(runs=3, warmup=1, member_id=member.pk, lines=6, promotions=4)
    # then: the service saw the same promotions as the pure engine, in as many queries for 1 × 1
    cart, offers = scenario(6, 4)
    expected = quote(cart, offers)
    assert result["queries_equal"], result["queries"]
    assert result["payable_fen"] == expected.payable_fen
    assert result["offer_discounts_fen"] == {a.key: a.amount_fen for a in expected.applied}
