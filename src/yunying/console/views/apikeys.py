"""API keys: create (the token is shown once, on the page that answers the creation, and never
stored, logged or shown again), list, revoke with confirmation. core.apikeys does the work, audited
with the operator as actor."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from yunying.console.access import ROLE_LABELS, operator_required
from yunying.console.paging import ID_MAX, page_of
from yunying.core.apikeys import apikey_create, apikey_get, apikey_list, apikey_revoke
from yunying.core.errors import DomainError
from yunying.core.permissions import Perm, Role

KEY_ROLE_LABELS = {Role.INTEGRATION: gettext_lazy("Integration (storefront, app)"), **ROLE_LABELS}


class KeyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Key name"),
        max_length=100,
        help_text=gettext_lazy("Who uses it, e.g. the mini-program storefront."),
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role"),
        choices=[(str(role), label) for role, label in KEY_ROLE_LABELS.items()],
        initial=str(Role.INTEGRATION),
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the key a name."))
        return name


def _list(request: HttpRequest, form: KeyForm, *, status: int = 200) -> HttpResponse:
    page, query = page_of(request, apikey_list())
    context = {
        "section": "apikeys",
        "form": form,
        "page": page,
        "query": query,
        "role_labels": KEY_ROLE_LABELS,
    }
    return render(request, "console/apikeys/list.html", context, status=status)


@operator_required(Perm.APIKEY_MANAGE)
@require_GET
def apikey_list_view(request: HttpRequest) -> HttpResponse:
    return _list(request, KeyForm())


@never_cache  # the token is in this page: no cache may keep it
@operator_required(Perm.APIKEY_MANAGE)
@require_POST
@sensitive_variables("token")  # innermost: the frame holding the token is this function's
def apikey_create_view(request: HttpRequest) -> HttpResponse:
    form = KeyForm(request.POST)
    if not form.is_valid():
        return _list(request, form)
    key, token = apikey_create(
        name=form.cleaned_data["name"], role=Role(form.cleaned_data["role"]), actor=request.actor
    )
    return render(
        request,
        "console/apikeys/created.html",
        {"section": "apikeys", "key": key, "token": token, "role_label": KEY_ROLE_LABELS.get(Role(key.role))},
    )


@operator_required(Perm.APIKEY_MANAGE)
@require_POST
def apikey_revoke_view(request: HttpRequest, key_id: int) -> HttpResponse:
    if key_id > ID_MAX:
        messages.error(request, _("Not found."))
        return redirect("console:apikey_list")
    try:
        key = apikey_get(key_id)
    except DomainError as missing:
        messages.error(request, missing.message)
        return redirect("console:apikey_list")
    if apikey_revoke(key=key, actor=request.actor):
        messages.success(request, _("Key %(name)s revoked: it no longer opens the API.") % {"name": key.name})
    else:
        messages.info(request, _("Key %(name)s was already revoked.") % {"name": key.name})
    return redirect("console:apikey_list")


urlpatterns = [
    path("apikeys/", apikey_list_view, name="apikey_list"),
    path("apikeys/new/", apikey_create_view, name="apikey_create"),
    path("apikeys/<int:key_id>/revoke/", apikey_revoke_view, name="apikey_revoke"),
]
