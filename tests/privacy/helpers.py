"""Export approvals for tests: a request by the client's key, approved by a second operator."""

from __future__ import annotations

from yunying.core.permissions import Actor, Role
from yunying.privacy.exports import approval_decide

SECOND = Actor(kind="user", id=9001, label="second-approver", role=Role.STRATEGY)


def approval_for(
    client, campaign_id: int, fmt: str = "csv", *, purpose="customer_service", note="", **filters
) -> int:
    """Request an approval as `client` (an ApiClient) and have SECOND approve it; returns its id."""
    response = client.post_json(
        "/api/v1/privacy/export-approvals",
        {"campaign_id": campaign_id, "format": fmt, "purpose": purpose, "purpose_note": note, **filters},
    )
    assert response.status_code == 201, response.content
    approval_id = response.json()["id"]
    approval_decide(actor=SECOND, approval_id=approval_id, approve=True)
    return approval_id
