"""Risk control's stable error codes (never renamed) and their messages."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from yunying.core.errors import register_messages


class RiskError(StrEnum):
    BLOCKED = "risk.blocked"  # the attempt was refused by risk control; the member may ask for a human review
    CHALLENGE_REQUIRED = "risk.challenge_required"  # pass the extra verification, then retry with its token
    UNDER_REVIEW = "risk.under_review"  # held for a person to look at; the member is told the outcome
    CHALLENGE_INVALID = "risk.challenge_invalid"  # unknown, expired, already used or someone else's challenge
    DECISION_NOT_FOUND = "risk.decision_not_found"
    CASE_NOT_FOUND = "risk.case_not_found"
    CASE_DECIDED = "risk.case_decided"  # someone decided this case already
    REVIEW_ALREADY_ASKED = "risk.review_already_asked"
    RULES_INVALID = "risk.rules_invalid"
    RULES_STALE = "risk.rules_stale"  # another version went live or into shadow since you read the rules
    LIST_ENTRY_INVALID = "risk.list_entry_invalid"
    LIST_ENTRY_NOT_FOUND = "risk.list_entry_not_found"
    REGISTER_NOT_FOUND = "risk.register_not_found"
    TRAFFIC_INVALID = "risk.traffic_invalid"


register_messages(
    {
        RiskError.BLOCKED: _(
            "This attempt was refused by risk control. If you think this is a mistake, ask for a human review."
        ),
        RiskError.CHALLENGE_REQUIRED: _("Please complete the extra verification, then try again."),
        RiskError.UNDER_REVIEW: _(
            "A person will look at this before it goes through; you will be told the outcome."
        ),
        RiskError.CHALLENGE_INVALID: _(
            "This verification is unknown, expired or already used. Please start again."
        ),
        RiskError.DECISION_NOT_FOUND: _("No such risk decision."),
        RiskError.CASE_NOT_FOUND: _("No such review case."),
        RiskError.CASE_DECIDED: _("This case has already been decided."),
        RiskError.REVIEW_ALREADY_ASKED: _("A human review of this decision has already been asked for."),
        RiskError.RULES_INVALID: _("The rule set cannot be used: %(problem)s"),
        RiskError.RULES_STALE: _("The rules changed since you opened them. Reload and try again."),
        RiskError.LIST_ENTRY_INVALID: _("This list entry is not valid: %(problem)s"),
        RiskError.LIST_ENTRY_NOT_FOUND: _("No such list entry."),
        RiskError.REGISTER_NOT_FOUND: _("No such risk in the register."),
        RiskError.TRAFFIC_INVALID: _("The traffic file is not valid: %(problem)s"),
    }
)
