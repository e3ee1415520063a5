"""Placeholder until this section is built (issue 9)."""

from django.shortcuts import render
from django.urls import path

from yunying.console.access import operator_required
from yunying.core.permissions import Perm


@operator_required(Perm.ATTENDANCE_MARK)
def attendance(request):
    return render(request, "console/placeholder.html", {"section": "attendance"})


urlpatterns = [path("attendance/", attendance, name="attendance")]
