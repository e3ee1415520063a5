"""Request bodies and the problem+json assertion shared by the API tests."""

from __future__ import annotations

from typing import Any

from tests.conftest import window
from tests.members.factories import mobile

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "code"}


def assert_problem(response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this HTTP status and stable code; returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_MEMBERS
    assert (body["status"], body["code"]) == (status, code)
    assert body["type"] == f"https://yunying.dev/problems/{code}"
    assert body["title"] and body["detail"]
    return body


def campaigns_url(campaign_id: int | None = None, action: str = "") -> str:
    url = "/api/v1/campaigns" if campaign_id is None else f"/api/v1/campaigns/{campaign_id}"
    return f"{url}/{action}" if action else url


def signups_url(campaign_id: int, signup_id: int | None = None, action: str = "") -> str:
    url = f"/api/v1/campaigns/{campaign_id}/signups"
    if signup_id is not None:
        url = f"{url}/{signup_id}"
    return f"{url}/{action}" if action else url


def campaign_payload(**overrides: Any) -> dict[str, Any]:
    """A complete draft, ready to publish; instants as ISO strings."""
    values: dict[str, Any] = {
        "title": "双11 新品体验官招募",
        "theme": "双11",
        "type": "product_launch",
        "description": "抢先体验新品。",
        "rules_text": "每位会员限报名一次。",
        "reward_description": "新品一份",
        "capacity": 20,
        "channels": ["h5", "app"],
        **{k: v.isoformat() for k, v in window().items()},
    }
    values.update(overrides)
    return values


def signup_payload(n: int = 1, *, member: dict | None = None, **overrides: Any) -> dict[str, Any]:
    """Member n signing up on h5 with no answers."""
    body: dict[str, Any] = {"member": {"phone": mobile(n), **(member or {})}, "channel": "h5"}
    body.update(overrides)
    return body
