"""Tags (M5): manual tags created, renamed and deleted, and put on a list of members at once;
rule-based tags (filled by the segments' recompute) listed read-only with their kind."""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from yunying.console.access import operator_required
from yunying.console.paging import ID_MAX
from yunying.core.errors import DomainError
from yunying.core.numbers import ascii_digits
from yunying.core.permissions import Perm
from yunying.members import tags as member_tags
from yunying.members.models import TagKind


class TagForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Tag name"), max_length=member_tags.MAX_NAME)
    description = forms.CharField(
        label=gettext_lazy("Tag description"), max_length=member_tags.MAX_DESCRIPTION, required=False
    )


class BulkForm(forms.Form):
    tag = forms.ChoiceField(label=gettext_lazy("Tag"))
    member_ids = forms.CharField(
        label=gettext_lazy("Member ids"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=20000,
        help_text=gettext_lazy("Separated by spaces, commas or new lines; at most 1,000."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [
            ("", "—"),
            *((n, n) for n in member_tags.tag_names(kind=TagKind.MANUAL)),
        ]

    def clean_member_ids(self) -> list[int]:
        parts = [p for p in re.split(r"[\s,，;；]+", self.cleaned_data["member_ids"]) if p]
        if not parts or not all(ascii_digits(p) and len(p) <= 19 and 1 <= int(p) <= ID_MAX for p in parts):
            raise forms.ValidationError(_("Give member ids as numbers."))
        ids = sorted({int(p) for p in parts})
        if len(ids) > member_tags.MAX_BULK:
            raise forms.ValidationError(_("At most 1,000 members at once."))
        return ids


def _page(request: HttpRequest, *, form=None, bulk=None, status: int = 200) -> HttpResponse:
    context = {
        "section": "tags",
        "tags": list(member_tags.tag_list()),
        "form": form or TagForm(),
        "bulk": bulk or BulkForm(),
        "manual": TagKind.MANUAL,
    }
    return render(request, "console/tags/list.html", context, status=status)


def _refused(form: forms.Form, refused: DomainError) -> None:
    field = refused.data.get("field")
    form.add_error(field if field in form.fields else None, refused.message)


@operator_required(Perm.TAG_MANAGE)
@require_GET
def tag_list(request: HttpRequest) -> HttpResponse:
    return _page(request)


@operator_required(Perm.TAG_MANAGE)
@require_POST
def tag_create(request: HttpRequest) -> HttpResponse:
    form = TagForm(request.POST)
    if not form.is_valid():
        return _page(request, form=form)
    try:
        tag = member_tags.tag_create(
            name=form.cleaned_data["name"], description=form.cleaned_data["description"], actor=request.actor
        )
    except DomainError as refused:  # tag.name_invalid, tag.name_taken
        _refused(form, refused)
        return _page(request, form=form)
    messages.success(request, _("Tag “%(name)s” created.") % {"name": tag.name})
    return redirect("console:tag_list")


@operator_required(Perm.TAG_MANAGE)
@require_POST
def tag_update(request: HttpRequest, tag_id: int) -> HttpResponse:
    form = TagForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("console:tag_list")
    try:
        tag = member_tags.tag_update(
            tag_id=min(tag_id, ID_MAX), name=form.cleaned_data["name"],
            description=form.cleaned_data["description"], actor=request.actor,
        )  # fmt: skip
    except DomainError as refused:  # tag.not_found, tag.rule_based, tag.name_invalid, tag.name_taken
        messages.error(request, refused.message)
        return redirect("console:tag_list")
    messages.success(request, _("Tag “%(name)s” saved.") % {"name": tag.name})
    return redirect("console:tag_list")


@operator_required(Perm.TAG_MANAGE)
@require_POST
def tag_delete(request: HttpRequest, tag_id: int) -> HttpResponse:
    try:
        count = member_tags.tag_delete(tag_id=min(tag_id, ID_MAX), actor=request.actor)
    except DomainError as refused:  # tag.not_found, tag.rule_based
        messages.error(request, refused.message)
        return redirect("console:tag_list")
    messages.success(request, _("Tag deleted; %(n)d members had it.") % {"n": count})
    return redirect("console:tag_list")


@operator_required(Perm.TAG_MANAGE)
@require_POST
def tag_bulk_add(request: HttpRequest) -> HttpResponse:
    bulk = BulkForm(request.POST)
    if not bulk.is_valid():
        return _page(request, bulk=bulk)
    try:
        added = member_tags.members_tag_add(
            member_ids=bulk.cleaned_data["member_ids"], tag_name=bulk.cleaned_data["tag"], actor=request.actor
        )
    except DomainError as refused:  # member.not_found (with the unknown ids), tag.*
        unknown = refused.data.get("ids")
        message = str(refused.message)
        if unknown:
            message += " " + _("Unknown ids: %(ids)s") % {"ids": ", ".join(map(str, unknown))}
        bulk.add_error("member_ids", message)
        return _page(request, bulk=bulk)
    messages.success(request, _("%(n)d members newly tagged.") % {"n": added})
    return redirect("console:tag_list")


urlpatterns = [
    path("tags/", tag_list, name="tag_list"),
    path("tags/create/", tag_create, name="tag_create"),
    path("tags/bulk/", tag_bulk_add, name="tag_bulk_add"),
    path("tags/<int:tag_id>/update/", tag_update, name="tag_update"),
    path("tags/<int:tag_id>/delete/", tag_delete, name="tag_delete"),
]
