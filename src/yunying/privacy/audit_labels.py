"""Privacy's audit codes in words (core.audit_labels), for the console's audit log."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunying.core.audit_labels import audit_labels_register

audit_labels_register(
    actions={
        "privacy.request_create": _("Register privacy request"),
        "privacy.request_carry_out": _("Carry out privacy request"),
        "privacy.request_export": _("Export member data for privacy request"),
        "privacy.request_reject": _("Reject privacy request"),
        "export.request": _("Request plain-text export"),
        "export.approve": _("Approve plain-text export"),
        "export.reject": _("Reject plain-text export"),
        "export.use": _("Use plain-text export approval"),
        "breach.open": _("Open data breach incident"),
        "breach.update": _("Record breach findings"),
        "breach.affected_add": _("Add affected members"),
        "breach.step_assign": _("Assign breach step"),
        "breach.step_done": _("Complete breach step"),
        "breach.notice_edit": _("Edit breach notice"),
        "breach.notice_send": _("Send breach notice"),
        "breach.report_edit": _("Edit breach report"),
        "breach.compensation_plan": _("Plan breach compensation"),
        "breach.compensate": _("Give breach compensation"),
        "breach.close": _("Close breach incident"),
    },
    groups={
        "privacy": _("Privacy requests"),
        "export": _("Plain-text exports"),
        "breach": _("Data breaches"),
    },
    object_types={
        "privacy_request": pgettext_lazy("audit object", "Privacy request"),
        "export_approval": pgettext_lazy("audit object", "Export approval"),
        "breach_incident": pgettext_lazy("audit object", "Breach incident"),
        "breach_step": pgettext_lazy("audit object", "Breach step"),
    },
    fields={
        "affected": pgettext_lazy("audit field", "Affected members"),
        "erased": pgettext_lazy("audit field", "Erased"),
        "skipped_erased": pgettext_lazy("audit field", "Skipped (erased)"),
        "report_chars": pgettext_lazy("audit field", "Report length"),
        "drill": pgettext_lazy("audit field", "Drill"),
        "is_drill": pgettext_lazy("audit field", "Drill"),
        "assignee": pgettext_lazy("audit field", "Assignee"),
        "waiting_on": pgettext_lazy("audit field", "Waiting on"),
        "discovered_at": pgettext_lazy("audit field", "Discovered at"),
        "opened_at": pgettext_lazy("audit field", "Opened at"),
        "data_kinds": pgettext_lazy("audit field", "Kinds of data"),
        "cause": pgettext_lazy("audit field", "Cause"),
        "measures": pgettext_lazy("audit field", "Measures taken"),
        "contact": pgettext_lazy("audit field", "Contact"),
        "purpose": pgettext_lazy("audit field", "Purpose"),
    },
)
