"""Prometheus metrics: sign-up outcomes and latency, outbox gauges, access, multiprocess aggregation."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from yunying.campaigns.metrics import admission_timer
from yunying.core.management.commands.serve import _metrics_dir_prepare
from yunying.notify.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
SIGNUP = {"member": {"phone": "13800138000"}, "channel": "h5"}


@pytest.fixture(autouse=True)
def _single_process(monkeypatch):
    """These tests read this process's samples, whatever the shell running them exported."""
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)


def scrape(client, **extra) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def sample(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_an_accepted_signup_moves_the_counter_and_the_latency_histogram(api, client, open_campaign):
    # given
    before = scrape(client)
    url = f"/api/v1/campaigns/{open_campaign.pk}/signups"

    # when
    response = api.post_json(url, SIGNUP)

    # then
    assert response.status_code == 201
    after = scrape(client)
    accepted = {"outcome": "accepted", "code": "confirmed"}
    assert (
        sample(after, "yunying_signups_total", **accepted)
        == sample(before, "yunying_signups_total", **accepted) + 1
    )
    count = ("yunying_admission_seconds_count", {"outcome": "accepted"})
    assert sample(after, count[0], **count[1]) == sample(before, count[0], **count[1]) + 1
    assert sample(after, "yunying_admission_seconds_bucket", outcome="accepted", le="2.0") >= 1


def test_a_refused_signup_is_counted_by_its_error_code(api, client, open_campaign):
    # given
    url = f"/api/v1/campaigns/{open_campaign.pk}/signups"
    assert api.post_json(url, SIGNUP).status_code == 201
    before = scrape(client)

    # when
    response = api.post_json(url, SIGNUP)

    # then
    assert response.status_code == 409
    assert response.json()["code"] == "signup.duplicate"
    after = scrape(client)
    refused = {"outcome": "refused", "code": "signup.duplicate"}
    assert (
        sample(after, "yunying_signups_total", **refused)
        == sample(before, "yunying_signups_total", **refused) + 1
    )
    count = ("yunying_admission_seconds_count", {"outcome": "refused"})
    assert sample(after, count[0], **count[1]) == sample(before, count[0], **count[1]) + 1


def _outbox(status: str, due_at, n: int) -> OutboxMessage:
    return OutboxMessage.objects.create(
        member_id=1,
        channel="sms",
        template="signup_confirmed",
        ref=f"signup:{n}",
        dedupe_key=f"test:{n}",
        status=status,
        due_at=due_at,
    )


def test_outbox_gauges_reflect_the_rows_in_one_query(client, db, django_assert_num_queries):
    # given
    now = timezone.now()
    _outbox("pending", now - timedelta(minutes=10), 1)  # due 10 minutes ago: the oldest waiting
    _outbox("pending", now - timedelta(minutes=1), 2)
    _outbox("pending", now + timedelta(hours=5), 3)  # a reminder for later
    _outbox("sending", now, 4)
    _outbox("failed", now - timedelta(days=1), 5)
    _outbox("sent", now - timedelta(days=2), 6)
    _outbox("cancelled", now - timedelta(days=3), 7)

    # when
    with django_assert_num_queries(1):
        samples = scrape(client)

    # then
    backlog = {
        status: sample(samples, "yunying_outbox_backlog", status=status)
        for status in ("pending", "scheduled", "sending", "failed")
    }
    assert backlog == {"pending": 2, "scheduled": 1, "sending": 1, "failed": 1}
    age = sample(samples, "yunying_outbox_oldest_pending_age_seconds")
    assert 600 <= age < 700


def test_outbox_gauges_are_zero_when_nothing_waits(client, db):
    samples = scrape(client)

    assert sample(samples, "yunying_outbox_backlog", status="pending") == 0
    assert sample(samples, "yunying_outbox_oldest_pending_age_seconds") == 0


@pytest.mark.parametrize(
    ("extra", "token", "status"),
    [
        ({}, "", 200),
        ({"REMOTE_ADDR": "::1"}, "", 200),
        ({"REMOTE_ADDR": "10.1.2.3"}, "", 403),
        ({"REMOTE_ADDR": "10.1.2.3", "HTTP_AUTHORIZATION": "Bearer "}, "", 403),
        ({"REMOTE_ADDR": "10.1.2.3", "HTTP_AUTHORIZATION": "Bearer right-token"}, "right-token", 200),
        ({"REMOTE_ADDR": "10.1.2.3", "HTTP_AUTHORIZATION": "Bearer wrong-token"}, "right-token", 403),
        ({"HTTP_X_FORWARDED_FOR": "203.0.113.7"}, "", 403),
        (
            {"HTTP_X_FORWARDED_FOR": "203.0.113.7", "HTTP_AUTHORIZATION": "Bearer right-token"},
            "right-token",
            200,
        ),
    ],
    ids=[
        "loopback",
        "loopback-ipv6",
        "remote-no-token",
        "remote-empty-token-not-configured",
        "remote-right-token",
        "remote-wrong-token",
        "through-a-proxy-no-token",
        "through-a-proxy-right-token",
    ],
)
def test_metrics_answer_loopback_or_the_token_only(client, db, settings, extra, token, status):
    # given
    settings.METRICS_TOKEN = token

    # when
    response = client.get("/metrics", **extra)

    # then
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "core.permission_denied"


def _python(code: str, env: dict[str, str | None]) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter; a None in `env` removes that variable."""
    merged = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", **env}
    env = {name: value for name, value in merged.items() if value is not None}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


OBSERVE_IN_A_WORKER = """
    import django
    django.setup()
    from yunying.campaigns.metrics import admission_observe
    admission_observe(outcome="accepted", code="waitlisted", seconds=0.003)
"""


def test_a_scrape_sums_every_worker_process(client, db, tmp_path, monkeypatch):
    # given: two processes, as granian's workers, each record one sign-up in the shared directory
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        done = _python(OBSERVE_IN_A_WORKER, env)
        assert done.returncode == 0, done.stderr
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    # when
    samples = scrape(client)

    # then
    assert sample(samples, "yunying_signups_total", outcome="accepted", code="waitlisted") == 2
    assert sample(samples, "yunying_admission_seconds_count", outcome="accepted") == 2
    assert sample(samples, "yunying_admission_seconds_bucket", outcome="accepted", le="0.005") == 2
    assert sample(samples, "yunying_outbox_backlog", status="pending") == 0  # still read from the DB


SERVE_WITHOUT_GRANIAN = """
    import os, sys
    import granian.server

    class Server:  # stands in for granian: reports what a forked worker would inherit
        def __init__(self, *args, **kwargs):
            pass

        def serve(self):
            from prometheus_client import values
            print(os.environ["PROMETHEUS_MULTIPROC_DIR"], values.ValueClass is not values.MutexValue)

    granian.server.Server = Server
    from django.core.management import execute_from_command_line
    execute_from_command_line(["yunying", "serve", "--workers", "2"])
"""


def test_serve_sets_an_empty_metrics_directory_before_prometheus_client_is_imported(tmp_path):
    # given: samples left over by a previous run
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_123.db").write_bytes(b"stale")

    # when
    done = _python(
        SERVE_WITHOUT_GRANIAN,
        {"YUNYING_VAR_DIR": str(tmp_path), "PROMETHEUS_MULTIPROC_DIR": None, "REDIS_URL": None},
    )

    # then
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"{metrics_dir} True"
    assert not (metrics_dir / "counter_123.db").exists()


def test_metrics_dir_prepare_keeps_a_directory_the_operator_chose(tmp_path, monkeypatch):
    # given
    chosen = tmp_path / "prom"
    chosen.mkdir()
    (chosen / "histogram_9.db").write_bytes(b"stale")
    (chosen / "README").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(chosen))

    # when
    path = _metrics_dir_prepare()

    # then
    assert path == str(chosen)
    assert sorted(p.name for p in chosen.iterdir()) == ["README"]


def test_an_unexpected_error_is_counted_as_error_and_re_raised():
    # given
    labels = {"outcome": "error", "code": "internal"}
    before = REGISTRY.get_sample_value("yunying_signups_total", labels) or 0

    # when
    with pytest.raises(RuntimeError), admission_timer():
        raise RuntimeError("bug")

    # then
    assert REGISTRY.get_sample_value("yunying_signups_total", labels) == before + 1
