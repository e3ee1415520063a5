"""The console's export approvals: a decision whose note does not fit is refused whole (outside
review: it used to drop the note and take the decision anyway)."""

from __future__ import annotations

import pytest

from tests.campaigns.factories import CampaignFactory
from yunying.core.models import AuditEntry
from yunying.core.permissions import Actor, Role
from yunying.privacy.exports import Scope, approval_request
from yunying.privacy.models import ExportApproval

pytestmark = pytest.mark.django_db


def _asked() -> ExportApproval:
    alice = Actor(kind="user", id=9101, label="alice", role=Role.STRATEGY)
    campaign = CampaignFactory(status="published")
    return approval_request(actor=alice, scope=Scope(campaign.pk, "csv"), purpose="prize_delivery")


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_note_too_long_refuses_the_decision_and_writes_nothing(console_as, decision):
    approval = _asked()
    client = console_as(Role.STRATEGY)
    response = client.post(
        f"/console/audit/exports/{approval.pk}/{decision}/", {"note": "注" * 501}, follow=True
    )
    assert response.status_code == 200 and "500" in response.content.decode()
    assert ExportApproval.objects.get().state == "requested"
    assert not AuditEntry.objects.filter(action__in=["export.approve", "export.reject"]).exists()
    client.post(f"/console/audit/exports/{approval.pk}/{decision}/", {"note": "核对无误"})
    decided = ExportApproval.objects.get()
    assert decided.state == ("approved" if decision == "approve" else "rejected")
    assert decided.decision_note == "核对无误"
