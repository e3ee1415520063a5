"""The console's navigation: one entry per section, shown only to roles holding its permission.

A later domain (members, loyalty, promotions, risk, privacy) adds its section here and its views in
console/views/<section>.py; the views themselves check the same permission (console.access)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yunying.core.permissions import Perm


@dataclass(frozen=True)
class NavItem:
    key: str  # marks the active section: views pass `section=<key>` to the template
    label: str | Promise
    url_name: str
    icon: str  # a Bootstrap Icons name
    perm: Perm | None


NAV: list[NavItem] = [
    NavItem("dashboard", _("Dashboard"), "console:dashboard", "speedometer2", Perm.CAMPAIGN_VIEW),
    NavItem("campaigns", _("Campaigns"), "console:campaign_list", "megaphone", Perm.CAMPAIGN_VIEW),
    NavItem("review", _("Review queue"), "console:review_queue", "check2-square", Perm.SIGNUP_REVIEW),
    NavItem("attendance", _("Attendance"), "console:attendance", "qr-code-scan", Perm.ATTENDANCE_MARK),
    NavItem("member_list", _("Member list"), "console:member_list", "people", Perm.MEMBER_VIEW),
    NavItem("segments", _("Segments"), "console:segment_list", "people", Perm.SEGMENT_VIEW),
    NavItem("members", _("Member look-up"), "console:member_lookup", "person-vcard", Perm.MEMBER_LOOKUP),
    NavItem("tags", _("Tags"), "console:tag_list", "tags", Perm.TAG_MANAGE),
    NavItem(
        "questionnaires", _("Questionnaires"), "console:questionnaire_list", "ui-checks", Perm.PROFILING_EDIT
    ),
    NavItem("liabilities", _("Points liabilities"), "console:points_liabilities", "bank", Perm.LOYALTY_VIEW),
    NavItem(
        "adjustments", _("Points approvals"), "console:points_adjustments", "check2-all", Perm.LOYALTY_APPROVE
    ),
    NavItem("tiers", _("Member tiers"), "console:tiers", "award", Perm.LOYALTY_CONFIGURE),
    NavItem("points_rules", _("Points rules"), "console:points_rules", "coin", Perm.LOYALTY_CONFIGURE),
    # Loyalty: 分销 brokerage (promoters, commission rules, statements)
    NavItem("brokerage", _("Brokerage"), "console:brokerage", "diagram-3", Perm.BROKERAGE_VIEW),
    # Promotions: the list and editor (coupons of a template inside), budgets and ROI
    NavItem("promotions", _("Promotions"), "console:promotion_list", "percent", Perm.PROMOTION_VIEW),
    NavItem(
        "budgets", _("Promotion budgets"), "console:promotion_budgets", "piggy-bank", Perm.PROMOTION_VIEW
    ),
    NavItem("incentives", _("Incentives"), "console:incentives", "gift", Perm.LOYALTY_CONFIGURE),
    # Risk control: the review queue, decisions, alerts, rules, lists and the risk register
    NavItem("risk", _("Risk control"), "console:risk_queue", "shield-exclamation", Perm.RISK_VIEW),
    NavItem("imports", _("Import"), "console:import_list", "upload", Perm.IMPORT_RUN),
    NavItem("apikeys", _("API keys"), "console:apikey_list", "key", Perm.APIKEY_MANAGE),
    NavItem("audit", _("Audit log"), "console:audit_log", "journal-text", Perm.AUDIT_VIEW),
    # Privacy: members' requests about their data (PIPL arts. 44-47), by deadline
    NavItem(
        "privacy_requests",
        _("Privacy requests"),
        "console:privacy_requests",
        "person-lock",
        Perm.PRIVACY_REQUESTS,
    ),
    # Privacy: 数据泄露应急, the breach runbook (S6)
    NavItem("breach", _("Data breach response"), "console:breach_list", "shield-lock", Perm.BREACH_VIEW),
]
