"""The console's own audit codes in words (core.audit_labels): operator accounts, saved filters."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunying.core.audit_labels import audit_labels_register

audit_labels_register(
    actions={
        "operator.created": _("Create operator account"),
        "operator.disabled": _("Disable operator account"),
        "operator.role_changed": _("Change operator role"),
        "operator.login": _("Operator sign-in"),
        "operator.password_changed": _("Change password"),
        "operator.totp_enabled": _("Enable two-step verification"),
        "console.saved_filter_save": _("Save filter"),
        "console.saved_filter_delete": _("Delete saved filter"),
    },
    groups={"operator": _("Operators"), "console": _("Console")},
    object_types={"saved_filter": pgettext_lazy("audit object", "Saved filter")},
    fields={"section": pgettext_lazy("audit field", "Page")},
)
