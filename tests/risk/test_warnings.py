"""Early warning (docs/risk.md "Early warning"): spikes per campaign and channel, shares of virtual
numbers and datacentre IPs, payment and refund spikes, complaint spikes. Real rows: decisions through
risk_assess at chosen times, order facts through commerce, complaints through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import translation

from tests.commerce.helpers import ingest, refund
from yunying.commerce.events import OrderFact, OrderFactKind
from yunying.core.models import Alert
from yunying.core.permissions import Actor, Role
from yunying.notify.delivery import OPERATIONS
from yunying.notify.models import OutboxMessage
from yunying.risk import warnings
from yunying.risk.models import Complaint, EarlyWarning, MoneyFact
from yunying.risk.services import risk_assess
from yunying.risk.signals import RiskInput

pytestmark = pytest.mark.django_db

# The last closed window is 11:50–12:00; the baseline the two hours before it (12 windows).
NOW = datetime(2026, 12, 1, 12, 0, 40, tzinfo=UTC)  # the window is judged 30 s after it closed
WINDOW_START = datetime(2026, 12, 1, 11, 50, tzinfo=UTC)
SYSTEM = Actor(kind="system", id=None, label="customer service tool")


@pytest.fixture(autouse=True)
def _thresholds(settings):
    settings.RISK_WARNING_WINDOW_MINUTES = 10
    settings.RISK_WARNING_BASELINE_HOURS = 2
    settings.RISK_WARNING_MIN_COUNT = 10
    settings.RISK_WARNING_RATIO = 3
    settings.RISK_WARNING_SPREAD_K = 5
    settings.RISK_WARNING_SHARE_DELTA = 0.2
    settings.RISK_ALERT_EMAILS = ["risk@example.com", "ops@example.com"]


_serial = iter(range(10**6))


def signup(at: datetime, *, campaign="spring", channel="h5", phone=None, ip="58.20.30.40"):
    n = next(_serial)
    risk_assess(
        RiskInput(
            entry="signup.create", subject_type="signup", subject_ref=f"s{n}", member_ref=f"m{n}", at=at,
            channel=channel, campaign_ref=campaign, phone=phone or f"1390000{n:04d}", ip=ip, device_id=f"d{n}",
            user_agent="Mozilla/5.0", form_fill_ms=20000,
        )
    )  # fmt: skip


def baseline(per_window: int, make, *, windows: int = 12):
    """`per_window` events in each baseline window, spread over it."""
    for w in range(windows):
        start = WINDOW_START - timedelta(minutes=10 * (w + 1))
        for i in range(per_window):
            make(start + timedelta(seconds=30 + i * 500 // max(per_window, 1)))


def current(count: int, make):
    for i in range(count):
        make(WINDOW_START + timedelta(seconds=5 + i * 500 // max(count, 1)))


def raised(code: str) -> list[Alert]:
    return list(Alert.objects.filter(code=code))


def messages() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(template=warnings.TEMPLATE))


def run_twice() -> dict:
    first = warnings.warnings_due(now=NOW)
    assert warnings.warnings_due(now=NOW + timedelta(minutes=5)) == {}  # same window: nothing new
    cache.clear()  # another worker process
    assert warnings.warnings_due(now=NOW + timedelta(seconds=1)) == {}
    return first


# --- sign-up spikes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "now", "alerts"),
    [
        pytest.param(2, 20, 1, id="spike over a steady baseline"),
        pytest.param(2, 3, 0, id="steady traffic"),
        pytest.param(0, 3, 0, id="a small campaign's few sign-ups"),
        pytest.param(6, 40, 1, id="a genuine rush on a hot campaign is reported"),
        pytest.param(6, 12, 0, id="a hot campaign's busy window under 3x its median"),
    ],
)
def test_signup_spike(base, now, alerts):
    baseline(base, signup)
    current(now, signup)
    assert run_twice() == ({"risk_warnings": 1} if alerts else {})
    rows = raised(warnings.SIGNUP_SPIKE)
    assert len(rows) == alerts and len(messages()) == alerts
    if alerts:
        data = rows[0].data
        assert data["scope"] == "campaign=spring channel=h5" and data["count"] == now
        assert data["median"] == base and data["window_start"] == WINDOW_START.isoformat()
        message = messages()[0]
        assert message.member_id == OPERATIONS and message.channel == "email"


def test_signup_spike_is_per_campaign_and_channel():
    baseline(2, signup)
    current(15, lambda at: signup(at, channel="app"))  # the app channel had no baseline: a spike there
    current(2, signup)
    warnings.warnings_due(now=NOW)
    assert [a.data["scope"] for a in raised(warnings.SIGNUP_SPIKE)] == ["campaign=spring channel=app"]


def test_alert_data_has_no_personal_data():
    current(15, lambda at: signup(at, phone="13912345678"))
    warnings.warnings_due(now=NOW)
    (alert,) = raised(warnings.SIGNUP_SPIKE)
    assert "13912345678" not in str(alert.data) and "58.20.30.40" not in str(alert.data)


def test_without_alert_emails_the_alert_is_stored_and_nothing_is_queued(settings):
    settings.RISK_ALERT_EMAILS = []
    current(15, signup)
    warnings.warnings_due(now=NOW)
    assert len(raised(warnings.SIGNUP_SPIKE)) == 1 and messages() == []


def test_the_message_renders_and_goes_to_the_operations_team(settings, mailoutbox):
    from yunying.notify.delivery import outbox_deliver_due

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    current(15, signup)
    warnings.warnings_due(now=NOW)
    outbox_deliver_due()
    (mail,) = mailoutbox
    assert mail.to == ["risk@example.com", "ops@example.com"]
    assert "campaign=spring channel=h5" in mail.subject and "count: 15" in mail.body


# --- shares ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "odd"),
    [
        (warnings.VIRTUAL_SHARE, {"phone": None, "virtual": True}),
        (warnings.DATACENTRE_SHARE, {"ip": "47.96.1.2"}),
    ],
)
@pytest.mark.parametrize(("odd_now", "alerts"), [(8, 1), (1, 0)])
def test_share_jump(code, odd, odd_now, alerts):
    def plain(at):
        signup(at, campaign=f"c{next(_serial)}")  # many small campaigns: no sign-up spike

    def strange(at):
        n = next(_serial)
        if odd.get("virtual"):
            signup(at, campaign=f"c{n}", phone=f"1700000{n:04d}")
        else:
            signup(at, campaign=f"c{n}", ip=odd["ip"])

    baseline(2, plain)
    baseline(1, strange, windows=2)  # a little of it is normal
    current(12 - odd_now, plain)
    current(odd_now, strange)
    assert run_twice() == ({"risk_warnings": 1} if alerts else {})
    rows = raised(code)
    assert len(rows) == alerts and len(messages()) == alerts
    if alerts:
        assert rows[0].data["scope"] == "entry=signup.create" and rows[0].data["matching"] == odd_now


# --- payments and refunds ----------------------------------------------------------------------------


def fact(kind: OrderFactKind, at: datetime, fen: int = 1000):
    n = next(_serial)
    warnings.order_fact_record(
        OrderFact(kind=kind, order_id=n, member_id=1, amount_fen=fen, at=at, event_id=n)
    )


@pytest.mark.parametrize(
    ("kind", "code"),
    [(OrderFactKind.REFUNDED, warnings.REFUND_SPIKE), (OrderFactKind.RECORDED, warnings.PAYMENT_SPIKE)],
)
@pytest.mark.parametrize(("base", "now", "alerts"), [(2, 20, 1), (2, 3, 0), (0, 4, 0)])
def test_money_spike(kind, code, base, now, alerts):
    baseline(base, lambda at: fact(kind, at))
    current(now, lambda at: fact(kind, at, fen=500))
    assert run_twice() == ({"risk_warnings": 1} if alerts else {})
    rows = raised(code)
    assert len(rows) == alerts and len(messages()) == alerts
    if alerts:
        assert rows[0].data["amount_fen"] == 500 * now


def test_order_facts_reach_risk_through_commerce_events():
    order = ingest().order
    refund(order.external_id, external_id="R1", amount_fen=100)
    kinds = sorted(MoneyFact.objects.values_list("kind", "amount_fen"))
    assert ("refunded", 100) in kinds and any(kind == "recorded" for kind, _fen in kinds)
    seen = MoneyFact.objects.get(kind="refunded")
    # A fact seen twice (a handler called again) is kept once.
    warnings.order_fact_record(
        OrderFact(kind=OrderFactKind.REFUNDED, order_id=order.pk, member_id=1, amount_fen=100, at=NOW, event_id=seen.event_id)
    )  # fmt: skip
    assert MoneyFact.objects.filter(kind="refunded").count() == 1


# --- complaints --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("base", "now", "alerts"), [(1, 12, 1), (1, 2, 0), (0, 5, 0)])
def test_complaint_spike(base, now, alerts):
    def complain(at):
        warnings.complaint_record(category="fraud", note="called twice", at=at, actor=SYSTEM)

    baseline(base, complain)
    current(now, complain)
    assert run_twice() == ({"risk_warnings": 1} if alerts else {})
    rows = raised(warnings.COMPLAINT_SPIKE)
    assert len(rows) == alerts and len(messages()) == alerts
    if alerts:
        assert rows[0].data["scope"] == "category=fraud" and "called twice" not in str(rows[0].data)


def test_two_workers_on_one_window_raise_one_alert():
    current(15, signup)
    assert warnings.warnings_due(now=NOW) == {"risk_warnings": 1}
    cache.clear()  # another process: it has not judged this window yet
    assert warnings.warnings_due(now=NOW) == {}
    assert EarlyWarning.objects.count() == 1 and len(raised(warnings.SIGNUP_SPIKE)) == 1


def test_the_next_window_is_judged_again():
    current(15, signup)
    warnings.warnings_due(now=NOW)
    for i in range(15):
        signup(WINDOW_START + timedelta(minutes=10, seconds=10 + i))
    assert warnings.warnings_due(now=NOW + timedelta(minutes=10)) == {"risk_warnings": 1}


# --- the API -----------------------------------------------------------------------------------------


def test_api_records_a_complaint_with_the_storefront_key(api_as):
    client = api_as(Role.INTEGRATION)
    response = client.post_json(
        "/api/v1/risk/complaints",
        {
            "category": "payment",
            "subject_ref": "SO-1",
            "member_ref": "U1",
            "channel": "app",
            "note": "charged twice",
        },
    )
    assert response.status_code == 201, response.content
    complaint = Complaint.objects.get(pk=response.json()["id"])
    assert (complaint.category, complaint.subject_ref, complaint.channel) == ("payment", "SO-1", "app")


@pytest.mark.parametrize(
    ("role", "body", "status"),
    [
        (Role.INTEGRATION, {"category": "nonsense"}, 422),
        (Role.INTEGRATION, {"category": "fraud", "member_ref": "a b"}, 422),
        (Role.INTEGRATION, {"category": "fraud", "extra": 1}, 422),
        (Role.SUPPORT, {"category": "fraud"}, 403),
    ],
)
def test_api_refuses(api_as, role, body, status):
    response = api_as(role).post_json("/api/v1/risk/complaints", body)
    assert response.status_code == status, response.content
    assert Complaint.objects.count() == 0


def test_the_console_reads_recent_warnings_newest_first():
    current(15, signup)
    warnings.warnings_due(now=NOW)
    for i in range(15):
        signup(WINDOW_START + timedelta(minutes=10, seconds=10 + i), channel="app")
    warnings.warnings_due(now=NOW + timedelta(minutes=10))
    with translation.override("zh-hans"):
        recent = warnings.warnings_recent()
    assert [w["scope"] for w in recent] == ["campaign=spring channel=app", "campaign=spring channel=h5"]
    assert (
        recent[0]["title"] == "报名量激增" and recent[0]["alert_id"] == raised(warnings.SIGNUP_SPIKE)[-1].pk
    )


def test_the_worker_runs_the_job_and_prunes_old_order_facts():
    from yunying.core.registry import periodic_jobs
    from yunying.risk.jobs import hits_prune_due

    assert periodic_jobs()["risk.warnings"] is warnings.warnings_due
    fact(OrderFactKind.REFUNDED, datetime.now(UTC) - timedelta(hours=3))  # older than baseline + 2 windows
    fact(OrderFactKind.REFUNDED, datetime.now(UTC) - timedelta(minutes=30))
    assert hits_prune_due().get("money_facts_pruned") == 1
    assert MoneyFact.objects.count() == 1
