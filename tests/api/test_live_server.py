"""Through the shipped server (`yunying serve`, granian): what Django's test client cannot show —
chunked bodies as granian hands them over, HEAD, `/`, and the Host header."""

from __future__ import annotations

import contextlib
import http.client
import json
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
