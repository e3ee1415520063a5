"""A coupon template's coupons in the console: hand them to listed members (found by phone or
external id — unknown ones are reported, never created) or to a segment, make code batches
(generated, pasted or a CSV), download a batch's codes (a secret: promotion.manage, audited), the
counts by state, and withdraw a coupon. promotions.services does every write (audited)."""

from __future__ import annotations

import csv
import io
import re
import secrets

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yunying.analytics.selectors import segment_list
from yunying.console.access import forbidden, operator_required
from yunying.console.fields import AsciiIntegerField
from yunying.console.once import FIELD as ONCE_FIELD
from yunying.console.once import once_token
from yunying.console.paging import ID_MAX, page_of
from yunying.console.promotion_forms import COUPON_STATE_TEXT
from yunying.console.views.promotions import promotion_or_404
from yunying.core.errors import DomainError
from yunying.core.permissions import Perm
from yunying.members.services import member_find
from yunying.promotions.errors import PromotionError
from yunying.promotions.models import Promotion
from yunying.promotions.selectors import code_batches, coupon_counts, coupon_list, promotion_summary
from yunying.promotions.services import (
    code_batch_create,
    code_batch_export,
    coupon_void,
    coupons_issue_many,
    coupons_issue_segment,
)

MEMBERS_MAX = 1000  # identifiers in one issue form
UPLOAD_MAX = 2 * 1024 * 1024  # a CSV of codes


class IssueForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("The list holds"),
        choices=[("phone", gettext_lazy("Phone numbers")), ("external_id", gettext_lazy("External ids"))],
    )
    identifiers = forms.CharField(
        label=gettext_lazy("Members"),
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One per line (or comma separated), at most 1000."),
    )

    def clean_identifiers(self) -> list[str]:
        items = list(
            dict.fromkeys(part for part in re.split(r"[\s,，;；]+", self.cleaned_data["identifiers"]) if part)
        )
        if not items:
            raise forms.ValidationError(_("List at least one member."))
        if len(items) > MEMBERS_MAX:
            raise forms.ValidationError(_("At most %(max)d members at a time.") % {"max": MEMBERS_MAX})
        return items


class SegmentForm(forms.Form):
    segment = forms.TypedChoiceField(label=gettext_lazy("Segment"), coerce=int)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [
            (segment.pk, f"{segment.name} ({segment.member_count})") for segment in segment_list()
        ]


class GenerateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Batch name"), max_length=100)
    size = AsciiIntegerField(label=gettext_lazy("How many codes"), min_value=1, max_value=100_000)


class ImportForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Batch name"), max_length=100)
    codes = forms.CharField(
        label=gettext_lazy("Codes"),
        required=False,
        max_length=2_000_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One per line; 8–32 letters and digits each."),
    )
    file = forms.FileField(
        label=gettext_lazy("Or a CSV file"),
        required=False,
        help_text=gettext_lazy("The first column of each row; a header row named code is skipped."),
    )

    def clean(self) -> dict:
        data = super().clean()
        codes: list[str] = []
        upload = data.get("file")
        if upload is not None:
            if upload.size > UPLOAD_MAX:
                self.add_error("file", _("The file is larger than 2 MB."))
                return data
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("file", _("The file is not UTF-8 text."))
                return data
            for row in csv.reader(io.StringIO(text)):
                if row and row[0].strip():
                    codes.append(row[0].strip())
            if codes and codes[0].lower() in ("code", "codes", "券码"):
                codes = codes[1:]
        codes += [line.strip() for line in (data.get("codes") or "").splitlines() if line.strip()]
        if not codes and not self.errors:
            self.add_error("codes", _("Paste codes or choose a file."))
        data["code_list"] = codes
        return data


class VoidForm(forms.Form):
    coupon_id = AsciiIntegerField(min_value=1, max_value=ID_MAX)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500)


def _page(request: HttpRequest, promotion: Promotion, forms_: dict | None = None, status: int = 200):
    forms_ = forms_ or {}
    member = request.GET.get("member", "").strip()
    member_id = int(member) if member.isascii() and member.isdigit() and len(member) <= 18 else None
    page, query = page_of(request, coupon_list(promotion.pk, member_id=member_id))
    for coupon in page:
        coupon.state_text = COUPON_STATE_TEXT[coupon.state]
    context = {
        "section": "promotions",
        "promotion": promotion,
        "summary": promotion_summary(promotion),
        "counts": coupon_counts(promotion.pk),
        "states": list(COUPON_STATE_TEXT.items()),
        "batches": list(code_batches(promotion.pk)),
        "page": page,
        "query": query,
        "member": member,
        "issue_form": forms_.get("issue") or IssueForm(),
        "segment_form": forms_.get("segment") or SegmentForm(),
        "generate_form": forms_.get("generate") or GenerateForm(),
        "import_form": forms_.get("import") or ImportForm(),
        "once_token": once_token(request),
        "can_manage": request.actor.can(Perm.PROMOTION_MANAGE),
        "tab": "coupons",
        "report": forms_.get("report"),
    }
    return render(request, "console/promotions/coupons.html", context, status=status)


@operator_required(Perm.PROMOTION_VIEW)
@require_http_methods(["GET", "POST"])
def promotion_coupons(request: HttpRequest, promotion_id: int) -> HttpResponse:
    promotion = promotion_or_404(promotion_id)
    if request.method == "GET":
        return _page(request, promotion)
    if not request.actor.can(Perm.PROMOTION_MANAGE):
        return forbidden(request, permission=str(Perm.PROMOTION_MANAGE))
    action = request.POST.get("action", "")
    handler = {
        "issue": _issue_members,
        "segment": _issue_segment,
        "generate": _generate,
        "import": _import,
        "void": _void,
    }.get(action)
    if handler is None:
        messages.error(request, _("Choose what to do."))
        return redirect("console:promotion_coupons", promotion_id=promotion.pk)
    return handler(request, promotion)


def _refused(request, promotion, key: str, form: forms.Form, refused: DomainError) -> HttpResponse:
    message = refused.message
    if refused.code == PromotionError.CODES_INVALID and refused.data.get("invalid"):
        message += " " + _("For example: %(codes)s") % {"codes": "、".join(refused.data["invalid"][:5])}
    form.add_error(None, message)
    return _page(request, promotion, {key: form}, status=422)


def _issue_members(request: HttpRequest, promotion: Promotion) -> HttpResponse:
    form = IssueForm(request.POST)
    if not form.is_valid():
        return _page(request, promotion, {"issue": form}, status=422)
    kind = form.cleaned_data["kind"]
    if kind == "phone" and not request.actor.can(Perm.MEMBER_LOOKUP):
        # Which phones are members is a look-up (rate-limited, for roles that may): without it, the
        # report of unknown numbers answered it for a thousand phones at a time (attacker review).
        form.add_error(
            "kind",
            _("Issuing by phone number needs the member look-up permission: use external ids or a segment."),
        )
        return _page(request, promotion, {"issue": form}, status=403)
    found, unknown = [], []
    for identifier in form.cleaned_data["identifiers"]:
        try:
            member = member_find(**{kind: identifier})
        except DomainError:  # a phone that is not one, or identifiers of two members
            member = None
        if member is None:
            unknown.append(identifier)
        elif member.pk not in found:
            found.append(member.pk)
    # The form's token names the batch: submitting the same form again issues only what is missing.
    token = request.POST.get(ONCE_FIELD, "")[:40] or secrets.token_urlsafe(16)
    try:
        result = coupons_issue_many(
            promotion_id=promotion.pk, member_ids=found, batch_ref=f"console:{token}", actor=request.actor
        )
    except DomainError as refused:
        return _refused(request, promotion, "issue", form, refused)
    report = {
        "issued": result.issued,
        "skipped": result.skipped,
        "stopped": result.stopped,
        "unknown": unknown[:100],
        "unknown_count": len(unknown),
    }
    messages.success(request, _("%(n)d coupons issued.") % {"n": result.issued})
    return _page(request, promotion, {"report": report})


def _issue_segment(request: HttpRequest, promotion: Promotion) -> HttpResponse:
    form = SegmentForm(request.POST)
    if not form.is_valid():
        return _page(request, promotion, {"segment": form}, status=422)
    try:
        result = coupons_issue_segment(
            promotion_id=promotion.pk, segment_id=form.cleaned_data["segment"], actor=request.actor
        )
    except DomainError as refused:
        return _refused(request, promotion, "segment", form, refused)
    report = {"issued": result.issued, "skipped": result.skipped, "stopped": result.stopped}
    messages.success(request, _("%(n)d coupons issued.") % {"n": result.issued})
    return _page(request, promotion, {"report": report})


def _generate(request: HttpRequest, promotion: Promotion) -> HttpResponse:
    form = GenerateForm(request.POST)
    if not form.is_valid():
        return _page(request, promotion, {"generate": form}, status=422)
    try:
        batch = code_batch_create(
            promotion_id=promotion.pk,
            name=form.cleaned_data["name"],
            size=form.cleaned_data["size"],
            actor=request.actor,
        )
    except DomainError as refused:
        return _refused(request, promotion, "generate", form, refused)
    messages.success(
        request, _("%(n)d codes made in batch %(name)s.") % {"n": batch.size, "name": batch.name}
    )
    return redirect("console:promotion_coupons", promotion_id=promotion.pk)


def _import(request: HttpRequest, promotion: Promotion) -> HttpResponse:
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, promotion, {"import": form}, status=422)
    try:
        batch = code_batch_create(
            promotion_id=promotion.pk,
            name=form.cleaned_data["name"],
            codes=form.cleaned_data["code_list"],
            actor=request.actor,
        )
    except DomainError as refused:
        return _refused(request, promotion, "import", form, refused)
    messages.success(
        request, _("%(n)d codes made in batch %(name)s.") % {"n": batch.size, "name": batch.name}
    )
    return redirect("console:promotion_coupons", promotion_id=promotion.pk)


def _void(request: HttpRequest, promotion: Promotion) -> HttpResponse:
    form = VoidForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the coupon and a reason to withdraw it."))
        return redirect("console:promotion_coupons", promotion_id=promotion.pk)
    try:
        coupon_void(
            coupon_id=form.cleaned_data["coupon_id"],
            promotion_id=promotion.pk,  # this page's coupons only
            actor=request.actor,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Coupon withdrawn."))
    return redirect("console:promotion_coupons", promotion_id=promotion.pk)


@operator_required(Perm.PROMOTION_MANAGE)
@require_POST
def code_batch_download(request: HttpRequest, batch_id: int) -> HttpResponse:
    """A batch's codes as CSV: each download is in the audit log (codes are bearer secrets)."""
    try:
        batch, codes = code_batch_export(batch_id=min(batch_id, ID_MAX), actor=request.actor)
    except DomainError:
        return HttpResponse(status=404)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "redeemed"])
    for code, redeemed in codes:
        writer.writerow([code, "yes" if redeemed else "no"])
    response = HttpResponse(out.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="coupon-codes-{batch.promotion_id}-{batch.pk}.csv"'
    )
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("promotions/<int:promotion_id>/coupons/", promotion_coupons, name="promotion_coupons"),
    path("promotions/code-batches/<int:batch_id>/codes.csv", code_batch_download, name="promotion_codes_csv"),
]
