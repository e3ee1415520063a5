"""Django admin for members: view only, personal data masked; encrypted columns and blind indexes are
never shown. Search by phone goes through the blind index, so no phone is ever listed in clear."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yunying.core.admin import ReadOnlyAdmin
from yunying.core.errors import DomainError
from yunying.members.models import Member
from yunying.members.regions import region_label
from yunying.members.services import member_age, member_contact, member_find


def masked_contact(member: Member) -> dict:
    """Masked phone and name, decrypted once per row however many columns show them."""
    if not hasattr(member, "_masked_contact"):
        member._masked_contact = member_contact(member, reveal=False)
    return member._masked_contact


@admin.register(Member)
class MemberAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "masked_name",
        "masked_phone",
        "gender",
        "age",
        "region",
        "source_channel",
        "created_at",
    ]
    list_filter = ["gender", "source_channel"]
    search_fields = ["=external_id"]
    search_help_text = _("Exact phone number or external id")
    exclude = [
        "phone_encrypted",
        "phone_index",
        "name_encrypted",
        "email_encrypted",
    ]
    fields = ["masked_name", "masked_phone", "external_id", "gender", "age", "region", "language",
              "source_channel", "created_at"]  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("name"))
    def masked_name(self, obj: Member) -> str:
        return masked_contact(obj)["name"]

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Member) -> str:
        return masked_contact(obj)["phone"] or "-"

    @admin.display(description=_("age"))
    def age(self, obj: Member) -> int | None:
        return member_age(obj, on=timezone.localdate())

    @admin.display(description=_("region"))
    def region(self, obj: Member) -> str:
        return f"{region_label(obj.region_code)} ({obj.region_code})" if obj.region_code else "-"

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term and any(ch.isdigit() for ch in term):
            try:
                member = member_find(phone=term)
            except DomainError:  # not a phone number: the external-id search stands
                member = None
            if member is not None:
                results |= queryset.filter(pk=member.pk)
        return results, may_have_duplicates
