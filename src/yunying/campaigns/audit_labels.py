"""Campaigns' audit codes in words (core.audit_labels), for the console's audit log."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunying.core.audit_labels import audit_labels_register

audit_labels_register(
    actions={
        "campaign.create": _("Create campaign"),
        "campaign.update": _("Edit campaign"),
        "campaign.copy": _("Copy campaign"),
        "campaign.delete": _("Delete campaign"),
        "campaign.publish": _("Publish campaign"),
        "campaign.close": _("Close campaign sign-up"),
        "campaign.finish": _("Finish campaign"),
        "campaign.cancel": _("Cancel campaign"),
        "campaign.extend": _("Extend sign-up deadline"),
        "campaign.draw": _("Run lottery draw"),
        "signup.confirm": _("Confirm sign-up"),
        "signup.reject": _("Reject sign-up"),
        "signup.withdraw": _("Withdraw sign-up"),
        "signup.attend": _("Record attendance"),
        "signup.export": _("Export sign-ups"),
        "pii.reveal": _("Reveal sign-up contact details"),
    },
    groups={"campaign": _("Campaigns"), "signup": _("Sign-ups"), "pii": _("Personal data")},
    object_types={
        "campaign": pgettext_lazy("audit object", "Campaign"),
        "signup": pgettext_lazy("audit object", "Sign-up"),
    },
    fields={
        "title": pgettext_lazy("audit field", "Title"),
        "theme": pgettext_lazy("audit field", "Theme"),
        "type": pgettext_lazy("audit field", "Type"),
        "notify_channels": pgettext_lazy("audit field", "Notification channels"),
        "reminder_hours_before": pgettext_lazy("audit field", "Reminder (hours before)"),
        "rules_text": pgettext_lazy("audit field", "Rules"),
        "reward_description": pgettext_lazy("audit field", "Reward"),
        "eligibility": pgettext_lazy("audit field", "Eligibility"),
        "form": pgettext_lazy("audit field", "Sign-up form"),
        "review_mode": pgettext_lazy("audit field", "Review mode"),
        "admission_mode": pgettext_lazy("audit field", "Admission mode"),
        "waitlist_enabled": pgettext_lazy("audit field", "Waitlist"),
        "signup_start_at": pgettext_lazy("audit field", "Sign-up opens"),
        "signup_end_at": pgettext_lazy("audit field", "Sign-up closes"),
        "event_start_at": pgettext_lazy("audit field", "Event starts"),
        "event_end_at": pgettext_lazy("audit field", "Event ends"),
        "capacity": pgettext_lazy("audit field", "Capacity"),
        "copied_from": pgettext_lazy("audit field", "Copied from"),
        "draw_id": pgettext_lazy("audit field", "Draw"),
        "entrant_count": pgettext_lazy("audit field", "Entrants"),
        "winner_count": pgettext_lazy("audit field", "Winners"),
        "signup_ids": pgettext_lazy("audit field", "Sign-ups"),
        "attended_at": pgettext_lazy("audit field", "Attended at"),
    },
    system_actors={"demo": _("Demo data")},
)
