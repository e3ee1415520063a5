"""Placeholder until this section is built (issue 9)."""

from django.shortcuts import render
from django.urls import path

from yunying.console.access import operator_required
from yunying.core.permissions import Perm


@operator_required(Perm.APIKEY_MANAGE)
def apikey_list(request):
    return render(request, "console/placeholder.html", {"section": "apikeys"})


urlpatterns = [path("apikeys/", apikey_list, name="apikey_list")]
