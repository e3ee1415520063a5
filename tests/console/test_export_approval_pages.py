"""The console's export approvals: a decision whose note does not fit is refused whole (outside
review: it used to drop the note and take the decision anyway); the auditor reads the queue and the
register of every request but decides nothing (outside review: the auditor got 403)."""

from __future__ import annotations

import pytest

from tests.campaigns.factories import CampaignFactory
from yunying.core.models import AuditEntry
from yunying.core.permissions import ROLE_PERMISSIONS, Actor, Perm, Role
from yunying.privacy.exports import Scope, approval_decide, approval_request
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


PAGE = "/console/audit/exports/"


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.STRATEGY, 200), (Role.AUDITOR, 200), (Role.EXECUTION, 403), (Role.SUPPORT, 403)],
)
def test_the_role_matrix_of_the_page(console_as, role, status):
    _asked()
    assert console_as(role).get(PAGE).status_code == status


@pytest.mark.parametrize("decision", ["approve", "reject"])
@pytest.mark.parametrize("role", [Role.AUDITOR, Role.EXECUTION, Role.SUPPORT])
def test_only_who_may_approve_decides(console_as, role, decision):
    approval = _asked()
    response = console_as(role).post(f"{PAGE}{approval.pk}/{decision}/", {"note": ""})
    assert response.status_code == 403
    assert ExportApproval.objects.get().state == "requested"
    assert not AuditEntry.objects.filter(action__in=["export.approve", "export.reject"]).exists()


def test_the_auditor_reads_the_queue_and_the_register_without_buttons(console_as):
    # given: one request waiting, one approved
    waiting = _asked()
    decided = _asked()
    bob = Actor(kind="user", id=9102, label="bob", role=Role.STRATEGY)
    approval_decide(actor=bob, approval_id=decided.pk, approve=True, note="核对无误")
    # when
    page = console_as(Role.AUDITOR).get(PAGE).content.decode()
    # then: both are listed, with who asked and who approved, and no way to act
    register = page.split('data-table="register"', 1)[1]
    assert f"<td>{waiting.pk}</td>" in register and f"<td>{decided.pk}</td>" in register
    assert "alice" in register and "bob" in register and "核对无误" in register
    assert "/approve/" not in page and "/reject/" not in page
    assert "等待有审批权限的操作员处理" in page
    assert "我的导出申请" not in page  # the auditor asks for no export


def test_the_audit_tabs_show_export_approvals_to_the_auditor(console_as):
    assert PAGE in console_as(Role.AUDITOR).get("/console/audit/").content.decode()


def test_whoever_may_ask_for_an_export_in_clear_can_open_the_page():
    """The page needs pii.export_view: a role with pii.reveal_bulk without it would lose its own
    requests and their download."""
    assert all(
        Perm.PII_EXPORT_VIEW in perms for perms in ROLE_PERMISSIONS.values() if Perm.PII_REVEAL_BULK in perms
    )
    assert Perm.PII_EXPORT_APPROVE not in ROLE_PERMISSIONS[Role.AUDITOR]
    assert Perm.PII_REVEAL_BULK not in ROLE_PERMISSIONS[Role.AUDITOR]
