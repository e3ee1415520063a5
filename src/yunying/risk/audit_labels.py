"""Risk control's audit codes in words (core.audit_labels), for the console's audit log."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunying.core.audit_labels import audit_labels_register

audit_labels_register(
    actions={
        "risk.case_decide": _("Decide risk case"),
        "risk.challenge_pass": _("Pass risk challenge"),
        "risk.complaint": _("Record risk complaint"),
        "risk.list_add": _("Add to risk list"),
        "risk.list_remove": _("Remove from risk list"),
        "risk.register_save": _("Save risk register item"),
        "risk.rules_create": _("Create risk rule version"),
        "risk.rules_state": _("Change risk rule version state"),
    },
    groups={"risk": _("Risk control")},
    object_types={
        "risk_case": pgettext_lazy("audit object", "Risk case"),
        "risk_decision": pgettext_lazy("audit object", "Risk decision"),
        "risk_list": pgettext_lazy("audit object", "Risk list entry"),
        "risk_register": pgettext_lazy("audit object", "Risk register item"),
        "risk_rules": pgettext_lazy("audit object", "Risk rule version"),
        "complaint": pgettext_lazy("audit object", "Complaint"),
    },
    fields={
        "verdict": pgettext_lazy("audit field", "Verdict"),
        "subject_ref": pgettext_lazy("audit field", "Subject"),
        "based_on": pgettext_lazy("audit field", "Based on"),
        "passed": pgettext_lazy("audit field", "Passed"),
        "entered": pgettext_lazy("audit field", "Entered"),
        "hint": pgettext_lazy("audit field", "Hint"),
        "review_at": pgettext_lazy("audit field", "Review by"),
        "probability": pgettext_lazy("audit field", "Probability"),
        "impact": pgettext_lazy("audit field", "Impact"),
    },
)
