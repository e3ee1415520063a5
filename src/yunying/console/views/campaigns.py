"""Placeholder until this section is built (issue 9)."""

from django.shortcuts import render
from django.urls import path

from yunying.console.access import operator_required
from yunying.core.permissions import Perm


@operator_required(Perm.CAMPAIGN_VIEW)
def campaign_list(request):
    return render(request, "console/placeholder.html", {"section": "campaigns"})


urlpatterns = [path("campaigns/", campaign_list, name="campaign_list")]
