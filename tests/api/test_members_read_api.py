"""GET /members/{id} (masked; revealed with a purpose, logged and audited), GET /members (filters,
pages), and a member's manual tags (POST/DELETE /members/{id}/tags/{name}): permissions per role,
IDOR, bad input never a 500."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from tests.api.helpers import assert_problem
from tests.commerce.factories import order_make, order_refund_line
from tests.members.factories import MemberFactory, mobile
from yunying.core.models import AuditEntry, PersonalDataAccess
from yunying.core.permissions import Actor, Role
from yunying.members import tags
from yunying.members.models import MemberTag, Tag, TagKind

SETUP = Actor(kind="user", id=1, label="setup", role=Role.STRATEGY)


@pytest.fixture
def member(db):
    member = MemberFactory(phone=mobile(5), external_id="shop-5", name="王小芳", birth_date=date(1992, 3, 4))
    member.source_channel, member.utm_source = "douyin", "live"
    member.save()
    return member


@pytest.fixture
def vip(db):
    return tags.tag_create(name="VIP", actor=SETUP)


def detail(member_id, **query) -> str:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/api/v1/members/{member_id}" + (f"?{params}" if params else "")


def tag_url(member_id, name: str) -> str:
    return f"/api/v1/members/{member_id}/tags/{quote(name, safe='')}"


# --- GET /members/{id} ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.STRATEGY, Role.EXECUTION, Role.SUPPORT])
def test_operating_roles_read_a_member_masked(api_as, member, vip, role):
    # given
    tags.member_tag_add(member_id=member.pk, tag_name="VIP", actor=SETUP)
    order = order_make(member, "T1", [("SKU-A", 10000, 1), ("SKU-B", 2550, 2)])
    order_refund_line(order, 2, quantity=1, external_id="R1")
    # when
    response = api_as(role).get(detail(member.pk))
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["phone"], body["name"], body["birth_date"]) == ("138****0005", "王**", "1992-**-**")
    assert body["source_channel"] == "douyin" and body["utm_source"] == "live"
    assert [(t["name"], t["kind"]) for t in body["tags"]] == [("VIP", "manual")]
    assert body["purchases"]["orders"] == 1 and body["purchases"]["paid_fen"] == 15100 - 2550
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize("role", [Role.INTEGRATION, Role.AUDITOR])
def test_keys_without_member_view_are_refused_every_read(api_as, member, role):
    # IDOR: a key without the right learns nothing, not even whether the id exists
    client = api_as(role)
    for path in (detail(member.pk), detail(999999), "/api/v1/members"):
        assert_problem(client.get(path), 403, "core.permission_denied")


def test_a_reveal_with_a_purpose_shows_the_profile_logs_and_audits_it(api_as, member):
    # when
    response = api_as(Role.SUPPORT).get(
        detail(member.pk, reveal="true", purpose="customer_service", purpose_note="工单7")
    )
    # then
    body = response.json()
    assert response.status_code == 200 and (body["phone"], body["name"]) == ("13800000005", "王小芳")
    access = PersonalDataAccess.objects.get(member_id=member.pk)
    assert access.purpose == "customer_service: 工单7" and access.actor_kind == "api_key"
    entry = AuditEntry.objects.get(action="member.reveal")
    assert entry.object_id == str(member.pk) and entry.reason == "customer_service: 工单7"


def test_a_reveal_without_a_purpose_is_a_422_and_logs_nothing(api_as, member):
    assert_problem(api_as(Role.SUPPORT).get(detail(member.pk, reveal="true")), 422, "core.invalid")
    assert (
        not PersonalDataAccess.objects.exists()
        and not AuditEntry.objects.filter(action="member.reveal").exists()
    )


def test_execution_reads_masked_but_may_not_reveal(api_as, member):
    assert_problem(
        api_as(Role.EXECUTION).get(detail(member.pk, reveal="true", purpose="customer_service")),
        403,
        "core.permission_denied",
    )
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        (detail(999999), 404, "member.not_found"),
        (detail(0), 422, "core.invalid"),
        (detail(2**63), 422, "core.invalid"),
        ("/api/v1/members/abc", 404, "core.not_found"),
        (detail(1, reveal="maybe"), 422, "core.invalid"),
        (detail(1, reveal="true", purpose="curiosity"), 422, "core.invalid"),
        (detail(1, purpose_note="x" * 201), 422, "core.invalid"),
    ],
    ids=["unknown", "zero", "past-64-bit", "not-a-number", "bad-bool", "unknown-purpose", "long-note"],
)
def test_bad_reads_are_problems(api, db, path, status, code):
    assert_problem(api.get(path), status, code)


# --- GET /members -----------------------------------------------------------------------------------


def test_the_list_is_masked_filtered_and_paged(api_as, member, vip):
    # given
    others = [MemberFactory(phone=mobile(10 + n)) for n in range(3)]
    tags.member_tag_add(member_id=member.pk, tag_name="VIP", actor=SETUP)
    client = api_as(Role.EXECUTION)
    # when
    everyone = client.get("/api/v1/members?page_size=2").json()
    tagged = client.get("/api/v1/members?tag=VIP").json()
    by_channel = client.get("/api/v1/members?source_channel=douyin").json()
    today = timezone.localdate()
    in_range = client.get(f"/api/v1/members?registered_from={today}&registered_to={today}").json()
    earlier = client.get(f"/api/v1/members?registered_to={today - timedelta(days=1)}").json()
    # then
    assert everyone["count"] == 4 and len(everyone["items"]) == 2
    assert [m["id"] for m in tagged["items"]] == [member.pk] and tagged["items"][0]["phone"] == "138****0005"
    assert [m["id"] for m in by_channel["items"]] == [member.pk]
    assert in_range["count"] == 4 and earlier["count"] == 0
    assert all("王小芳" not in str(m) for m in everyone["items"]) and others


def test_the_list_costs_the_same_queries_for_one_member_or_many(
    api_as, member, django_assert_max_num_queries
):
    client = api_as(Role.EXECUTION)
    with django_assert_max_num_queries(6):
        client.get("/api/v1/members")
    for n in range(5):
        MemberFactory(phone=mobile(20 + n))
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/members").json()["count"] == 6


@pytest.mark.parametrize(
    "query",
    [
        "registered_from=0",
        "registered_from=2026-13-01",
        "registered_to=yesterday",
        "page=0",
        "page_size=101",
        "tag=" + "x" * 41,
        "tag=",
    ],
    ids=["number-as-date", "month-13", "word", "page-0", "page-size", "long-tag", "empty-tag"],
)
def test_bad_list_filters_are_422(api, db, query):
    assert_problem(api.get(f"/api/v1/members?{query}"), 422, "core.invalid")


@pytest.mark.parametrize("query", ["registered_from=0001-01-01", "registered_to=9999-12-31", "tag=nobody"])
def test_extreme_but_valid_filters_answer(api, member, query):
    assert api.get(f"/api/v1/members?{query}").status_code == 200


# --- tags -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.STRATEGY, Role.EXECUTION, Role.SUPPORT])
def test_operating_roles_tag_and_untag(api_as, member, vip, role):
    client = api_as(role)
    # when
    added = client.post(tag_url(member.pk, "VIP"))
    again = client.post(tag_url(member.pk, "VIP"))
    # then
    assert added.status_code == 200 and [t["name"] for t in added.json()] == ["VIP"]
    assert again.status_code == 200 and MemberTag.objects.count() == 1
    assert AuditEntry.objects.filter(action="member.tag_add", object_id=str(member.pk)).count() == 2
    # when
    removed = client.delete(tag_url(member.pk, "VIP"))
    # then
    assert removed.status_code == 200 and removed.json() == [] and not MemberTag.objects.exists()


def test_a_chinese_tag_name_in_the_path(api, member):
    tags.tag_create(name="高价值 会员", actor=SETUP)
    assert [t["name"] for t in api.post(tag_url(member.pk, "高价值 会员")).json()] == ["高价值 会员"]


@pytest.mark.parametrize("role", [Role.INTEGRATION, Role.AUDITOR])
def test_keys_without_member_tag_may_not_tag(api_as, member, vip, role):
    client = api_as(role)
    assert_problem(client.post(tag_url(member.pk, "VIP")), 403, "core.permission_denied")
    assert_problem(client.delete(tag_url(member.pk, "VIP")), 403, "core.permission_denied")
    assert not MemberTag.objects.exists()


def test_tag_refusals(api, member, vip):
    Tag.objects.create(name="沉睡", kind=TagKind.RULE)
    assert_problem(api.post(tag_url(member.pk, "nope")), 404, "tag.not_found")
    assert_problem(api.post(tag_url(999999, "VIP")), 404, "member.not_found")
    assert_problem(api.post(tag_url(member.pk, "沉睡")), 409, "tag.rule_based")
    assert_problem(api.delete(tag_url(member.pk, "沉睡")), 409, "tag.rule_based")
    assert_problem(api.post(tag_url(member.pk, "x" * 41)), 422, "core.invalid")
    assert_problem(api.post(tag_url(0, "VIP")), 422, "core.invalid")


# --- PATCH keeps its rules ------------------------------------------------------------------------


def test_patch_answers_with_the_member_and_is_audited(api_as, member):
    response = api_as(Role.SUPPORT).patch_json(
        f"/api/v1/members/{member.pk}", {"region_code": "330106", "reason": "会员来电"}
    )
    assert response.status_code == 200 and response.json()["region_code"] == "330106"
    assert AuditEntry.objects.get(action="member.correct").reason == "会员来电"


@pytest.mark.parametrize("value", ["-3.853716304327505e-133", "1e5", "0", "0.5", "+1"])
def test_a_number_in_any_notation_is_no_date(api, db, value):
    # schemathesis found "-3.85e-133" taken as 1970-01-01 (pydantic reads numbers as timestamps)
    assert_problem(api.get(f"/api/v1/members?registered_to={value}"), 422, "core.invalid")


def test_a_member_read_costs_the_same_queries_with_one_tag_and_order_or_many(api_as, member, vip):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_as(Role.EXECUTION)
    tags.member_tag_add(member_id=member.pk, tag_name="VIP", actor=SETUP)
    order_make(member, "T1", [("SKU-A", 100, 1)])
    client.get(detail(member.pk))  # warm: the key's first use is recorded once
    with CaptureQueriesContext(connection) as one:
        client.get(detail(member.pk))
    for n in range(2, 7):
        tags.tag_create(name=f"t{n}", actor=SETUP)
        tags.member_tag_add(member_id=member.pk, tag_name=f"t{n}", actor=SETUP)
        order_make(member, f"T{n}", [("SKU-A", 100, 1)])
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(detail(member.pk)).json()["tags"]) == 6
    assert len(many.captured_queries) == len(one.captured_queries)
