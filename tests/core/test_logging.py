"""Structured logs: one JSON object per line, one line per request, no personal data or credentials."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from yunying.core.logs import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]
PHONE = "13800138000"


def json_lines(records) -> list[dict]:
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in records]
    assert all("\n" not in line for line in lines)
    return [json.loads(line) for line in lines]


def test_a_request_is_logged_as_one_json_line_without_query_string_or_credentials(api, caplog):
    # given
    caplog.set_level(logging.INFO)
    token = api.defaults["HTTP_AUTHORIZATION"].removeprefix("Bearer ")

    # when
    response = api.get(f"/api/v1/campaigns?phone={PHONE}&name=张三")

    # then
    assert response.status_code == 200
    request_records = [r for r in caplog.records if r.name == "yunying.request"]
    assert len(request_records) == 1
    [line] = json_lines(request_records)
    assert line["level"] == "INFO"
    assert line["logger"] == "yunying.request"
    assert line["message"].startswith("GET /api/v1/campaigns 200 ")
    assert line["method"] == "GET"
    assert line["path"] == "/api/v1/campaigns"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["time"].endswith("+00:00")
    text = json.dumps(line, ensure_ascii=False)
    for secret in (PHONE, "张三", "phone=", token, "Bearer"):
        assert secret not in text


def test_djangos_own_request_warnings_carry_no_query_string(api, caplog):
    # given: Django logs 4xx answers with the HttpRequest attached, whose repr holds the query string
    caplog.set_level(logging.INFO)

    # when
    response = api.get(f"/api/v1/campaigns/999999?phone={PHONE}")

    # then
    assert response.status_code == 404
    lines = json_lines(caplog.records)
    assert {line["logger"] for line in lines} >= {"yunying.request", "django.request"}
    for line in lines:
        assert "request" not in line
        assert PHONE not in json.dumps(line, ensure_ascii=False)


def test_health_probes_are_logged_at_debug_only(client, db, caplog):
    caplog.set_level(logging.DEBUG, logger="yunying.request")

    client.get("/healthz")

    [record] = [r for r in caplog.records if r.name == "yunying.request"]
    assert record.levelno == logging.DEBUG


def test_extras_and_exceptions_are_json_and_chinese_stays_readable():
    # given
    logger = logging.getLogger("yunying.test")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logger.makeRecord(
            "yunying.test",
            logging.ERROR,
            __file__,
            1,
            "报名失败 %s",
            ("x",),
            sys.exc_info(),
            extra={"campaign_id": 7},
        )

    # when
    line = JsonFormatter().format(record)

    # then
    assert "报名失败" in line
    data = json.loads(line)
    assert list(data)[:4] == ["time", "level", "logger", "message"]
    assert data["message"] == "报名失败 x"
    assert data["campaign_id"] == 7
    assert "ValueError: boom" in data["exc_info"]


LOG_ONE_LINE = """
    import logging
    import django
    django.setup()
    logging.getLogger("yunying.check").info("你好", extra={"campaign_id": 7})
"""


@pytest.mark.parametrize(
    ("env", "json_expected"),
    [
        ({"YUNYING_ENV": "production"}, True),
        ({"YUNYING_ENV": "production", "YUNYING_LOG_FORMAT": "text"}, False),
        ({"YUNYING_ENV": "", "YUNYING_LOG_FORMAT": "json"}, True),
        ({"YUNYING_ENV": ""}, False),
    ],
    ids=["production-default-json", "production-text", "development-json", "development-default-text"],
)
def test_the_log_format_follows_the_environment(env, json_expected):
    # given: the real settings module, configured as the deployment would be
    run_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yunying.settings",
        "YUNYING_SECRET_KEY": "test-only-secret-key-not-used-anywhere-else",
        "YUNYING_PII_KEYS": "t1:dGVzdC1vbmx5LXBpaS1rZXktb25l",
        "YUNYING_BLIND_INDEX_KEY": "test-only-blind-index-key",
        "YUNYING_VAR_DIR": str(ROOT / "var" / "test"),
        "YUNYING_LOG_FORMAT": "",
        **env,
    }
    if not run_env["YUNYING_LOG_FORMAT"]:
        del run_env["YUNYING_LOG_FORMAT"]

    # when
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(LOG_ONE_LINE)],
        cwd=ROOT,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # then
    assert done.returncode == 0, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    if json_expected:
        data = json.loads(line)
        assert (data["level"], data["logger"], data["message"], data["campaign_id"]) == (
            "INFO",
            "yunying.check",
            "你好",
            7,
        )
    else:
        assert line.endswith("INFO yunying.check: 你好")


def test_records_are_formatted_and_written_off_the_thread_that_logs():
    import io
    import threading

    from yunying.core.logs import BackgroundHandler

    # given: a formatter that notes which thread runs it
    formatted_in = []

    class Spy(logging.Formatter):
        def format(self, record):
            formatted_in.append(threading.current_thread().name)
            return super().format(record)

    stream = io.StringIO()
    handler = BackgroundHandler(stream)
    handler.setFormatter(Spy("%(message)s"))
    logger = logging.getLogger("yunying.test.background")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        # when
        logger.warning("第 %s 行", 1)
        handler.flush()
    finally:
        logger.removeHandler(handler)
    # then: written whole, and not by the thread that logged
    assert stream.getvalue() == "第 1 行\n"
    assert formatted_in and threading.current_thread().name not in formatted_in


@pytest.mark.parametrize(
    ("offered", "kept"),
    [("req-0f3a9c2e", True), ("", False), ("x" * 65, False), ("有 text\n", False), ("short", False)],
    ids=["sane", "none", "too-long", "text", "too-short"],
)
def test_each_request_has_an_id_logged_and_echoed_a_proxys_kept_when_sane(api, caplog, offered, kept):
    caplog.set_level(logging.INFO)
    headers = {"HTTP_X_REQUEST_ID": offered} if offered else {}
    response = api.get("/api/v1/campaigns", **headers)
    [line] = json_lines([r for r in caplog.records if r.name == "yunying.request"])
    assert response["X-Request-ID"] == line["request_id"]
    assert (line["request_id"] == offered) is kept
    assert re.fullmatch(r"[A-Za-z0-9._-]{8,64}", line["request_id"])
