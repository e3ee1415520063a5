"""Django admin for core tables, and the read-only base every app's admin uses.

The admin is a window onto the data, not a way round the services: rows change through the services
(API, commands), so ledger-like tables, members and sign-ups are view-only here, and personal data
is shown masked or not at all."""

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.utils.translation import gettext_lazy as _

from yunying.core.apikeys import apikey_revoke
from yunying.core.models import ApiKey, AuditEntry, IdempotencyRecord, PersonalDataAccess
from yunying.core.permissions import Actor

admin.site.site_header = "运营 Yunying"
admin.site.site_title = "运营 Yunying"


class ReadOnlyAdmin(admin.ModelAdmin):
    """View only: no add, change or delete (changes go through the services; ledgers are append-only)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Keys are made by `yunying apikey create`, the only place the token is shown; never the hash here."""

    list_display = ["name", "prefix", "role", "revoked", "created_at", "last_used_at"]
    list_filter = ["role", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "=prefix"]
    fields = ["name", "prefix", "role", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    @admin.display(boolean=True, description=_("revoked"))
    def revoked(self, obj: ApiKey) -> bool:
        return obj.revoked_at is not None

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("core.change_apikey")

    @admin.action(description=_("Revoke the selected keys"), permissions=["revoke"])
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        actor = Actor(kind="user", id=request.user.pk, label=request.user.get_username())
        for key in keys:
            apikey_revoke(key=key, actor=actor)
        self.message_user(request, _("%d key(s) revoked.") % len(keys), messages.SUCCESS)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["id", "owner", "key", "status_code", "created_at"]
    list_filter = ["status_code"]
    search_fields = ["=key", "=owner"]


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "member_id", "actor_kind", "actor_label", "fields", "purpose"]
    list_filter = ["actor_kind"]
    search_fields = ["=member_id", "actor_label", "purpose"]
    date_hierarchy = "at"


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_label", "actor_role", "action", "object_type", "object_id", "reason"]
    list_filter = ["action", "object_type", "actor_kind"]
    search_fields = ["=object_id", "actor_label", "reason"]
    date_hierarchy = "at"


# Operators and their roles change only through `yunying operator` (audited, chained): editable here,
# one superuser could mint a second strategy operator unrecorded and approve their own export in
# clear with it (outside review). The admin shows them; it does not change them.
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class OperatorAdmin(ReadOnlyAdmin, UserAdmin):
    list_display = ["username", "is_active", "is_superuser", "last_login"]
    fieldsets = [
        (None, {"fields": ["username", "is_active", "is_staff", "is_superuser", "groups", "last_login"]})
    ]
    exclude = ["password"]


@admin.register(Group)
class RoleAdmin(ReadOnlyAdmin, GroupAdmin):
    pass
