"""Risk review in the console: the queue (one case or many), the decisions with their reasons and
CSV, and risk control's alerts. risk.view reads, risk.review decides; the auditor sees nothing."""

from __future__ import annotations

import pytest

from tests.campaigns.factories import CampaignFactory
from yunying.campaigns.models import Signup
from yunying.campaigns.services.admission import MemberIdentity, Source, signup_create
from yunying.core.alerts import alert_raise
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM, Role
from yunying.risk.models import Case
from yunying.risk.services import risk_assess
from yunying.risk.signals import RiskInput

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("risk_enforced")]

PAGES = ["/console/risk/", "/console/risk/?tab=decided", "/console/risk/decisions/", "/console/risk/alerts/"]


def held(n: int) -> Case:
    """A case: a sign-up attempt from a script on a cloud address scores 75 (review)."""
    verdict = risk_assess(
        RiskInput(entry="signup.create", subject_type="signup", subject_ref=f"su_x{n}", member_ref=f"m{n}",
                  ip="47.92.1.1", user_agent="python-requests/2.31", device_id=f"device-{n:06d}")
    )  # fmt: skip
    return Case.objects.get(decision_id=verdict.decision_id)


def held_sign_up(campaign, n: int) -> Signup:
    """A real sign-up held for review by risk control."""
    try:
        signup = signup_create(
            campaign_id=campaign.pk,
            identity=MemberIdentity(phone=f"139{n * 7_654_321 % 10**8:08d}"),
            answers={},
            source=Source(channel="h5", client_ip="47.92.1.1", user_agent="python-requests/2.31"),
            actor=SYSTEM,
        )
    except DomainError as refused:  # pragma: no cover - the rules changed
        raise AssertionError(refused.code) from refused
    assert signup.status == "pending_review"
    return signup


@pytest.mark.parametrize(("role", "status"), [(Role.STRATEGY, 200), (Role.EXECUTION, 200), (Role.SUPPORT, 200), (Role.AUDITOR, 403)])  # fmt: skip
def test_who_sees_the_review_pages(console_as, role, status):
    case = held(1)
    client = console_as(role)
    for page in [*PAGES, f"/console/risk/decisions/{case.decision_id}/", "/console/risk/decisions.csv"]:
        assert client.get(page).status_code == status, page


def test_the_queue_shows_why_in_words_and_the_signals(console_as):
    held(1)
    page = console_as(Role.EXECUTION).get("/console/risk/").content.decode()
    assert "请求来自脚本或无界面浏览器" in page  # the rule's label, translated
    assert "客户端类型 = scripted" in page and "IP 地址类型 = datacentre" in page  # signals in words


def test_support_reads_but_cannot_decide(console_as):
    case = held(1)
    client = console_as(Role.SUPPORT)
    assert 'id="approve"' not in client.get("/console/risk/").content.decode()
    assert client.post("/console/risk/decide/", {"case": [case.pk], "decision": "approve"}).status_code == 403
    assert Case.objects.get(pk=case.pk).status == "open"


def test_approving_a_held_sign_up_confirms_it_and_labels_the_decision(console_as):
    # given: a real sign-up waiting for risk review
    signup = held_sign_up(CampaignFactory(status="published"), 1)
    case = Case.objects.get(decision__subject_ref=signup.public_id)
    # when
    response = console_as(Role.EXECUTION).post(
        "/console/risk/decide/", {"case": [case.pk], "decision": "approve", "note": "电话核实为本人"}
    )
    # then
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "approved" and case.note == "电话核实为本人" and case.outcome == "sign-up confirmed"
    assert case.decision.label == "" or Case.objects.get(pk=case.pk).decision.label == "honest"
    assert Signup.objects.get(pk=signup.pk).status == "confirmed"


def test_bulk_reject_decides_every_chosen_case_and_skips_decided_ones(console_as):
    cases = [held(n) for n in range(1, 4)]
    client = console_as(Role.STRATEGY)
    client.post("/console/risk/decide/", {"case": [cases[0].pk], "decision": "approve"})
    # when: all three, one of them already decided
    client.post(
        "/console/risk/decide/", {"case": [c.pk for c in cases], "decision": "reject", "note": "脚本"}
    )
    # then
    statuses = [Case.objects.get(pk=c.pk).status for c in cases]
    assert statuses == ["approved", "rejected", "rejected"]
    decided = client.get("/console/risk/?tab=decided").content.decode()
    assert all(f'id="case-{c.pk}"' in decided for c in cases)


def test_decisions_filter_detail_and_csv(console_as):
    case = held(1)
    client = console_as(Role.EXECUTION)
    assert f"/console/risk/decisions/{case.decision_id}/" in client.get("/console/risk/decisions/?action=review").content.decode()  # fmt: skip
    assert f"/console/risk/decisions/{case.decision_id}/" not in client.get("/console/risk/decisions/?action=block").content.decode()  # fmt: skip
    detail = client.get(f"/console/risk/decisions/{case.decision_id}/").content.decode()
    assert "ua_kind" in detail and "75 / 100" in detail
    assert client.get("/console/risk/decisions/99999999/").status_code == 404
    assert (
        client.get("/console/risk/decisions/?from=not-a-date&subject=a%00b&page=999999999999999").status_code
        == 200
    )
    csv = client.get("/console/risk/decisions.csv?action=review")
    assert csv.content.startswith("\ufeff编号,时间,入口".encode())
    assert "su_x1" in csv.content.decode("utf-8-sig")


def test_alerts_are_listed_with_readable_titles(console_as):
    alert_raise("risk.engine_unavailable", entry="signup.create", error="OperationalError")
    page = console_as(Role.SUPPORT).get("/console/risk/alerts/").content.decode()
    assert "OperationalError" in page and "risk.engine_unavailable" not in page


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("channel", "social", "社交媒体"),
        ("channel", "mini_program", "小程序"),
        ("ip_class", "datacentre", "datacentre"),
    ],
    ids=["social", "mini-program", "other-signal"],
)
def test_a_channel_signal_reads_as_words(name, value, shown):
    from django.utils import translation

    from yunying.console.views.risk import _signal_value

    with translation.override("zh-hans"):
        assert _signal_value(name, value) == shown
