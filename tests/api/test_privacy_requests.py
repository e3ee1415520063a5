"""Members' requests about their data through the API (a help desk's ticketing system): the same
queue, deadlines and refusals as the console's 隐私请求, each refusal with its status and code."""

from __future__ import annotations

import pytest

from tests.api.helpers import assert_problem
from tests.conftest import ApiClient, held_key
from yunying.core.models import AuditEntry, PersonalDataAccess
from yunying.core.permissions import Role
from yunying.members.services import member_find, member_resolve
from yunying.privacy.models import DataSubjectRequest

pytestmark = pytest.mark.django_db
URL = "/api/v1/privacy/requests"
PHONE = "+8613912345678"


@pytest.fixture
def member(db):
    return member_resolve(phone=PHONE, external_id=None)


def _record(client, member_id: int, kind: str = "export", **extra):
    return client.post_json(URL, {"member_id": member_id, "kind": kind, "channel": "email"} | extra)


def test_support_records_an_e_mailed_request_sends_the_data_and_closes_it(api_as, member):
    support = api_as(Role.SUPPORT)
    # when
    made = _record(support, member.pk, details="会员来信 a.b@example.com 要求导出，回电 13912345678")
    # then
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["status"] == "open" and body["working_days_left"] == 15
    assert "example.com" not in body["details"] and "13912345678" not in body["details"]  # free text scrubbed
    queue = support.get(URL).json()
    assert [r["id"] for r in queue["items"]] == [body["id"]]
    # the deadline reads the same, in UTC, in the answer that made it and in every later read
    assert body["due_at"].endswith("Z") and queue["items"][0]["due_at"] == body["due_at"]
    checked = {"identity_confirmed": True, "note": "回拨预留号码核实"}
    # the data file leaves with a second person, who checked who asked
    assert_problem(support.post_json(f"{URL}/{body['id']}/export", checked), 403, "privacy.same_person")
    second = ApiClient(held_key("kefu02", Role.SUPPORT, name="desk 2")[1])
    assert_problem(second.post_json(f"{URL}/{body['id']}/export"), 422, "privacy.identity_unconfirmed")
    assert_problem(
        second.post_json(f"{URL}/{body['id']}/export", {"identity_confirmed": "yes", "note": "x"}),
        422, "core.invalid",
    )  # fmt: skip
    assert not PersonalDataAccess.objects.exists()
    data = second.post_json(f"{URL}/{body['id']}/export", checked)
    assert data.status_code == 200 and data.json()["holdings"]["members.profile"]["data"]["phone"] == PHONE
    assert (
        PersonalDataAccess.objects.get(member_id=member.pk).purpose == f"data_subject_request: #{body['id']}"
    )
    done = support.post_json(f"{URL}/{body['id']}/carry-out", {"note": "已邮件发送"})
    assert (
        done.status_code == 200
        and done.json()["status"] == "done"
        and done.json()["working_days_left"] is None
    )
    assert support.get(URL, {"status": "done"}).json()["count"] == 1
    assert set(AuditEntry.objects.filter(object_type="privacy_request").values_list("action", flat=True)) == {
        "privacy.request_create", "privacy.request_export", "privacy.request_carry_out",
    }  # fmt: skip


def test_an_erasure_through_the_api_erases_and_a_second_answer_conflicts(api_as, member):
    support = api_as(Role.SUPPORT)
    request_id = _record(support, member.pk, "erase").json()["id"]
    confirmed = {"note": "回拨核实", "identity_confirmed": True}
    assert_problem(
        support.post_json(f"{URL}/{request_id}/carry-out", {}), 422, "privacy.identity_unconfirmed"
    )
    assert_problem(support.post_json(f"{URL}/{request_id}/carry-out", confirmed), 403, "privacy.same_person")
    assert member_find(phone=PHONE) is not None
    second = ApiClient(held_key("kefu02", Role.SUPPORT, name="desk 2")[1])
    assert second.post_json(f"{URL}/{request_id}/carry-out", confirmed).status_code == 200
    assert member_find(phone=PHONE) is None
    assert_problem(
        support.post_json(f"{URL}/{request_id}/reject", {"note": "x"}), 409, "privacy.request_closed"
    )
    assert_problem(support.post_json(f"{URL}/{request_id}/export"), 409, "privacy.request_closed")


@pytest.mark.parametrize(
    ("call", "status", "code"),
    [
        (lambda c, m, r: _record(c, 999_999), 404, "member.not_found"),
        (lambda c, m, r: c.get(f"{URL}/999999"), 404, "privacy.request_not_found"),
        (lambda c, m, r: c.post_json(f"{URL}/{r}/reject", {"note": " "}), 422, "core.invalid"),  # declared: \\S
        (lambda c, m, r: c.post_json(f"{URL}/{r}/reject", {"note": "\u200b"}), 422, "privacy.reason_required"),
        (lambda c, m, r: c.post_json(f"{URL}/{r}/export"), 409, "privacy.request_not_export"),
        (lambda c, m, r: _record(c, m, channel="self_service"), 422, "core.invalid"),
        (lambda c, m, r: _record(c, m, kind="forget"), 422, "core.invalid"),
        (lambda c, m, r: _record(c, m, surprise=1), 422, "core.invalid"),
        (lambda c, m, r: c.get(URL, {"status": "lost"}), 422, "core.invalid"),
        (lambda c, m, r: c.get(f"{URL}/{2**63}"), 422, "core.invalid"),
    ],
    ids=["no-member", "no-request", "blank-reason", "zero-width-reason", "erase-has-no-file", "self-service-channel", "kind",
         "unknown-field", "status", "id-past-2-63"],
)  # fmt: skip
def test_refusals_have_their_status_and_code_and_change_nothing(api_as, member, call, status, code):
    support = api_as(Role.SUPPORT)
    request_id = _record(support, member.pk, "erase").json()["id"]
    before = list(DataSubjectRequest.objects.values())
    assert_problem(call(support, member.pk, request_id), status, code)
    assert list(DataSubjectRequest.objects.values()) == before
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize("role", [Role.EXECUTION, Role.AUDITOR, Role.INTEGRATION])
def test_roles_without_the_permission_are_refused(api_as, member, role):
    request_id = _record(api_as(Role.SUPPORT), member.pk).json()["id"]
    client = api_as(role)
    for response in (
        client.get(URL),
        client.get(f"{URL}/{request_id}"),
        _record(client, member.pk),
        client.post_json(f"{URL}/{request_id}/export"),
        client.post_json(f"{URL}/{request_id}/carry-out", {}),
    ):
        assert_problem(response, 403, "core.permission_denied")
    assert DataSubjectRequest.objects.get().status == "open"
