"""The review queue: sign-ups waiting for review across campaigns, approved or rejected one by one or
in bulk, each with a member-facing reason and an internal note (C7). The same services the API's
confirm / reject call; a row that fails (the campaign filled up meanwhile) is reported by itself."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from yunying.campaigns import selectors
from yunying.campaigns.presenters import signup_present
from yunying.campaigns.services import admission
from yunying.console.access import operator_required
from yunying.console.fields import AsciiIntegerField
from yunying.console.paging import ID_MAX, page_of
from yunying.console.views.campaign_pages import answers_labelled
from yunying.core.errors import DomainError
from yunying.core.numbers import digits_int
from yunying.core.permissions import Perm

MAX_BULK = 200  # rows per bulk action: a page is 50; a bound keeps one request short


class QueueFilter(forms.Form):
    campaign = AsciiIntegerField(
        label=gettext_lazy("Campaign"), required=False, min_value=1, max_value=ID_MAX
    )


def _parse_targets(values: list[str]) -> list[tuple[int, int]]:
    """ "<campaign id>-<sign-up id>" pairs, as the page's checkboxes and buttons send them."""
    targets = []
    for value in values:
        campaign_id, dash, signup_id = value.partition("-")
        pair = (digits_int(campaign_id), digits_int(signup_id))
        if not dash or not all(n is not None and 1 <= n <= ID_MAX for n in pair):
            raise forms.ValidationError(_("The selection is not valid."))
        targets.append(pair)
    return list(dict.fromkeys(targets))


class ReviewAction(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the member"),
        max_length=500,
        required=False,
        help_text=gettext_lazy("Sent to the member. Required to reject."),
    )
    note = forms.CharField(
        label=gettext_lazy("Internal note"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Kept for operators only; never sent to the member."),
    )

    def __init__(self, data, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.action = ""
        self.targets: list[tuple[int, int]] = []
        data = data or {}
        single = data.get("single", "")
        if single:  # a row's own button: "approve:<campaign>-<sign-up>"
            self.action, _sep, target = single.partition(":")
            self.raw_targets = [target]
        else:
            self.action = data.get("action", "")
            self.raw_targets = data.getlist("ids") if hasattr(data, "getlist") else []

    def clean(self):
        cleaned = super().clean()
        if self.action not in ("approve", "reject"):
            raise forms.ValidationError(_("Choose approve or reject."))
        if not self.raw_targets:
            raise forms.ValidationError(_("Tick at least one sign-up."))
        if len(self.raw_targets) > MAX_BULK:
            raise forms.ValidationError(_("Select at most %(max)d sign-ups at a time.") % {"max": MAX_BULK})
        self.targets = _parse_targets(self.raw_targets)
        if self.action == "reject" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Say why, for the member: a rejection needs a reason."))
        return cleaned


def _act(action: str, targets, *, reason: str, note: str, actor) -> tuple[int, list[tuple[int, str]]]:
    done, failed = 0, []
    for campaign_id, signup_id in targets:
        try:
            if action == "approve":
                admission.signup_confirm(
                    campaign_id=campaign_id, signup_id=signup_id, actor=actor, reason=reason, note=note
                )
            else:
                admission.signup_reject(
                    campaign_id=campaign_id, signup_id=signup_id, actor=actor, reason=reason, note=note
                )
            done += 1
        except DomainError as refused:
            failed.append((signup_id, refused.message))
    return done, failed


@operator_required(Perm.SIGNUP_REVIEW)
@require_http_methods(["GET", "POST"])
def review_queue(request: HttpRequest) -> HttpResponse:
    filters = QueueFilter(request.GET or None)
    campaign_id = filters.cleaned_data.get("campaign") if filters.is_valid() else None
    action_form = ReviewAction(request.POST) if request.method == "POST" else ReviewAction(None)
    if request.method == "POST":
        if action_form.is_valid():
            done, failed = _act(
                action_form.action,
                action_form.targets,
                reason=action_form.cleaned_data["reason"].strip(),
                note=action_form.cleaned_data["note"].strip(),
                actor=request.actor,
            )
            if done:
                text = _("Approved: %(n)d.") if action_form.action == "approve" else _("Rejected: %(n)d.")
                messages.success(request, text % {"n": done})
            for signup_id, why in failed:
                messages.error(request, _("Sign-up %(id)d: %(why)s") % {"id": signup_id, "why": why})
            target = reverse("console:review_queue")
            return redirect(f"{target}?campaign={campaign_id}" if campaign_id else target)
        for error in action_form.non_field_errors():
            messages.error(request, error)
    page, query = page_of(request, selectors.review_queue(campaign_id=campaign_id))
    rows = []
    for signup in page:
        shown = signup_present(signup, reveal=False, internal=True)
        shown["answers"] = answers_labelled(signup.campaign.form, shown["answers"])
        rows.append((signup, shown))
    campaigns = list(selectors.review_campaigns())
    context = {
        "section": "review",
        "filters": filters,
        "campaign_id": campaign_id,
        "campaigns": campaigns,
        "form": action_form,
        "page": page,
        "query": query,
        "rows": rows,
    }
    return render(request, "console/review/queue.html", context)


urlpatterns = [path("review/", review_queue, name="review_queue")]
