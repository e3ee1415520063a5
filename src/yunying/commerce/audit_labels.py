"""Commerce's audit codes in words (core.audit_labels), for the console's audit log."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunying.core.audit_labels import audit_labels_register

audit_labels_register(
    actions={
        "order.ingest": _("Record order"),
        "order.cancel": _("Cancel order"),
        "order.refund": _("Refund order"),
        "import.upload": _("Upload import file"),
        "import.start": _("Start import"),
        "import.finish": _("Finish import"),
    },
    groups={"order": _("Orders"), "import": _("Imports")},
    object_types={
        "order": pgettext_lazy("audit object", "Order"),
        "import": pgettext_lazy("audit object", "Import"),
    },
    fields={
        "filename": pgettext_lazy("audit field", "File name"),
        "size_bytes": pgettext_lazy("audit field", "Size (bytes)"),
        "rows_valid": pgettext_lazy("audit field", "Valid rows"),
        "rows_error": pgettext_lazy("audit field", "Rows with errors"),
        "inserted": pgettext_lazy("audit field", "Inserted"),
        "imported": pgettext_lazy("audit field", "Imported"),
        "members_created": pgettext_lazy("audit field", "Members created"),
        "members_updated": pgettext_lazy("audit field", "Members updated"),
        "unchanged": pgettext_lazy("audit field", "Unchanged"),
        "skipped": pgettext_lazy("audit field", "Skipped"),
        "refund": pgettext_lazy("audit field", "Refund"),
        "refunded_fen": pgettext_lazy("audit field", "Refunded (fen)"),
    },
    system_actors={"cli": _("Command line")},
)
