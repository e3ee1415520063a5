"""Roles of the operations team and integrators, and what each may do (S2, least privilege).

Every API handler names the permission it needs; `require` checks it on the server. Roles follow the
three layers of an operations team (strategy / execution / support) plus integrators and auditors.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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
    AUDIT_VIEW = "audit.view"  # the audit trail and the personal-data access log
    APIKEY_MANAGE = "apikey.manage"  # create, list and revoke integration keys
    ATTENDANCE_MARK = "attendance.mark"  # check members in at the event (C10)
    SEGMENT_VIEW = "segment.view"  # segments, RFM grid, lifecycle distribution (aggregates, masked samples)
    SEGMENT_MANAGE = "segment.manage"  # create, edit and recompute segments; message a segment


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
            Perm.SEGMENT_VIEW,
            Perm.SEGMENT_MANAGE,
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
            Perm.ATTENDANCE_MARK,
        }
    ),
    Role.INTEGRATION: frozenset(
        {Perm.CAMPAIGN_VIEW, Perm.SIGNUP_CREATE, Perm.SIGNUP_WITHDRAW, Perm.SIGNUP_STATUS}
    ),
    # Who touched whose data, and nothing of the data itself (least privilege, S2).
    Role.AUDITOR: frozenset({Perm.AUDIT_VIEW}),
}


@dataclass(frozen=True)
class Actor:
    """Who does something: recorded on every event and access-log row."""

    kind: str  # "api_key", "user", "member", "system"
    id: int | None
    label: str
    role: Role | None = None

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
