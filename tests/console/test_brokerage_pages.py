"""The brokerage console pages: ranking, a promoter's page (members masked), rules and settings,
statements and payout; every view refuses (403) each role without its permission; changes audited."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.loyalty.brokerage_helpers import OPERATOR, after_window, bind, buy, promoter
from tests.members.factories import MemberFactory
from yunying.console.views import brokerage as views
from yunying.core.models import AuditEntry
from yunying.core.permissions import ROLE_PERMISSIONS, Role
from yunying.loyalty import brokerage
from yunying.loyalty.models import CommissionRule, Promoter, PromoterState, Statement, StatementState

pytestmark = pytest.mark.django_db

OPERATOR_ROLES = [Role.STRATEGY, Role.EXECUTION, Role.SUPPORT, Role.AUDITOR]


def _url(pattern) -> str:
    return "/console/" + str(pattern.pattern).replace("<int:promoter_id>", "1").replace(
        "<int:statement_id>", "1"
    )


@pytest.mark.parametrize(
    ("pattern", "role"),
    [
        pytest.param(p, r, id=f"{p.name}-{r}")
        for p in views.urlpatterns
        for r in OPERATOR_ROLES
        if p.callback.console_perm not in ROLE_PERMISSIONS[r]
    ],
)
def test_a_role_without_the_permission_gets_403(console_as, pattern, role):
    client = console_as(role)
    assert client.get(_url(pattern)).status_code == 403
    assert client.post(_url(pattern), {"state": "active", "reference": "x"}).status_code == 403


def test_execution_sees_but_cannot_change(console_as):
    client = console_as(Role.EXECUTION)
    assert client.get("/console/brokerage/").status_code == 200
    assert client.post("/console/brokerage/", {"partner_name": "X"}).status_code == 403
    assert (
        client.post("/console/brokerage/rules/", {"category": "tea", "level1_permille": 5}).status_code == 403
    )
    assert not Promoter.objects.exists() and not CommissionRule.objects.exists()


def _setup():
    brokerage.rule_set(category="*", level1_permille=100, level2_permille=0, actor=OPERATOR)
    promoter_member = MemberFactory(name="张三丰")
    buyer = MemberFactory(name="李四光", external_id="buyer-1")
    p = promoter(promoter_member)
    bind(buyer, p, at=datetime.fromisoformat("2026-10-01T00:00:00+08:00"))
    buy(buyer, paid_at="2026-11-02T10:00:00+08:00")
    return p


def test_ranking_promoter_page_masks_members(console_as):
    p = _setup()
    client = console_as(Role.STRATEGY)
    ranking = client.get("/console/brokerage/?order=orders&start=2026-01-01")
    assert ranking.status_code == 200
    page = ranking.content.decode()
    assert p.code in page and "14.99" in page and "张三丰" not in page
    detail = client.get(f"/console/brokerage/promoters/{p.pk}/").content.decode()
    assert "李四光" not in detail and "李*" in detail and "/m/p/" + p.code in detail
    assert client.get("/console/brokerage/promoters/999999/").status_code == 404


def test_create_rules_settings_and_refusals(console_as):
    client = console_as(Role.STRATEGY)
    created = client.post("/console/brokerage/", {"partner_name": "茶友会"})
    assert created.status_code == 302
    refused = client.post("/console/brokerage/", {"partner_name": ""})
    assert refused.status_code == 400 and "partner" in refused.content.decode().lower()
    assert client.post("/console/brokerage/rules/", {"category": "tea", "level1_permille": 30,
                                                      "level2_permille": 10}).status_code == 302  # fmt: skip
    too_much = client.post("/console/brokerage/rules/", {"category": "tea", "level1_permille": 900,
                                                          "level2_permille": 200})  # fmt: skip
    assert too_much.status_code == 400
    three = client.post("/console/brokerage/rules/", {"action": "config", "levels": 3, "binding_days": 0})
    assert three.status_code == 400
    assert client.post("/console/brokerage/rules/", {"action": "config", "levels": 2, "binding_days": 30,
                                                      "applications_open": "on"}).status_code == 302  # fmt: skip
    assert brokerage.config_get().levels == 2
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"brokerage.promoter_create", "brokerage.rule_set", "brokerage.configure"} <= actions


def test_statements_made_and_paid(console_as):
    p = _setup()
    brokerage.commission_release_due(after_window())
    client = console_as(Role.STRATEGY)
    assert client.post("/console/brokerage/statements/", {"month": "2026-11"}).status_code == 302
    statement = Statement.objects.get(promoter=p)
    page = client.get("/console/brokerage/statements/").content.decode()
    assert "14.99" in page
    assert (
        client.post(f"/console/brokerage/statements/{statement.pk}/pay/", {"reference": "BANK-7"}).status_code
        == 302
    )
    statement.refresh_from_db()
    assert statement.state == StatementState.PAID and statement.paid_reference == "BANK-7"
    not_ended = client.post("/console/brokerage/statements/", {"month": "2099-01"})
    assert not_ended.status_code == 400


def test_applications_approved_from_the_list(console_as):
    applicant = brokerage.promoter_apply(member_id=MemberFactory().pk, actor=OPERATOR)
    client = console_as(Role.STRATEGY)
    assert "applications-heading" in client.get("/console/brokerage/").content.decode()
    client.post(f"/console/brokerage/promoters/{applicant.pk}/state/", {"state": "active", "next": "list"})
    applicant.refresh_from_db()
    assert applicant.state == PromoterState.ACTIVE


def test_the_ranking_and_statements_pages_take_the_same_queries_for_1_and_n(console_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = console_as(Role.STRATEGY)
    brokerage.rule_set(category="*", level1_permille=100, level2_permille=0, actor=OPERATOR)

    def counts() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ranking:
            assert client.get("/console/brokerage/").status_code == 200
        with CaptureQueriesContext(connection) as statements:
            assert client.get("/console/brokerage/statements/?state=all").status_code == 200
        return len(ranking), len(statements)

    promoter(MemberFactory())
    one = counts()
    for _ in range(4):
        promoter(MemberFactory())
        promoter(partner="合作方")
    assert counts() == one
