"""Through the shipped server (`yunying serve`, granian): what Django's test client cannot show —
chunked bodies as granian hands them over, HEAD, `/`, and the Host header."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
from urllib.parse import urlsplit

import pytest

from tests.api.helpers import campaign_payload, signup_payload

pytestmark = pytest.mark.xdist_group("live")


def _request(server, method, path, body=None, *, headers=None, chunked=False, auth=True):
    """One request on a fresh connection; returns (status, headers, parsed or raw body)."""
    netloc = urlsplit(server.url)
    conn = http.client.HTTPConnection(netloc.hostname, netloc.port, timeout=30)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if auth:
        all_headers["Authorization"] = f"Bearer {server.token}"
    if chunked:
        all_headers["Transfer-Encoding"] = "chunked"
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        # several chunks, as a streaming client sends them
        body = iter([data[i : i + 1000] for i in range(0, len(data), 1000)])
    elif body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
    # The server may answer (413) and close before the whole body is sent: read its answer anyway.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        conn.request(method, path, body=body, headers=all_headers, encode_chunked=chunked)
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    content_type = response.getheader("Content-Type", "")
    parsed = json.loads(raw) if raw and "json" in content_type else raw
    return response.status, response, parsed


def _published_campaign(server) -> int:
    status, _, body = _request(server, "POST", "/api/v1/campaigns", campaign_payload(capacity=100))
    assert status == 201, body
    campaign_id = body["id"]
    status, _, body = _request(server, "POST", f"/api/v1/campaigns/{campaign_id}/publish")
    assert status == 200, body
    return campaign_id


def test_a_chunked_sign_up_is_read_whole(yunying_server):
    # given
    campaign_id = _published_campaign(yunying_server)
    # when: the body comes chunked, without Content-Length
    status, _, body = _request(
        yunying_server, "POST", f"/api/v1/campaigns/{campaign_id}/signups", signup_payload(7), chunked=True
    )
    # then
    assert status == 201, body
    assert body["status"] == "confirmed"


def test_a_chunked_body_over_the_limit_is_413(yunying_server):
    # given: 70 KB, over the 64 KiB limit, in 1 KB chunks
    campaign_id = _published_campaign(yunying_server)
    payload = signup_payload(8, utm={"source": "x" * 70_000})
    # when
    status, response, body = _request(
        yunying_server, "POST", f"/api/v1/campaigns/{campaign_id}/signups", payload, chunked=True
    )
    # then
    assert status == 413, body
    assert response.getheader("Content-Type") == "application/problem+json"
    assert body["code"] == "core.body_too_large"


@pytest.mark.parametrize("path", ["/api/v1/campaigns", "/api/v1/campaigns/1", "/api/v1/campaigns/1/stats"])
def test_head_answers_as_get_without_a_body(yunying_server, path):
    # given
    _published_campaign(yunying_server)
    get_status, get_response, _ = _request(yunying_server, "GET", path)
    # when
    status, response, body = _request(yunying_server, "HEAD", path)
    # then
    assert status == get_status == 200
    assert body == b""
    assert response.getheader("Content-Type") == get_response.getheader("Content-Type")


@pytest.mark.parametrize(
    ("path", "auth", "status", "code"),
    [
        ("/api/v1/campaigns/999999", True, 404, "campaign.not_found"),
        ("/api/v1/campaigns", False, 401, "core.unauthenticated"),
        ("/api/v1/nowhere", True, 404, "core.not_found"),
    ],
)
def test_head_refusals_are_problems_as_for_get(yunying_server, path, auth, status, code):
    got, response, body = _request(yunying_server, "HEAD", path, auth=auth)
    assert (got, body) == (status, b"")
    assert response.getheader("Content-Type") == "application/problem+json"
    # the same refusal, with its body, by GET
    assert _request(yunying_server, "GET", path, auth=auth)[2]["code"] == code


def test_the_root_leads_to_the_console(yunying_server):
    status, response, _ = _request(yunying_server, "GET", "/", auth=False)
    assert status == 302
    assert response.getheader("Location") == "/console/"


@pytest.mark.parametrize("method", ["GET", "POST", "HEAD"])
def test_a_host_not_allowed_is_a_problem_on_api_paths(yunying_server, method):
    # when
    status, response, body = _request(
        yunying_server, method, "/api/v1/campaigns", {} if method == "POST" else None,
        headers={"Host": "evil.example"},
    )  # fmt: skip
    # then
    assert status == 400
    assert response.getheader("Content-Type") == "application/problem+json"
    if method != "HEAD":
        assert body["code"] == "core.host_not_allowed"


def test_a_second_server_on_a_taken_port_refuses_to_start(yunying_server, tmp_path):
    # given: the live server holds its port (granian binds with SO_REUSEPORT)
    import subprocess

    from bench.harness import BIN, REPO

    port = urlsplit(yunying_server.url).port
    # when
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="yunying.settings", YUNYING_VAR_DIR=str(tmp_path))
    second = subprocess.run(
        [str(BIN / "yunying"), "serve", "--port", str(port), "--workers", "1"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    # then: it stops with a clear message instead of sharing the port
    assert second.returncode != 0
    assert "already in use" in second.stderr


_ORDER = {
    "external_id": "LIVE-1",
    "member": {"phone": "+8613800009999"},
    "paid_at": "2026-12-01T10:00:00+08:00",
    "lines": [{"sku": "A", "unit_price_fen": 100, "quantity": 1, "paid_fen": 100}],
}


@pytest.mark.parametrize(
    "path, body, status, code",
    [
        ("/api/v1/orders", b"{not json", 400, "core.malformed_json"),
        ("/api/v1/orders", [1, 2], 422, "core.invalid"),
        (
            "/api/v1/orders",
            {**_ORDER, "lines": [{"sku": "A", "unit_price_fen": 1e30, "quantity": 1, "paid_fen": 1}]},
            422,
            "core.invalid",
        ),
        (
            "/api/v1/orders",
            {**_ORDER, "lines": [{"sku": "A", "unit_price_fen": 10**30, "quantity": 1, "paid_fen": 1}]},
            422,
            "core.invalid",
        ),
        ("/api/v1/orders", {**_ORDER, "paid_at": "2026-13-45T99:00:00+08:00"}, 422, "core.invalid"),
        ("/api/v1/orders", {**_ORDER, "member": {"phone": "\u0000"}}, 422, "core.invalid"),
        (
            "/api/v1/orders",
            {**_ORDER, "lines": [{"sku": "\u0000", "unit_price_fen": 1, "quantity": 1, "paid_fen": 1}]},
            422,
            "core.invalid",
        ),
        (
            "/api/v1/orders/NOPE/refunds",
            {"external_id": "R", "occurred_at": "2026-12-01T10:00:00+08:00"},
            404,
            "order.not_found",
        ),
        ("/api/v1/orders/%2Fx/cancel", {"occurred_at": "2026-12-01T10:00:00+08:00"}, 404, "core.not_found"),
    ],
    ids=[
        "not json",
        "array",
        "float overflow",
        "huge int",
        "bad date",
        "nul phone",
        "nul sku",
        "no order",
        "bad id",
    ],
)
def test_bad_order_input_through_the_server_is_a_problem_never_a_500(
    yunying_server, path, body, status, code
):
    # when
    got, response, parsed = _request(yunying_server, "POST", path, body)
    # then
    assert (got, parsed["code"]) == (status, code), parsed
    assert response.getheader("Content-Type") == "application/problem+json"
