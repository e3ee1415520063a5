"""隐私请求 in the console: support records a request received by phone, sees its deadline and the
working days left (overdue ones highlighted), carries it out or rejects it with a reason; roles
without privacy.requests are refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from tests.console.conftest import make_operator, sign_in
from yunying.core.models import AuditEntry
from yunying.core.permissions import Role
from yunying.members.models import Member
from yunying.members.services import member_find, member_resolve
from yunying.privacy.models import DataSubjectRequest, RequestStatus

pytestmark = pytest.mark.django_db
PHONE = "+8613912345678"


def test_support_records_a_request_by_phone_and_carries_out_an_erasure(console_as):
    # given
    client = console_as(Role.SUPPORT)
    member = member_resolve(phone=PHONE, external_id=None)
    # when
    client.post(
        "/console/privacy/requests/new/",
        {"member_id": member.pk, "kind": "erase", "channel": "phone", "details": "来电要求注销"},
    )
    page = client.get("/console/privacy/requests/").content.decode()
    # then
    request = DataSubjectRequest.objects.get(member=member)
    assert request.status == RequestStatus.OPEN and request.channel == "phone"
    assert "来电要求注销" in page and "剩余工作日：15" in page
    decide = f"/console/privacy/requests/{request.pk}/decide/"
    # the operator who recorded it cannot also carry it out
    response = client.post(
        decide, {"decision": "carry_out", "note": "回拨核实", "identity_confirmed": "on"}, follow=True
    )
    assert "另一位运营人员" in response.content.decode()
    # a second operator, who must confirm who asked and say how
    second = Client()
    sign_in(second, make_operator(Role.SUPPORT, username="op-support-2", with_totp=True))
    page = second.get("/console/privacy/requests/").content.decode()
    assert f'id="idc-{request.pk}"' in page  # the confirmation an erasure asks for
    response = second.post(decide, {"decision": "carry_out", "note": "身份已核实"}, follow=True)
    assert "不可撤销" in response.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN and member_find(phone=PHONE) is not None
    response = second.post(
        decide, {"decision": "carry_out", "note": "回拨注册手机核实", "identity_confirmed": "on"}, follow=True
    )
    assert response.status_code == 200
    request.refresh_from_db()
    assert request.status == RequestStatus.DONE and member_find(phone=PHONE) is None
    assert request.handled_by == "op-support-2"
    assert AuditEntry.objects.filter(action="privacy.request_carry_out", actor_role="support").exists()


def test_an_overdue_request_is_highlighted_and_a_rejection_needs_a_reason(console_as):
    client = console_as(Role.SUPPORT)
    member = Member.objects.create(external_id="dsr-1")
    client.post(
        "/console/privacy/requests/new/", {"member_id": member.pk, "kind": "access", "channel": "email"}
    )
    request = DataSubjectRequest.objects.get(member=member)
    DataSubjectRequest.objects.filter(pk=request.pk).update(due_at=request.received_at - timedelta(days=7))
    page = client.get("/console/privacy/requests/").content.decode()
    assert f'class="table-danger" data-request="{request.pk}"' in page and "已逾期 5 个工作日" in page
    client.post(f"/console/privacy/requests/{request.pk}/decide/", {"decision": "reject", "note": " "})
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN
    client.post(
        f"/console/privacy/requests/{request.pk}/decide/", {"decision": "reject", "note": "无法核实身份"}
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.REJECTED and request.notes == "无法核实身份"


def test_bad_input_is_a_message_not_an_error(console_as):
    client = console_as(Role.SUPPORT)
    response = client.post(
        "/console/privacy/requests/new/",
        {"member_id": "１２", "kind": "erase", "channel": "phone"},
        follow=True,
    )
    assert response.status_code == 200 and not DataSubjectRequest.objects.exists()
    response = client.post(
        "/console/privacy/requests/new/",
        {"member_id": "999999", "kind": "erase", "channel": "phone"},
        follow=True,
    )
    assert response.status_code == 200 and not DataSubjectRequest.objects.exists()
    member = member_resolve(phone=PHONE, external_id=None)
    response = client.post(  # the member's own request is made signed in, never filed for them
        "/console/privacy/requests/new/",
        {"member_id": member.pk, "kind": "erase", "channel": "self_service"},
        follow=True,
    )
    assert response.status_code == 200 and not DataSubjectRequest.objects.exists()


@pytest.mark.parametrize("role", [Role.EXECUTION, Role.AUDITOR])
def test_roles_without_the_permission_are_refused(console_as, role):
    client = console_as(role)
    assert client.get("/console/privacy/requests/").status_code == 403
    assert client.post("/console/privacy/requests/new/", {}).status_code == 403


def test_support_downloads_the_data_a_member_asked_for_by_e_mail_and_then_records_it_sent(console_as):
    import json

    client = console_as(Role.SUPPORT)
    member = member_resolve(phone=PHONE, external_id=None)
    client.post(
        "/console/privacy/requests/new/", {"member_id": member.pk, "kind": "export", "channel": "email"}
    )
    request = DataSubjectRequest.objects.get(member=member)
    page = client.get("/console/privacy/requests/").content.decode()
    assert f'data-export="{request.pk}"' in page
    assert client.get(f"/console/privacy/requests/{request.pk}/export/").status_code == 405  # a read in clear
    checked = {"identity_confirmed": "on", "note": "回拨预留号码核实"}
    # the one who recorded it hands nothing over; a second operator does, having checked who asked
    refused = client.post(f"/console/privacy/requests/{request.pk}/export/", checked, follow=True)
    assert "另一位运营人员" in refused.content.decode()
    second = Client()
    sign_in(second, make_operator(Role.SUPPORT, username="kefu02", with_totp=True))
    unchecked = second.post(f"/console/privacy/requests/{request.pk}/export/", follow=True)
    assert "核实" in unchecked.content.decode() and "Content-Disposition" not in unchecked
    response = second.post(f"/console/privacy/requests/{request.pk}/export/", checked)
    assert response["Content-Disposition"] == f'attachment; filename="member-{member.pk}-data.json"'
    assert json.loads(response.content)["holdings"]["members.profile"]["data"]["phone"] == PHONE
    client.post(
        f"/console/privacy/requests/{request.pk}/decide/", {"decision": "carry_out", "note": "已邮件发送"}
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.DONE
    # a closed request gives no more files: a message, not an error
    response = client.post(f"/console/privacy/requests/{request.pk}/export/", follow=True)
    assert response.status_code == 200 and "该请求已办理或已拒绝" in response.content.decode()


@pytest.mark.parametrize(
    "note", ["\u200b", "\u200b \ufeff\u2060", "\u3164"], ids=["zwsp", "joiners", "filler"]
)
def test_a_reason_of_invisible_characters_only_is_no_reason(console_as, note):
    """New-user review: a rejection whose reason was one U+200B was taken."""
    client = console_as(Role.SUPPORT)
    member = Member.objects.create(external_id="dsr-zw")
    client.post(
        "/console/privacy/requests/new/", {"member_id": member.pk, "kind": "access", "channel": "email"}
    )
    request = DataSubjectRequest.objects.get(member=member)
    response = client.post(
        f"/console/privacy/requests/{request.pk}/decide/", {"decision": "reject", "note": note}, follow=True
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN and "请说明原因" in response.content.decode()


def test_details_over_1000_characters_are_refused_not_cut(console_as):
    """New-user review: the console cut them to 1,000 silently (the API refuses with 422)."""
    client = console_as(Role.SUPPORT)
    member = Member.objects.create(external_id="dsr-long")
    response = client.post(
        "/console/privacy/requests/new/",
        {"member_id": member.pk, "kind": "access", "channel": "email", "details": "问" * 1001},
        follow=True,
    )
    assert "会员诉求请控制在 1,000 字以内" in response.content.decode()
    assert not DataSubjectRequest.objects.exists()
    client.post(
        "/console/privacy/requests/new/",
        {"member_id": member.pk, "kind": "access", "channel": "email", "details": "问" * 1000},
    )
    assert len(DataSubjectRequest.objects.get().details) == 1000
