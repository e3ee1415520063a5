"""Rejecting and withdrawing (issue 8 §4): the member is told the member-facing reason only; the
reviewer's internal note is kept on the sign-up and its history, and shown to operators only."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from tests.api.helpers import assert_problem, signups_url
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.messages import text_render
from yunying.campaigns.models import SignupEvent
from yunying.core.models import AuditEntry
from yunying.core.permissions import Role
from yunying.notify.delivery import outbox_deliver_due
from yunying.notify.models import OutboxMessage

pytestmark = pytest.mark.django_db

REASON = "报名资料不完整"
NOTE = "疑似黄牛：同一设备 5 个号码"


def _sms_bodies(notify_dir) -> list[str]:
    path = notify_dir / "sms.jsonl"
    return [json.loads(line)["body"] for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("action", ["reject", "withdraw"])
def test_the_member_is_told_the_reason_and_never_the_internal_note(api, published, notify_dir, action):
    # given
    campaign = published()
    signup = sign_up(campaign, mobile(1))
    # when
    response = api.post_json(signups_url(campaign.pk, signup.pk, action), {"reason": REASON, "note": NOTE})
    outbox_deliver_due()
    # then: the operator's answer carries both
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status_reason"], body["status_note"]) == (REASON, NOTE)
    # the member's message carries the reason only, and the queued row holds no note either
    template = "signup_rejected" if action == "reject" else "signup_withdrawn"
    message = OutboxMessage.objects.get(template=template)
    assert NOTE not in json.dumps(message.context, ensure_ascii=False)
    told = _sms_bodies(notify_dir)[-1]
    assert REASON in told and NOTE not in told
    with translation.override("zh-hans"):
        assert told == text_render(template, {"campaign": campaign.title, "reason": REASON})[1]
    # the note is kept on the sign-up, on its history row and in the audit trail
    event = SignupEvent.objects.filter(signup_id=signup.pk).latest("id")
    assert (event.reason, event.note) == (REASON, NOTE)
    audit = AuditEntry.objects.get(action=f"signup.{action}", object_id=str(signup.pk))
    assert (audit.reason, audit.after["note"]) == (REASON, NOTE)


def test_operators_read_the_note_in_the_sign_up_and_the_list(api, published):
    # given
    campaign = published()
    signup = sign_up(campaign, mobile(1))
    api.post_json(signups_url(campaign.pk, signup.pk, "reject"), {"reason": REASON, "note": NOTE})
    # when
    one = api.get(signups_url(campaign.pk, signup.pk)).json()
    [listed] = api.get(signups_url(campaign.pk)).json()["items"]
    # then
    assert one["status_note"] == listed["status_note"] == NOTE


def test_the_storefront_withdrawing_gets_no_internal_note_back(integration, api, published):
    # given
    campaign = published()
    signup = sign_up(campaign, mobile(1))
    # when: the storefront withdraws for the member, with a note of its own
    response = integration.post_json(
        signups_url(campaign.pk, signup.public_id, "withdraw"),
        {"reason": "行程冲突", "note": "客服工单 #8812", "member": {"phone": mobile(1)}},
    )
    # then: stored for operators, not echoed to a caller without signup.view
    assert response.status_code == 200, response.content
    assert response.json()["status_note"] is None
    assert api.get(signups_url(campaign.pk, signup.pk)).json()["status_note"] == "客服工单 #8812"


def test_the_note_is_optional(api, published):
    campaign = published()
    signup = sign_up(campaign, mobile(1))
    response = api.post_json(signups_url(campaign.pk, signup.pk, "reject"), {"reason": REASON})
    assert response.status_code == 200
    assert response.json()["status_note"] == ""


def test_a_note_longer_than_1000_characters_is_refused(api, published):
    campaign = published()
    signup = sign_up(campaign, mobile(1))
    response = api.post_json(
        signups_url(campaign.pk, signup.pk, "reject"), {"reason": REASON, "note": "长" * 1001}
    )
    assert_problem(response, 422, "core.invalid")


@pytest.mark.parametrize("role", [Role.STRATEGY, Role.SUPPORT, Role.EXECUTION])
def test_every_role_that_views_sign_ups_sees_the_note(api, api_as, published, role):
    campaign = published()
    signup = sign_up(campaign, mobile(1))
    api.post_json(signups_url(campaign.pk, signup.pk, "reject"), {"reason": REASON, "note": NOTE})
    assert api_as(role).get(signups_url(campaign.pk, signup.pk)).json()["status_note"] == NOTE
