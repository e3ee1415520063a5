"""Placeholder until this section is built (issue 9)."""

from django.shortcuts import render
from django.urls import path

from yunying.console.access import operator_required
from yunying.core.permissions import Perm


@operator_required(Perm.MEMBER_LOOKUP)
def member_lookup(request):
    return render(request, "console/placeholder.html", {"section": "members"})


urlpatterns = [path("members/", member_lookup, name="member_lookup")]
