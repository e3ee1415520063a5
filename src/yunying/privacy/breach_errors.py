"""Breach-response codes (S6). Stable: the console and tests branch on them.

Kept apart from the other privacy pieces' codes (one module each, so they land independently)."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from yunying.core.errors import register_messages


class BreachError(StrEnum):
    NOT_FOUND = "breach.not_found"
    INVALID = "breach.invalid"  # a field of the incident, notice or plan (a field error)
    CLOSED = "breach.closed"  # the incident is closed: nothing more is done under it
    STEP_NOT_FOUND = "breach.step_not_found"
    STEP_DONE = "breach.step_done"  # the step was marked done already
    ASSIGNEE_INVALID = "breach.assignee_invalid"  # not an active operator who may run breach response
    CRITERIA_REQUIRED = "breach.criteria_required"  # deriving affected members without any criterion
    MEMBERS_UNKNOWN = "breach.members_unknown"  # an explicit list names ids of no member
    CAMPAIGN_UNKNOWN = "breach.campaign_unknown"  # deriving from a campaign id of no campaign
    ACTOR_UNKNOWN = "breach.actor_unknown"  # deriving from an accessor no operator, key or access row names
    NO_AFFECTED = "breach.no_affected"  # notifying or compensating before any member is affected
    NOTICE_SENT = "breach.notice_sent"  # editing a notice that went out already
    NOTICE_INCOMPLETE = "breach.notice_incomplete"  # sending a notice with an empty part
    COMPENSATION_UNSET = "breach.compensation_unset"  # compensating before choosing what
    COMPENSATION_STARTED = "breach.compensation_started"  # changing the plan once members received it
    STEPS_PENDING = "breach.steps_pending"  # closing with a runbook step not done
    FINDINGS_MISSING = "breach.findings_missing"  # closing without the cause or the measures recorded


register_messages(
    {
        BreachError.NOT_FOUND: _("No breach incident has that id."),
        BreachError.INVALID: _("Some fields of the incident are not valid."),
        BreachError.CLOSED: _("This incident is closed."),
        BreachError.STEP_NOT_FOUND: _("No runbook step has that id."),
        BreachError.STEP_DONE: _("This step is done already."),
        BreachError.ASSIGNEE_INVALID: _(
            "Assign the step to an active operator who may run the breach response."
        ),
        BreachError.CRITERIA_REQUIRED: _(
            "Say which accesses, campaign or members the breach affected: at least one criterion."
        ),
        BreachError.MEMBERS_UNKNOWN: _("Some member ids belong to no member: %(ids)s."),
        BreachError.CAMPAIGN_UNKNOWN: _("No campaign has this id: check the number."),
        BreachError.ACTOR_UNKNOWN: _(
            "No operator, API key or recorded access has this name: give an operator's user name, "
            "user:ID or api_key:ID."
        ),
        BreachError.NO_AFFECTED: _("No affected members yet: add them first."),
        BreachError.NOTICE_SENT: _("The notice was sent already; it can no longer be changed."),
        BreachError.NOTICE_INCOMPLETE: _("Fill in every part of the notice before sending it."),
        BreachError.COMPENSATION_UNSET: _(
            "Choose the compensation (a coupon or a membership extension) first."
        ),
        BreachError.COMPENSATION_STARTED: _(
            "Members have received the compensation; it can no longer be changed."
        ),
        BreachError.STEPS_PENDING: _("Mark every step done before closing; not done: %(steps)s."),
        BreachError.FINDINGS_MISSING: _("Record %(fields)s before closing."),
    }
)
