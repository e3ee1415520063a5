"""Placeholder until this section is built (issue 9)."""

from django.shortcuts import render
from django.urls import path

from yunying.console.access import operator_required
from yunying.core.permissions import Perm


@operator_required(Perm.AUDIT_VIEW)
def audit_log(request):
    return render(request, "console/placeholder.html", {"section": "audit"})


urlpatterns = [path("audit/", audit_log, name="audit_log")]
