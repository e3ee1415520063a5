"""Members' audit codes in words (core.audit_labels), for the console's audit log."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunying.core.audit_labels import audit_labels_register

audit_labels_register(
    actions={
        "member.correct": _("Correct member profile"),
        "member.link": _("Link member identifier"),
        "member.lookup": _("Look up member"),
        "member.reveal": _("Reveal member data"),
        "member.tag_add": _("Tag member"),
        "member.tag_remove": _("Untag member"),
        "tag.bulk_add": _("Tag members in bulk"),
        "tag.create": _("Create tag"),
        "tag.update": _("Edit tag"),
        "tag.delete": _("Delete tag"),
        "questionnaire.create": _("Create questionnaire"),
        "questionnaire.update": _("Edit questionnaire"),
    },
    groups={"member": _("Members"), "tag": _("Tags"), "questionnaire": _("Questionnaires")},
    object_types={
        "member": pgettext_lazy("audit object", "Member"),
        "tag": pgettext_lazy("audit object", "Tag"),
        "questionnaire": pgettext_lazy("audit object", "Questionnaire"),
    },
    fields={
        "phone": pgettext_lazy("audit field", "Phone"),
        "email": pgettext_lazy("audit field", "E-mail"),
        "gender": pgettext_lazy("audit field", "Gender"),
        "birthday": pgettext_lazy("audit field", "Birthday"),
        "region": pgettext_lazy("audit field", "Region"),
        "source_channel": pgettext_lazy("audit field", "Source channel"),
        "identity_checked": pgettext_lazy("audit field", "Identity checked"),
        "revealed": pgettext_lazy("audit field", "Revealed"),
        "found": pgettext_lazy("audit field", "Found"),
        "added": pgettext_lazy("audit field", "Added"),
        "removed": pgettext_lazy("audit field", "Removed"),
        "criteria": pgettext_lazy("audit field", "Criteria"),
        "title": pgettext_lazy("audit field", "Title"),
        "questions": pgettext_lazy("audit field", "Questions"),
    },
)
