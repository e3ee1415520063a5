"""Every operator-facing service writes its audit row (S5): each public service that takes an
`actor` and changes state must reach core.audit.audit_record (itself or through the helpers it
calls), or be listed below with the reason it needs none. A new service that forgets fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.core.test_audit import OPERATOR
from yunying.core.models import AuditEntry
from yunying.core.permissions import Actor, Role
from yunying.risk.warnings import complaint_record

SRC = Path(__file__).resolve().parents[2] / "src" / "yunying"
DOMAINS = ("campaigns", "members", "commerce", "loyalty", "promotions", "risk", "analytics")

# Services that take an actor but need no audit row of their own, and why.
NOT_AUDITED = {
    "campaigns.jobs.campaigns_advance_due": "runs the per-campaign transitions, each audited",
    "campaigns.selectors.signup_search": "a read",
    "campaigns.services.admission.signup_create": "the member's own sign-up (its history records it)",
    "campaigns.services.admission.signup_risk_outcome": "called by risk case_decide, which audits",
    "campaigns.services.admission.waitlist_fill": "inside campaign_update (capacity grew), audited",
    "campaigns.services.events.signups_end": "inside campaign_cancel / finish, audited",
    "campaigns.services.events.event_record": "a member's attendance event, the member's own",
    "loyalty.brokerage.promoter_apply": "the member applies for themself",
    "loyalty.checkin.checkin_today": "the member's own check-in",
    "loyalty.ledger.points_earn": "ledger row is the trail; operator postings go through adjustments (audited)",
    "loyalty.ledger.points_spend": "the storefront's checkout (integration key, not an operator)",
    "loyalty.ledger.points_restore": "the storefront's checkout (integration key, not an operator)",
    "loyalty.ledger.points_reverse": "follows an order refund, audited by commerce",
    "loyalty.ledger.points_gift": "a member gives to a member",
    "loyalty.referrals.referral_risk_outcome": "calls referral_decide, which audits",
    "members.services.member_lookup": "calls member_search / member_reveal, which audit",
    "promotions.services.coupon_claim": "the member's own claim",
    "promotions.services.code_redeem": "the member's own redemption",
    "promotions.services.coupon_buy_with_points": "the member's own purchase",
    "promotions.services.coupon_claim_risk_outcome": "called by risk case_decide, which audits",
    "risk.services.cases_decide": "calls case_decide per case, which audits",
    "risk.services.case_close_for": "inside the subject's decision (sign-up confirm, referral), audited",
}


def _functions() -> dict[str, tuple[str, ast.FunctionDef, bool]]:
    """Every module-level function of the domain apps: qualified name -> (short name, node, public)."""
    found = {}
    for app in DOMAINS:
        for path in sorted((SRC / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = ".".join(path.relative_to(SRC).with_suffix("").parts)
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, ast.FunctionDef):
                    found[f"{module}.{node.name}"] = (node.name, node, not node.name.startswith("_"))
    return found


def _calls(node: ast.AST) -> set[str]:
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def _reaching_audit(functions) -> set[str]:
    """Short names of functions that call audit_record, directly or through other functions."""
    # Keyed by qualified name: two functions of one short name (campaigns' and privacy's
    # signups_export) must not hide each other.
    calls = {qualified: (name, _calls(node)) for qualified, (name, node, _) in functions.items()}
    reach = {"audit_record"}
    while True:
        more = {name for name, called in calls.values() if called & reach} - reach
        if not more:
            return reach
        reach |= more


def test_every_operator_service_reaches_audit_record_or_says_why_not():
    functions = _functions()
    reach = _reaching_audit(functions)
    missing = []
    for qualified, (name, node, public) in functions.items():
        arguments = [a.arg for a in node.args.args + node.args.kwonlyargs]
        if public and "actor" in arguments and name not in reach and qualified not in NOT_AUDITED:
            missing.append(qualified)
    assert missing == [], (
        f"{missing}: operator services without an audit row: add audit_record or a NOT_AUDITED reason"
    )


def test_the_exemptions_name_services_that_exist():
    assert set(NOT_AUDITED) <= set(_functions())


@pytest.mark.django_db
def test_a_complaint_recorded_by_customer_service_is_audited_without_its_note():
    # when
    complaint = complaint_record(
        category="fraud", subject_ref="O-1", note="会员说 13800000000", actor=OPERATOR
    )
    # then
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_type, entry.object_id) == (
        "risk.complaint",
        "complaint",
        str(complaint.pk),
    )
    assert entry.after == {"category": "fraud", "channel": "", "subject_ref": "O-1"}
    assert "13800000000" not in str(entry.before) + str(entry.after)


STRATEGIST = Actor(kind="user", id=3, label="策略 小周", role=Role.STRATEGY)


def _tag_create():
    from yunying.members.tags import tag_create

    return tag_create(name="高价值", actor=STRATEGIST)


def _checkin_rule_save():
    from yunying.loyalty.checkin import checkin_rule_save

    return checkin_rule_save(
        rewards=[5, 10], missed_policy="reset", grace_days=0, cycle_days=0, points_expire_days=0, enabled=True,
        actor=STRATEGIST,
    )  # fmt: skip


def _list_entry_add():
    from yunying.risk.services import list_entry_add

    return list_entry_add(kind="phone", value="13712345678", verdict="block", note="黑产", actor=STRATEGIST)


def _complaint():
    return complaint_record(category="fraud", subject_ref="O-2", actor=STRATEGIST)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("act", "action"),
    [
        (_tag_create, "tag.create"),
        (_checkin_rule_save, "loyalty.checkin_rule_save"),
        (_list_entry_add, "risk.list_add"),
        (_complaint, "risk.complaint"),
    ],
    ids=["members", "loyalty", "risk-list", "risk-complaint"],
)
def test_an_operator_action_writes_exactly_one_audit_row_with_no_clear_phone(act, action):
    # when
    act()
    # then
    (entry,) = AuditEntry.objects.all()
    assert (entry.action, entry.actor_label) == (action, "策略 小周")
    assert "13712345678" not in str(entry.before) + str(entry.after) + entry.reason
