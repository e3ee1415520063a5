"""The audit log and the personal-data access log: read-only, filtered, paginated, for auditors."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from yunying.core.audit import audit_record, pii_access_record
from yunying.core.permissions import Actor, Role

AUDIT, ACCESS = "/console/audit/", "/console/audit/access/"
ANN = Actor(kind="user", id=5, label="ann", role=Role.EXECUTION)
BOB = Actor(kind="user", id=6, label="bob", role=Role.SUPPORT)


def _entries(n: int, *, actor=ANN, action="campaign.publish", object_id=1) -> None:
    with transaction.atomic():
        for _ in range(n):
            audit_record(
                actor=actor,
                action=action,
                object_type="campaign",
                object_id=object_id,
                after={"status": "published"},
            )


def _accesses(n: int, *, actor=BOB, member_id=7) -> None:
    for _ in range(n):
        pii_access_record(actor=actor, member_ids=[member_id], fields=["phone"], purpose="customer_service")


def test_the_auditor_reads_the_trail(console_as):
    _entries(1)
    response = console_as(Role.AUDITOR).get(AUDIT)
    assert response.status_code == 200
    assert "campaign.publish" in response.content.decode() and "ann" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"actor": "ann"}, 2),
        ({"actor": "user:6"}, 1),
        ({"action": "signup"}, 1),
        ({"action": "campaign.publish"}, 2),
        ({"object_type": "campaign", "object_id": "9"}, 1),
        ({"actor": "ann", "since": "2000-01-01", "until": "9000-01-01"}, 2),
        ({"until": "2000-01-01"}, 0),
    ],
    ids=["label", "kind:id", "prefix", "exact", "object", "dates", "before"],
)
def test_the_trail_filters(console_as, query, shown):
    # given
    _entries(2)
    _entries(1, actor=BOB, action="signup.reject", object_id=9)
    # when
    response = console_as(Role.AUDITOR).get(AUDIT, query)
    # then
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == shown


@pytest.mark.parametrize(
    "query",
    [
        {"since": "1800-01-01"},
        {"since": "0000-00-00"},
        {"until": "99999-01-01"},
        {"actor": "x" * 10_000},
        {"object_id": "9" * 100},
        {"page": "1" + "0" * 20},
        {"page": "-3"},
    ],
)
def test_bad_filters_are_explained_never_a_500(console_as, query):
    _entries(1)
    assert console_as(Role.AUDITOR).get(AUDIT, query).status_code == 200


def test_the_access_log_filters_by_member_and_actor(console_as):
    _accesses(2, member_id=7)
    _accesses(1, actor=ANN, member_id=8)
    client = console_as(Role.AUDITOR)
    assert len(client.get(ACCESS, {"member": 7}).context["page"].object_list) == 2
    assert len(client.get(ACCESS, {"actor": "ann"}).context["page"].object_list) == 1
    page = client.get(ACCESS).content.decode()
    assert "客户服务：会员请求帮助" in page and "bob" in page  # the purpose in words


@pytest.mark.parametrize(
    "query", [{"member": "99999999999999999999999"}, {"member": "abc"}, {"member": "-1"}, {"page": "9" * 100}]
)
def test_the_access_log_survives_bad_input(console_as, query):
    assert console_as(Role.AUDITOR).get(ACCESS, query).status_code == 200


@pytest.mark.parametrize("role", [Role.EXECUTION, Role.SUPPORT])
def test_roles_without_audit_view_get_403(console_as, role):
    client = console_as(role)
    assert client.get(AUDIT).status_code == 403
    assert client.get(ACCESS).status_code == 403
    assert f'href="{AUDIT}"' not in client.get("/console/security/").content.decode()


def test_the_log_is_read_only(console_as):
    assert console_as(Role.AUDITOR).post(AUDIT).status_code == 405


@pytest.mark.parametrize(("url", "add"), [(AUDIT, _entries), (ACCESS, _accesses)], ids=["audit", "access"])
def test_the_logs_read_in_a_fixed_number_of_queries(console_as, django_assert_num_queries, url, add):
    client = console_as(Role.AUDITOR)
    add(2)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    add(4)
    with django_assert_num_queries(len(few)):
        client.get(url)


def test_the_log_reads_in_english_and_chinese(console_as):
    client = console_as(Role.AUDITOR)
    assert "Audit log" in client.get(AUDIT, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(AUDIT, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "Operator actions" not in chinese and "操作记录" in chinese


def test_actions_objects_and_fields_read_as_words_with_their_codes_kept(console_as):
    """An operator read privacy.request_create, privacy_request and due_at (new user review): the
    words lead, each code stays beside them (title, small text) for auditors who search by it."""
    # given
    with transaction.atomic():
        audit_record(
            actor=ANN, action="privacy.request_create", object_type="privacy_request", object_id=15,
            after={"channel": "phone", "due_at": "2026-01-31", "kind": "erase"},
        )  # fmt: skip
    # when
    page = console_as(Role.AUDITOR).get(AUDIT, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    # then
    assert "登记隐私请求" in page and "privacy.request_create" in page
    assert "隐私请求</span> #15" in page and 'title="privacy_request"' in page
    assert "渠道" in page and "截止时间" in page and 'title="due_at"' in page
    assert "执行" in page  # the operator's role in words, not "execution"


def test_a_reveal_reason_reads_as_its_purpose_in_words(console_as):
    """The reason of a look-up is the purpose it was made for: an auditor read customer_service."""
    with transaction.atomic():
        audit_record(actor=ANN, action="member.lookup", object_type="member", object_id=2,
                     reason="customer_service: 工单 88")  # fmt: skip
        audit_record(actor=ANN, action="signup.reject", object_type="signup", object_id=3, reason="资料不全")
    page = console_as(Role.AUDITOR).get(AUDIT, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "客户服务：会员请求帮助: 工单 88" in page and "customer_service:" not in page
    assert "资料不全" in page  # a reason that is no purpose stays as written


def test_a_system_actor_reads_as_words(console_as):
    with transaction.atomic():
        audit_record(
            actor=Actor(kind="system", id=None, label="loyalty earning"),
            action="loyalty.points_rebuild", object_type="point_account", object_id=None,
        )  # fmt: skip
    page = console_as(Role.AUDITOR).get(AUDIT, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "系统自动发放积分" in page and "重算积分余额" in page


def test_the_action_filter_lists_words_and_filters_by_code(console_as):
    # given
    _entries(1, action="campaign.publish")
    _entries(1, action="campaign.cancel")
    client = console_as(Role.AUDITOR)
    # when
    response = client.get(AUDIT, {"action": "campaign.cancel"}, HTTP_ACCEPT_LANGUAGE="zh-Hans")
    page = response.content.decode()
    # then
    assert len(response.context["page"].object_list) == 1
    assert '<option value="campaign.cancel" selected>取消活动</option>' in page
    assert '<optgroup label="活动">' in page and '<option value="campaign">全部：活动</option>' in page
    assert '<option value="privacy_request">隐私请求</option>' in page


def test_an_unknown_action_in_the_filter_is_explained(console_as):
    response = console_as(Role.AUDITOR).get(AUDIT, {"action": "no.such"})
    assert response.status_code == 200 and response.context["page"].object_list == []


def test_the_access_log_names_the_role_in_words(console_as):
    _accesses(1)
    page = console_as(Role.AUDITOR).get(ACCESS, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert '<span title="support">客服</span>' in page
