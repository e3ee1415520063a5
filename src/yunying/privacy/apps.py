from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """Members' rights and the privacy story as a whole (S1–S6): the transparency centre, data-subject
    requests (export, erasure), two-person bulk exports, key rotation progress and the breach runbook.

    It sits above the domain apps: what a member's data is, and how to export or erase it, each domain
    app declares itself (core.registry.personal_data_register); this app runs the requests."""

    name = "yunying.privacy"
    label = "privacy"
    verbose_name = "Privacy and compliance"

    def ready(self) -> None:
        from yunying.core.registry import periodic_job_register
        from yunying.privacy import audit_labels  # noqa: F401 - its audit codes in words (core.audit_labels)
        from yunying.privacy.keys import keys_rotate_job

        # Re-encryption under a new active PII key runs in the background, resumably (S1).
        periodic_job_register("privacy.keys_rotate", keys_rotate_job)
        # A member's own erasure that waited (commission owed) runs once nothing waits any more.
        from yunying.privacy.jobs import approvals_expire_job, erasures_resume_job

        periodic_job_register("privacy.erasures_resume", erasures_resume_job)
        # An export approval past its 24 hours shows as expired in the console's lists.
        periodic_job_register("privacy.approvals_expire", approvals_expire_job)
        # The breach notice (S6) is a service message: it reaches every affected member, whatever
        # their marketing consent; the outbox worker renders it through privacy.breach.
        from yunying.notify.templates import SERVICE, templates_register
        from yunying.privacy import breach

        templates_register([breach.NOTICE_TEMPLATE], breach.breach_messages_load, purpose=SERVICE)
