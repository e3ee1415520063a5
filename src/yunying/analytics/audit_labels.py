"""Analytics' audit codes in words (core.audit_labels), for the console's audit log."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunying.core.audit_labels import audit_labels_register

audit_labels_register(
    actions={
        "segment.create": _("Create segment"),
        "segment.update": _("Edit segment"),
        "segment.recompute": _("Recompute segment"),
        "segment.message": _("Message segment"),
    },
    groups={"segment": _("Segments")},
    object_types={"segment": pgettext_lazy("audit object", "Segment")},
    fields={
        "rules": pgettext_lazy("audit field", "Rules"),
        "notified": pgettext_lazy("audit field", "Notified"),
        "stopped": pgettext_lazy("audit field", "Stopped"),
    },
)
