"""The tags page: create, rename, delete, tag many members; rule-based tags read-only; and every
member-360 and tags view refuses (403) each role without its permission."""

from __future__ import annotations

import pytest

from tests.members.factories import MemberFactory
from yunying.console.views import member360
from yunying.console.views import tags as tag_views
from yunying.core.models import AuditEntry
from yunying.core.permissions import ROLE_PERMISSIONS, Role
from yunying.members import tags
from yunying.members.models import MemberTag, Tag, TagKind

PATTERNS = [*member360.urlpatterns, *tag_views.urlpatterns]
OPERATOR_ROLES = [Role.STRATEGY, Role.EXECUTION, Role.SUPPORT, Role.AUDITOR]


def _url(pattern) -> str:
    return "/console/" + str(pattern.pattern).replace("<int:member_id>", "1").replace("<int:tag_id>", "1")


@pytest.mark.parametrize(
    ("pattern", "role"),
    [
        pytest.param(p, r, id=f"{p.name}-{r}")
        for p in PATTERNS
        for r in OPERATOR_ROLES
        if p.callback.console_perm not in ROLE_PERMISSIONS[r]
    ],
)
def test_a_role_without_the_permission_gets_403(console_as, pattern, role):
    client = console_as(role)
    assert client.get(_url(pattern)).status_code == 403
    assert client.post(_url(pattern), {"tag": "x", "name": "x"}).status_code == 403


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.STRATEGY, 200), (Role.EXECUTION, 200), (Role.SUPPORT, 403), (Role.AUDITOR, 403)],
)
def test_who_manages_tags(console_as, db, role, status):
    assert console_as(role).get("/console/tags/").status_code == status


def test_create_rename_and_delete_a_tag(console_as, db):
    client = console_as(Role.EXECUTION)
    # when
    assert (
        client.post("/console/tags/create/", {"name": " 新客 ", "description": "首单30天内"}).status_code
        == 302
    )
    tag = Tag.objects.get(name="新客")
    assert (
        client.post(f"/console/tags/{tag.pk}/update/", {"name": "新会员", "description": ""}).status_code
        == 302
    )
    page = client.get("/console/tags/").content.decode()
    # then
    assert "新会员" in page and Tag.objects.get(pk=tag.pk).name == "新会员"
    assert client.post(f"/console/tags/{tag.pk}/delete/").status_code == 302
    assert not Tag.objects.exists()
    assert [e.action for e in AuditEntry.objects.filter(object_type="tag").order_by("id")] == [
        "tag.create",
        "tag.update",
        "tag.delete",
    ]


@pytest.mark.parametrize("name", ["", "a/b", "x" * 41], ids=["empty", "slash", "too-long"])
def test_a_bad_name_is_shown_on_the_form(console_as, db, name):
    response = console_as(Role.EXECUTION).post("/console/tags/create/", {"name": name})
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    assert not Tag.objects.exists()


def test_a_rule_tag_is_listed_read_only(console_as, db):
    rule = Tag.objects.create(name="沉睡90天", kind=TagKind.RULE)
    client = console_as(Role.STRATEGY)
    page = client.get("/console/tags/").content.decode()
    assert "沉睡90天" in page and f"/console/tags/{rule.pk}/delete/" not in page
    client.post(f"/console/tags/{rule.pk}/delete/")
    assert Tag.objects.filter(pk=rule.pk).exists()


def test_tagging_many_members(console_as, db):
    # given
    members = [MemberFactory() for _ in range(3)]
    tags.tag_create(name="VIP", actor=tags_actor())
    client = console_as(Role.EXECUTION)
    # when: one id unknown — nothing tagged, the id named
    refused = client.post("/console/tags/bulk/", {"tag": "VIP", "member_ids": f"{members[0].pk}, 999999"})
    # then
    assert (
        refused.status_code == 200 and "999999" in refused.content.decode() and not MemberTag.objects.exists()
    )
    # when: fixed
    ids = "\n".join(str(m.pk) for m in members)
    assert client.post("/console/tags/bulk/", {"tag": "VIP", "member_ids": ids}).status_code == 302
    assert MemberTag.objects.count() == 3


@pytest.mark.parametrize("ids", ["abc", "1 -2", "9" * 30, ""], ids=["letters", "negative", "huge", "empty"])
def test_bad_member_ids_are_refused_on_the_form(console_as, db, ids):
    tags.tag_create(name="VIP", actor=tags_actor())
    response = console_as(Role.EXECUTION).post("/console/tags/bulk/", {"tag": "VIP", "member_ids": ids})
    assert response.status_code == 200 and not MemberTag.objects.exists()


@pytest.mark.parametrize("tag_id", ["999999", "99999999999999999999"])
def test_unknown_tags_are_a_message_not_a_failure(console_as, db, tag_id):
    client = console_as(Role.EXECUTION)
    assert client.post(f"/console/tags/{tag_id}/delete/").status_code == 302
    assert client.post(f"/console/tags/{tag_id}/update/", {"name": "x"}).status_code == 302


def tags_actor():
    from yunying.core.permissions import Actor

    return Actor(kind="user", id=1, label="setup", role=Role.STRATEGY)
