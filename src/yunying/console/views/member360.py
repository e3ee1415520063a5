"""The member list and the member 360 page (M7): masked by default, one member revealed at a time
with a purpose (logged, audited), manual tags put on and taken off (htmx swaps the tags card).

A phone never travels in a URL: the search by phone or external id is a POST (audited like the
look-up), which leads to /console/members/<id>/; the list's other filters are GETs."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yunying.console import member360
from yunying.console.access import forbidden, operator_required
from yunying.console.fields import LocalDateField
from yunying.console.paging import page_of
from yunying.console.views.members import LookupForm, RevealForm
from yunying.console.views.points import member_points_context
from yunying.core.errors import DomainError
from yunying.core.permissions import Perm
from yunying.core.purposes import reveal_authorize
from yunying.members import services as members
from yunying.members import tags as member_tags
from yunying.members.models import Member, TagKind

EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(9998, 12, 31)


class MemberFilters(forms.Form):
    tag = forms.ChoiceField(label=gettext_lazy("Tag"), required=False)
    # Free text, not a list of the channels seen: that list would scan every member on each page.
    source_channel = forms.CharField(label=gettext_lazy("Source channel"), max_length=20, required=False)
    registered_from = LocalDateField(
        last_year=9998,
        label=gettext_lazy("Registered from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    registered_to = LocalDateField(
        last_year=9998,
        label=gettext_lazy("Registered to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [("", "—"), *((name, name) for name in member_tags.tag_names())]

    def clean(self):
        cleaned = super().clean()
        for name in ("registered_from", "registered_to"):
            day = cleaned.get(name)
            if day is not None and not (EARLIEST_DAY <= day <= LATEST_DAY):
                self.add_error(name, _("Choose a date between 1900 and 9998."))
        return cleaned

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "tag": data.get("tag") or None,
            "source_channel": (data.get("source_channel") or "").strip() or None,
            "registered_from": data.get("registered_from"),
            "registered_to": data.get("registered_to"),
        }


class TagChoiceForm(forms.Form):
    tag = forms.CharField(label=gettext_lazy("Tag"), max_length=member_tags.MAX_NAME)


def _masked_rows(page) -> list[dict]:
    tag_names = member_tags.tag_names_of([m.pk for m in page])
    return [
        {
            "member": m,
            **members.member_contact(m, reveal=False),
            "tags": tag_names.get(m.pk, []),
        }
        for m in page
    ]


@never_cache
@sensitive_post_parameters("phone", "external_id")
@operator_required(Perm.MEMBER_VIEW)
@require_http_methods(["GET", "POST"])
def member_list(request: HttpRequest) -> HttpResponse:
    search = LookupForm(request.POST or None)
    can_search = request.actor.can(Perm.MEMBER_LOOKUP)  # a search by phone is a look-up: limited, audited
    if request.method == "POST" and not can_search:
        return forbidden(request, permission=Perm.MEMBER_LOOKUP)
    if request.method == "POST" and search.is_valid():
        try:
            found = members.member_lookup(
                actor=request.actor,
                phone=search.cleaned_data["phone"],
                external_id=search.cleaned_data["external_id"],
            )
        except DomainError as refused:  # member.phone_invalid, member.not_found, core.rate_limited
            search.add_error("phone" if refused.data.get("field") == "phone" else None, refused.message)
        else:
            return redirect("console:member_360", member_id=found.pk)
    form = MemberFilters(request.GET or None)
    rows = members.member_list(**form.filters()) if form.is_bound and form.is_valid() else None
    if rows is None:
        rows = members.member_list() if not form.is_bound else Member.objects.none()
    page, query = page_of(request, rows)
    context = {
        "section": "member_list",
        "search": search,
        "can_search": can_search,
        "form": form,
        "page": page,
        "rows": _masked_rows(page),
        "query": query,
    }
    response = render(request, "console/members/list.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _page_360(request: HttpRequest, member: Member, *, revealed: bool = False, reveal_form=None, status=200):
    actor = request.actor
    context = {
        "section": "member_list",
        "member": member,
        "profile": members.member_profile(member, reveal=revealed),
        "revealed": revealed,
        "can_reveal": actor.can(Perm.PII_REVEAL),
        "can_tag": actor.can(Perm.MEMBER_TAG),
        "reveal_form": reveal_form or RevealForm(),
        "manual_tags": member_tags.tag_names(kind=TagKind.MANUAL),
        **member360.member_360(member),
        **member_points_context(actor, member.pk),
    }
    response = render(request, "console/members/member360.html", context, status=status)
    response["Cache-Control"] = "no-store"  # personal data, masked or not, stays out of caches
    return response


def _member_or_404(request: HttpRequest, member_id: int) -> Member | HttpResponse:
    try:
        return members.member_get(member_id)
    except DomainError:
        return render(request, "console/members/not_found.html", {"section": "member_list"}, status=404)


@never_cache
@operator_required(Perm.MEMBER_VIEW)
@require_GET
def member_360(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member_or_404(request, member_id)
    if isinstance(member, HttpResponse):
        return member
    return _page_360(request, member)


@never_cache
@operator_required(Perm.PII_REVEAL)
@require_POST
def member_360_reveal(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member_or_404(request, member_id)
    if isinstance(member, HttpResponse):
        return member
    form = RevealForm(request.POST)
    if not form.is_valid():
        return _page_360(request, member, reveal_form=form)
    try:
        purpose = reveal_authorize(
            request.actor, purpose=form.cleaned_data["purpose"], note=form.cleaned_data["purpose_note"]
        )  # one member
        member = members.member_reveal(actor=request.actor, member_id=member.pk, purpose=purpose)
    except DomainError as refused:  # core.rate_limited: one at a time must not become everyone
        form.add_error(None, refused.message)
        return _page_360(request, member, reveal_form=form)
    return _page_360(request, member, revealed=True)


def _tags_card(request: HttpRequest, member: Member, *, error: str = "") -> HttpResponse:
    context = {
        "member": member,
        "can_tag": request.actor.can(Perm.MEMBER_TAG),
        "tag_links": member_tags.member_tags(member.pk),
        "manual_tags": member_tags.tag_names(kind=TagKind.MANUAL),
        "tag_error": error,
    }
    return render(request, "console/members/_tags.html", context)


def _tag_change(request: HttpRequest, member_id: int, *, add: bool) -> HttpResponse:
    member = _member_or_404(request, member_id)
    if isinstance(member, HttpResponse):
        return member
    form = TagChoiceForm(request.POST)
    error = ""
    if not form.is_valid():
        error = _("Choose a tag.")
    else:
        change = member_tags.member_tag_add if add else member_tags.member_tag_remove
        try:
            change(member_id=member.pk, tag_name=form.cleaned_data["tag"], actor=request.actor)
        except DomainError as refused:  # tag.not_found, tag.rule_based
            error = str(refused.message)
    if request.htmx:
        return _tags_card(request, member, error=error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Tags saved."))
    return redirect(reverse("console:member_360", kwargs={"member_id": member.pk}) + "#tags-heading")


@operator_required(Perm.MEMBER_TAG)
@require_POST
def member_tag_add(request: HttpRequest, member_id: int) -> HttpResponse:
    return _tag_change(request, member_id, add=True)


@operator_required(Perm.MEMBER_TAG)
@require_POST
def member_tag_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    return _tag_change(request, member_id, add=False)


urlpatterns = [
    path("members/all/", member_list, name="member_list"),
    path("members/<int:member_id>/", member_360, name="member_360"),
    path("members/<int:member_id>/reveal/", member_360_reveal, name="member_360_reveal"),
    path("members/<int:member_id>/tags/add/", member_tag_add, name="member_tag_add"),
    path("members/<int:member_id>/tags/remove/", member_tag_remove, name="member_tag_remove"),
]
