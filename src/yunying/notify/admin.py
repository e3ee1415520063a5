"""Django admin for the outbox: view only (the worker and the services write it)."""

from django.contrib import admin

from yunying.core.admin import ReadOnlyAdmin
from yunying.notify.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    # No recipient address is stored here (resolved at delivery), so nothing personal to mask.
    list_display = ["id", "template", "channel", "member_id", "status", "due_at", "attempts", "sent_at"]
    list_filter = ["status", "channel", "template"]
    search_fields = ["=member_id", "ref"]
    date_hierarchy = "due_at"
