"""The audit trail (S5) and the personal-data access log (S3), read-only, for auditors and strategy:
the same selectors the API's /audit reads, filtered and paginated."""

from __future__ import annotations

from datetime import date

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from yunying.console.access import ROLE_LABELS, operator_required
from yunying.console.fields import AsciiIntegerField, LocalDateField
from yunying.console.paging import ID_MAX, page_of
from yunying.core.audit import audit_list, pii_access_list
from yunying.core.audit_labels import (
    action_label,
    action_labels,
    actor_text,
    field_label,
    group_label,
    object_type_label,
    object_type_labels,
)
from yunying.core.chain import ACCESS_CHAIN, AUDIT_CHAIN, chain_verify_tail
from yunying.core.models import AuditEntry, PersonalDataAccess
from yunying.core.permissions import Perm, Role

EARLIEST, LATEST = date(1900, 1, 1), date(9998, 12, 31)
_ROLE_LABELS = ROLE_LABELS | {Role.INTEGRATION: _("Integration")}


class AuditFilters(forms.Form):
    actor = forms.CharField(
        label=_("Actor"), max_length=150, required=False, help_text=_("A user name, or user:3 / api_key:3")
    )
    # Lists of words, not codes to type (new user review); the values stay the codes the API takes.
    action = forms.ChoiceField(label=_("Action"), required=False)
    object_type = forms.ChoiceField(label=_("Object type"), required=False)
    object_id = forms.CharField(label=_("Object id"), max_length=40, required=False)
    since = LocalDateField(
        last_year=9998, label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = LocalDateField(
        last_year=9998, label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = _action_choices()
        types = sorted(
            ((code, str(label)) for code, label in object_type_labels().items()), key=lambda c: c[1]
        )
        self.fields["object_type"].choices = [("", gettext("All")), *types]

    def clean(self):
        cleaned = super().clean()
        for name in ("since", "until"):
            day = cleaned.get(name)
            if day is not None and not (EARLIEST <= day <= LATEST):
                self.add_error(name, _("Choose a date between 1900 and 9998."))
        return cleaned


def _action_choices() -> list:
    """Every labelled action under its domain's heading, the heading's first choice being all of
    them ("campaign" finds every campaign.* action, as the API's filter does)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, label in action_labels().items():
        groups.setdefault(code.split(".")[0], []).append((code, str(label)))
    choices: list = [("", gettext("All"))]
    for prefix in sorted(groups, key=group_label):
        heading = group_label(prefix)
        every = (prefix, gettext("All: %(group)s") % {"group": heading})
        choices.append((heading, [every, *sorted(groups[prefix], key=lambda c: c[1])]))
    return choices


class AccessFilters(forms.Form):
    member = AsciiIntegerField(label=_("Member id"), required=False, min_value=1, max_value=ID_MAX)
    actor = forms.CharField(
        label=_("Actor"), max_length=150, required=False, help_text=_("A user name, or user:3 / api_key:3")
    )


def _filters(form: forms.Form) -> dict:
    """The valid filters; with any field invalid, the form shows why and the list shows nothing."""
    if not form.is_bound:
        return {}
    if not form.is_valid():
        return None
    return {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}


# The page checks the newest rows of the chain on every view (a few ms); the whole chain is checked
# by `yunying audit verify`.
TAIL_ROWS = 500


@operator_required(Perm.AUDIT_VIEW)
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilters(request.GET or None)
    filters = _filters(form)
    rows = (
        audit_list(**{k: v.strip() if isinstance(v, str) else v for k, v in filters.items()})
        if filters is not None
        else []
    )
    page, query = page_of(request, rows)
    for entry in page:
        # Words for the codes; the page keeps each code beside its words for auditors who search by it.
        entry.action_text = action_label(entry.action)
        entry.object_text = object_type_label(entry.object_type)
        entry.actor_text = actor_text(entry.actor_kind, entry.actor_label)
        entry.role_text = str(_ROLE_LABELS.get(entry.actor_role, entry.actor_role))
        # one line per changed field, before → after: a campaign's snapshot is long, read it folded
        entry.changes = [
            (field, field_label(field), entry.before.get(field, "—"), entry.after.get(field, "—"))
            for field in sorted(set(entry.before) | set(entry.after))
        ]
    context = {"section": "audit", "tab": "audit", "form": form, "page": page, "query": query,
               "chain": chain_verify_tail(AUDIT_CHAIN, AuditEntry), "chain_rows": TAIL_ROWS}  # fmt: skip
    return render(request, "console/audit/log.html", context)


@operator_required(Perm.AUDIT_VIEW)
@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    form = AccessFilters(request.GET or None)
    filters = _filters(form)
    rows = (
        pii_access_list(member_id=filters.get("member"), actor=(filters.get("actor") or "").strip())
        if filters is not None
        else []
    )
    page, query = page_of(request, rows)
    for row in page:
        row.role_text = str(_ROLE_LABELS.get(row.actor_role, row.actor_role))
    context = {"section": "audit", "tab": "access", "form": form, "page": page, "query": query,
               "chain": chain_verify_tail(ACCESS_CHAIN, PersonalDataAccess), "chain_rows": TAIL_ROWS}  # fmt: skip
    return render(request, "console/audit/access.html", context)


urlpatterns = [
    path("audit/", audit_log, name="audit_log"),
    path("audit/access/", access_log, name="access_log"),
]
