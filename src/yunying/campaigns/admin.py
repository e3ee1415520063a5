"""Django admin for campaigns: view only. Campaigns and sign-ups change through the services (their
rules lock, capacity counter and event history live there); sign-ups show masked personal data."""

import json

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from yunying.campaigns.models import Campaign, LotteryDraw, Signup, SignupEvent
from yunying.campaigns.presenters import signup_present
from yunying.core.admin import ReadOnlyAdmin
from yunying.members.admin import masked_contact


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "type", "status", "admission_mode", "review_mode", "capacity", "seats_taken",
                    "signup_end_at", "created_by"]  # fmt: skip
    list_filter = ["status", "type", "admission_mode", "review_mode"]
    search_fields = ["title", "theme"]
    date_hierarchy = "signup_start_at"


class SignupEventInline(admin.TabularInline):
    model = SignupEvent
    fields = ["at", "from_status", "to_status", "reason", "actor_kind", "actor_label"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Signup)
class SignupAdmin(ReadOnlyAdmin):
    list_display = ["id", "campaign", "member_masked", "status", "channel", "utm_source", "waitlist_rank",
                    "created_at"]  # fmt: skip
    list_filter = ["status", "channel", "utm_source", ("campaign", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["campaign", "member"]
    search_fields = ["=id", "=member__id"]
    # The answers may hold a phone or an address; client signals are for risk control, not for display.
    exclude = ["answers_encrypted", "client_ip_hash", "device_id_hash", "user_agent"]
    fields = ["campaign", "member_masked", "status", "status_reason", "answers_masked", "channel",
              "utm_source", "utm_medium", "utm_campaign", "waitlist_rank", "created_at", "updated_at"]  # fmt: skip
    readonly_fields = fields
    inlines = [SignupEventInline]

    @admin.display(description=_("member"))
    def member_masked(self, obj: Signup) -> str:
        contact = masked_contact(obj.member)
        return f"#{obj.member_id} {contact['name']} {contact['phone'] or ''}".strip()

    @admin.display(description=_("answers (masked)"))
    def answers_masked(self, obj: Signup) -> str:
        return json.dumps(signup_present(obj, reveal=False)["answers"], ensure_ascii=False)


@admin.register(SignupEvent)
class SignupEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "signup_id", "campaign", "from_status", "to_status", "reason", "actor_label", "at"]
    list_filter = ["to_status", "actor_kind", ("campaign", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["campaign"]
    search_fields = ["=signup__id"]


@admin.register(LotteryDraw)
class LotteryDrawAdmin(ReadOnlyAdmin):
    list_display = [
        "campaign",
        "algorithm",
        "entrant_count",
        "winner_count",
        "seed",
        "actor_label",
        "drawn_at",
    ]
    list_select_related = ["campaign"]
