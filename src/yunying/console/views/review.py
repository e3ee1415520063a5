"""Placeholder until this section is built (issue 9)."""

from django.shortcuts import render
from django.urls import path

from yunying.console.access import operator_required
from yunying.core.permissions import Perm


@operator_required(Perm.SIGNUP_REVIEW)
def review_queue(request):
    return render(request, "console/placeholder.html", {"section": "review"})


urlpatterns = [path("review/", review_queue, name="review_queue")]
