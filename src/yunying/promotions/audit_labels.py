"""Promotions' audit codes in words (core.audit_labels), for the console's audit log."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yunying.core.audit_labels import audit_labels_register

audit_labels_register(
    actions={
        "promotion.create": _("Create promotion"),
        "promotion.update": _("Edit promotion"),
        "promotion.transition": _("Change promotion status"),
        "coupon.issue": _("Issue coupon"),
        "coupon.issue_many": _("Issue coupons in bulk"),
        "coupon.void": _("Void coupon"),
        "coupon.codes_create": _("Create coupon codes"),
        "coupon.codes_export": _("Export coupon codes"),
        "budget.create": _("Create budget"),
        "budget.set_base": _("Set budget amount"),
        "budget.topup_request": _("Request budget top-up"),
        "budget.topup_approve": _("Approve budget top-up"),
        "budget.topup_reject": _("Reject budget top-up"),
    },
    groups={"promotion": _("Promotions"), "coupon": _("Coupons"), "budget": _("Budgets")},
    object_types={
        "promotion": pgettext_lazy("audit object", "Promotion"),
        "coupon": pgettext_lazy("audit object", "Coupon"),
        "budget": pgettext_lazy("audit object", "Budget"),
    },
    fields={
        "promotion_id": pgettext_lazy("audit field", "Promotion ID"),
        "base_fen": pgettext_lazy("audit field", "Base amount (fen)"),
        "topup": pgettext_lazy("audit field", "Top-up"),
        "issued": pgettext_lazy("audit field", "Issued"),
        "batch": pgettext_lazy("audit field", "Batch"),
        "codes": pgettext_lazy("audit field", "Codes"),
        "prefix": pgettext_lazy("audit field", "Prefix"),
        "remaining": pgettext_lazy("audit field", "Remaining"),
    },
    system_actors={"promotions.issuing": _("Automatic coupon issuing")},
)
