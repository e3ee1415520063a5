from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from yunying.core.errors import register_messages


class ExportError(StrEnum):
    APPROVAL_REQUIRED = "export.approval_required"
    APPROVAL_NOT_FOUND = "export.approval_not_found"
    SELF_APPROVAL = "export.self_approval"
    APPROVER_UNIDENTIFIED = "export.approver_unidentified"
    REQUESTER_UNIDENTIFIED = "export.requester_unidentified"
    NOT_REQUESTER = "export.not_requester"
    NOT_APPROVED = "export.not_approved"
    APPROVAL_USED = "export.approval_used"
    APPROVAL_EXPIRED = "export.approval_expired"
    SCOPE_MISMATCH = "export.scope_mismatch"
    NOT_PENDING = "export.not_pending"
    FORMAT_INVALID = "export.format_invalid"
    FILTER_INVALID = "export.filter_invalid"


register_messages(
    {
        ExportError.APPROVAL_REQUIRED: _(
            "Personal data in clear in bulk needs a second operator's approval: request one first."
        ),
        ExportError.APPROVAL_NOT_FOUND: _("Export approval not found."),
        ExportError.SELF_APPROVAL: _("You cannot approve your own export request: a second operator must."),
        ExportError.APPROVER_UNIDENTIFIED: _(
            "This API key names no owner, so it cannot approve exports: give the key an owner."
        ),
        ExportError.REQUESTER_UNIDENTIFIED: _(
            "This API key names no owner, so nobody could tell who approves its export: give the key an owner."
        ),
        ExportError.NOT_REQUESTER: _("Only the operator who requested this export may download it."),
        ExportError.NOT_APPROVED: _("This export request has not been approved."),
        ExportError.APPROVAL_USED: _("This approval was already used: request a new one."),
        ExportError.APPROVAL_EXPIRED: _("This approval has expired: request a new one."),
        ExportError.SCOPE_MISMATCH: _("This approval is for another campaign, format or filter."),
        ExportError.NOT_PENDING: _("This export request was already decided."),
        ExportError.FORMAT_INVALID: _("Choose csv, xlsx or list."),
        ExportError.FILTER_INVALID: _("Choose a sign-up status and a channel from the lists, or none."),
    }
)
