"""Roles of the operations team and integrators, and what each may do (S2, least privilege).

Every API handler names the permission it needs; `require` checks it on the server. Roles follow the
three layers of an operations team (strategy / execution / support) plus integrators and auditors.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from yunying.core.errors import CoreError, DomainError


class Role(StrEnum):
    STRATEGY = "strategy"  # 总监: plans, approves, may see personal data
    EXECUTION = "execution"  # 运营专员: runs campaigns and reviews sign-ups, sees data masked
    SUPPORT = "support"  # 客服: helps members, may reveal contact details (logged)
    INTEGRATION = "integration"  # storefront / app: signs members up, reads published campaigns
    AUDITOR = "auditor"  # 审计: reads the audit trail and the personal-data access log, nothing else


class Perm(StrEnum):
    CAMPAIGN_VIEW = "campaign.view"
    CAMPAIGN_EDIT = "campaign.edit"
    CAMPAIGN_PUBLISH = "campaign.publish"
    SIGNUP_CREATE = "signup.create"
    SIGNUP_VIEW = "signup.view"
    SIGNUP_REVIEW = "signup.review"
    SIGNUP_WITHDRAW = "signup.withdraw"
    SIGNUP_EXPORT = "signup.export"
    STATS_VIEW = "stats.view"
    PII_REVEAL = "pii.reveal"  # one member's data in clear (a sign-up, a look-up)
    PII_REVEAL_BULK = "pii.reveal_bulk"  # many members' in clear (lists, exports): strategy only, alerted
    SIGNUP_STATUS = "signup.status"  # a member's own status and draw result, no personal data
    MEMBER_LOOKUP = "member.lookup"  # find a member by phone or external id (masked)
    MEMBER_EDIT = "member.edit"  # correct a member's profile, with a reason
    MEMBER_LINK = "member.link"  # bind a phone or external id to a known member (audited)
    MEMBER_PHONE_REPLACE = (
        "member.phone_replace"  # bind or replace a member's phone: their sign-in (strategy only)
    )
    MEMBER_VIEW = "member.view"  # the member list and 360 page, masked (M7)
    MEMBER_TAG = "member.tag"  # put manual tags on members and take them off (audited)
    TAG_MANAGE = "tag.manage"  # create, rename and delete manual tags (audited)
    AUDIT_VIEW = "audit.view"  # the audit trail and the personal-data access log
    # Key rotation's progress and which keys still seal data; read-only (the worker and `yunying
    # pii-keys rotate` on the host do the rotating): strategy, and the auditor who checks it.
    PII_KEYS_VIEW = "pii.keys_view"
    PII_EXPORT_APPROVE = "pii.export_approve"  # approve another operator's bulk export in clear (strategy)
    # The register of bulk exports in clear: who asked, for what, who approved, when it was used. No
    # personal data, no decision: the auditor reads it, only pii.export_approve decides.
    PII_EXPORT_VIEW = "pii.export_view"
    APIKEY_MANAGE = "apikey.manage"  # create, list and revoke integration keys
    ATTENDANCE_MARK = "attendance.mark"  # check members in at the event (C10)
    ORDER_INGEST = "order.ingest"  # record orders, refunds and cancellations from the storefront
    ORDER_VIEW = "order.view"  # read an order fact (no personal data: the member is an id)
    PROFILING_EDIT = "profiling.edit"  # define the questionnaires members are asked (M2)
    IMPORT_RUN = "import.run"  # upload, check and import members and orders from CSV/XLSX
    SEGMENT_VIEW = "segment.view"  # segments, RFM grid, lifecycle distribution (aggregates, masked samples)
    SEGMENT_MANAGE = "segment.manage"  # create, edit and recompute segments; message a segment
    LOYALTY_VIEW = "loyalty.view"  # a member's level, points, lots and ledger; liabilities (no personal data)
    LOYALTY_SPEND = (
        "loyalty.spend"  # spend and give back points at checkout, check in, for a member (storefront)
    )
    LOYALTY_ADJUST = "loyalty.adjust"  # add or deduct a member's points with a reason (audited)
    LOYALTY_APPROVE = "loyalty.approve"  # approve an adjustment above the threshold (a second person)
    LOYALTY_CONFIGURE = "loyalty.configure"  # tiers, earning rules, check-in, tasks and referral rewards
    BROKERAGE_VIEW = "brokerage.view"  # promoters, their ranking, commissions and statements
    BROKERAGE_MANAGE = "brokerage.manage"  # commission rules, promoters, payouts
    BROKERAGE_BIND = "brokerage.bind"  # bind a member to the promoter who brought them (storefront)
    PROMOTION_VIEW = "promotion.view"  # promotions, coupons, budgets, redemptions and ROI (no personal data)
    PROMOTION_MANAGE = "promotion.manage"  # create, edit, start and stop promotions; issue coupons (audited)
    BUDGET_MANAGE = "budget.manage"  # set budgets and ask for top-ups
    BUDGET_APPROVE = "budget.approve"  # approve a budget top-up someone else asked for (two-person rule)
    QUOTE_CREATE = "quote.create"  # price a cart for a member (storefront)
    COUPON_CLAIM = "coupon.claim"  # list a member's coupons and claim one for them (storefront)
    RISK_VIEW = (
        "risk.view"  # decisions, review queue, alerts, lists, rules and the register (no personal data)
    )
    RISK_REVIEW = "risk.review"  # approve or reject review cases
    RISK_CONFIGURE = "risk.configure"  # rule versions, allow and block lists, the risk register
    RISK_CHALLENGE = "risk.challenge"  # storefront: report that a person passed the extra verification
    PRIVACY_REQUESTS = "privacy.requests"  # members' data requests: record, carry out, reject (PIPL 44-47)
    BREACH_VIEW = "breach.view"  # breach incidents, their runbook clock and report (counts, masked samples)
    BREACH_MANAGE = "breach.manage"  # open incidents, run their steps, notify and compensate members (S6)


# What each permission lets one do, as the console names it (a 403 page, role tables). Every Perm
# has one (tests/core/test_permissions_labels.py).
PERM_LABELS: dict[Perm, object] = {
    Perm.CAMPAIGN_VIEW: _("See campaigns"),
    Perm.CAMPAIGN_EDIT: _("Create and edit campaigns"),
    Perm.CAMPAIGN_PUBLISH: _("Publish campaigns"),
    Perm.SIGNUP_CREATE: _("Sign members up"),
    Perm.SIGNUP_VIEW: _("See sign-ups"),
    Perm.SIGNUP_REVIEW: _("Review sign-ups"),
    Perm.SIGNUP_WITHDRAW: _("Withdraw sign-ups"),
    Perm.SIGNUP_EXPORT: _("Export sign-ups"),
    Perm.STATS_VIEW: _("See campaign statistics"),
    Perm.PII_REVEAL: _("Reveal one member's personal data"),
    Perm.PII_REVEAL_BULK: _("Reveal many members' personal data"),
    Perm.SIGNUP_STATUS: _("Read a member's sign-up status"),
    Perm.MEMBER_LOOKUP: _("Look members up"),
    Perm.MEMBER_EDIT: _("Correct member profiles"),
    Perm.MEMBER_LINK: _("Link member identities"),
    Perm.MEMBER_PHONE_REPLACE: _("Bind or replace a member's phone number"),
    Perm.AUDIT_VIEW: _("Read the audit and access logs"),
    Perm.PII_KEYS_VIEW: _("Watch the rotation of the personal-data keys"),
    Perm.PII_EXPORT_APPROVE: _("Approve another operator's export of personal data in clear"),
    Perm.PII_EXPORT_VIEW: _("Read the register of exports of personal data in clear"),
    Perm.APIKEY_MANAGE: _("Manage API keys"),
    Perm.ATTENDANCE_MARK: _("Check members in"),
    Perm.ORDER_INGEST: _("Record orders from the storefront"),
    Perm.ORDER_VIEW: _("See orders"),
    Perm.MEMBER_VIEW: _("See members and their 360 page"),
    Perm.MEMBER_TAG: _("Tag members"),
    Perm.TAG_MANAGE: _("Manage tags"),
    Perm.PROFILING_EDIT: _("Define profile questionnaires"),
    Perm.IMPORT_RUN: _("Import members and orders"),
    Perm.SEGMENT_VIEW: _("See segments and RFM"),
    Perm.SEGMENT_MANAGE: _("Manage segments and message them"),
    Perm.LOYALTY_VIEW: _("See members' levels and points"),
    Perm.LOYALTY_SPEND: _("Spend and give back members' points at checkout"),
    Perm.LOYALTY_ADJUST: _("Adjust members' points"),
    Perm.LOYALTY_APPROVE: _("Approve large points adjustments"),
    Perm.LOYALTY_CONFIGURE: _("Configure tiers, points rules and incentives"),
    Perm.BROKERAGE_VIEW: _("See promoters and commissions"),
    Perm.BROKERAGE_MANAGE: _("Manage promoters, commission rules and payouts"),
    Perm.BROKERAGE_BIND: _("Bind members to the promoters who brought them"),
    Perm.PROMOTION_VIEW: _("See promotions, coupons and budgets"),
    Perm.PROMOTION_MANAGE: _("Manage promotions and issue coupons"),
    Perm.BUDGET_MANAGE: _("Set budgets and ask for top-ups"),
    Perm.BUDGET_APPROVE: _("Approve budget top-ups"),
    Perm.QUOTE_CREATE: _("Price carts for members"),
    Perm.COUPON_CLAIM: _("Claim coupons for members"),
    Perm.RISK_VIEW: _("See risk decisions and alerts"),
    Perm.RISK_REVIEW: _("Review risk cases"),
    Perm.RISK_CONFIGURE: _("Configure risk rules and lists"),
    Perm.RISK_CHALLENGE: _("Report passed risk verifications"),
    Perm.PRIVACY_REQUESTS: _("Handle members' requests about their data"),
    Perm.BREACH_VIEW: _("See data breach incidents"),
    Perm.BREACH_MANAGE: _("Run the data breach response"),
}


def perm_label(perm: str) -> str:
    """A permission as people read it; an unknown code as itself."""
    try:
        return str(PERM_LABELS[Perm(perm)])
    except (ValueError, KeyError):
        return perm


ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.STRATEGY: frozenset(Perm),
    Role.EXECUTION: frozenset(
        {
            Perm.CAMPAIGN_VIEW,
            Perm.CAMPAIGN_EDIT,
            Perm.SIGNUP_CREATE,
            Perm.SIGNUP_VIEW,
            Perm.SIGNUP_REVIEW,
            Perm.SIGNUP_WITHDRAW,
            Perm.SIGNUP_EXPORT,
            Perm.STATS_VIEW,
            Perm.ATTENDANCE_MARK,
            Perm.ORDER_VIEW,
            Perm.MEMBER_VIEW,
            Perm.MEMBER_TAG,
            Perm.TAG_MANAGE,
            Perm.PROFILING_EDIT,
            Perm.IMPORT_RUN,
            Perm.SEGMENT_VIEW,
            Perm.SEGMENT_MANAGE,
            Perm.LOYALTY_VIEW,
            Perm.LOYALTY_ADJUST,
            Perm.BROKERAGE_VIEW,
            Perm.PROMOTION_VIEW,
            Perm.PROMOTION_MANAGE,
            Perm.BUDGET_MANAGE,
            Perm.RISK_VIEW,
            Perm.RISK_REVIEW,
        }
    ),
    Role.SUPPORT: frozenset(
        {
            Perm.CAMPAIGN_VIEW,
            Perm.SIGNUP_VIEW,
            Perm.SIGNUP_WITHDRAW,
            Perm.STATS_VIEW,
            Perm.PII_REVEAL,
            Perm.MEMBER_LOOKUP,
            Perm.MEMBER_EDIT,
            Perm.MEMBER_LINK,
            Perm.PRIVACY_REQUESTS,  # support takes members' calls and e-mails, and answers their requests
            Perm.ATTENDANCE_MARK,
            Perm.ORDER_VIEW,
            Perm.MEMBER_VIEW,
            Perm.MEMBER_TAG,
            Perm.LOYALTY_VIEW,
            Perm.LOYALTY_ADJUST,
            Perm.PROMOTION_VIEW,
            Perm.RISK_VIEW,
        }
    ),
    # The storefront's key also reports its orders (order facts flow in from the storefront).
    Role.INTEGRATION: frozenset(
        {
            Perm.CAMPAIGN_VIEW,
            Perm.SIGNUP_CREATE,
            Perm.SIGNUP_WITHDRAW,
            Perm.SIGNUP_STATUS,
            Perm.ORDER_INGEST,
            Perm.ORDER_VIEW,
            Perm.LOYALTY_VIEW,
            Perm.LOYALTY_SPEND,
            Perm.BROKERAGE_VIEW,  # a promoter's own summary, shown in the storefront's app
            Perm.BROKERAGE_BIND,
            Perm.QUOTE_CREATE,
            Perm.COUPON_CLAIM,
            Perm.RISK_CHALLENGE,
        }
    ),
    # Who touched whose data, and nothing of the data itself (least privilege, S2): the trails, the
    # register of exports in clear and the key rotation's progress, to read; no decision, no action.
    Role.AUDITOR: frozenset({Perm.AUDIT_VIEW, Perm.PII_EXPORT_VIEW, Perm.PII_KEYS_VIEW}),
}


@dataclass(frozen=True)
class Actor:
    """Who does something: recorded on every event and access-log row."""

    kind: str  # "api_key", "user", "member", "system"
    id: int | None
    label: str
    role: Role | None = None
    owner: str = ""  # an API key's holder (a console user name), "" when it names none

    def can(self, perm: Perm) -> bool:
        if self.kind == "system":
            return True
        return self.role is not None and perm in ROLE_PERMISSIONS[self.role]

    def require(self, perm: Perm) -> None:
        """Raises: core.permission_denied."""
        if not self.can(perm):
            raise DomainError(CoreError.PERMISSION_DENIED, permission=str(perm))


SYSTEM = Actor(kind="system", id=None, label="system")


def command_line_actor() -> Actor:
    """Whoever runs a `yunying` command on the host: named in the audit trail by their login."""
    import getpass

    return Actor(kind="system", id=None, label=f"command line ({getpass.getuser()})"[:150])
