"""Manual tags: create, rename, delete, put on and take off one member or many — audited; rule-based
tags refused for every change."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.members.factories import MemberFactory
from yunying.core.errors import DomainError
from yunying.core.models import AuditEntry
from yunying.core.permissions import Actor, Role
from yunying.members import tags
from yunying.members.models import MemberTag, Tag, TagKind

OPERATOR = Actor(kind="user", id=7, label="王运营", role=Role.EXECUTION)


@pytest.fixture
def vip(db):
    return tags.tag_create(name="VIP", description="高价值", actor=OPERATOR)


@pytest.fixture
def rule_tag(db):
    return Tag.objects.create(name="沉睡90天", kind=TagKind.RULE)


def _code(call) -> str:
    with pytest.raises(DomainError) as refused:
        call()
    return refused.value.code


def test_creating_a_tag_is_audited(vip):
    entry = AuditEntry.objects.get(action="tag.create")
    assert (entry.object_id, entry.after, entry.actor_label) == (
        str(vip.pk),
        {"name": "VIP", "description": "高价值"},
        "王运营",
    )
    assert vip.kind == TagKind.MANUAL


@pytest.mark.parametrize(
    "name",
    ["", "   ", "x" * 41, "a/b", "bad\x00", "tab\tname", "zero\u200bwidth"],
    ids=["empty", "blank", "too-long", "slash", "nul", "control", "format-char"],
)
def test_a_bad_name_is_refused(db, name):
    assert _code(lambda: tags.tag_create(name=name, actor=OPERATOR)) == "tag.name_invalid"
    assert not Tag.objects.exists()


def test_names_are_trimmed_and_unique(vip):
    assert _code(lambda: tags.tag_create(name="  VIP ", actor=OPERATOR)) == "tag.name_taken"
    other = tags.tag_create(name="新客", actor=OPERATOR)
    assert (
        _code(lambda: tags.tag_update(tag_id=other.pk, name="VIP", description="", actor=OPERATOR))
        == "tag.name_taken"
    )


def test_renaming_keeps_the_members(vip):
    # given
    member = MemberFactory()
    tags.member_tag_add(member_id=member.pk, tag_name="VIP", actor=OPERATOR)
    # when
    tags.tag_update(tag_id=vip.pk, name="超级VIP", description="", actor=OPERATOR)
    # then
    assert [link.tag.name for link in tags.member_tags(member.pk)] == ["超级VIP"]
    entry = AuditEntry.objects.get(action="tag.update")
    assert entry.before["name"] == "VIP" and entry.after["name"] == "超级VIP"


def test_deleting_a_tag_takes_it_off_every_member(vip):
    members = [MemberFactory() for _ in range(3)]
    tags.members_tag_add(member_ids=[m.pk for m in members], tag_name="VIP", actor=OPERATOR)
    # when
    assert tags.tag_delete(tag_id=vip.pk, actor=OPERATOR) == 3
    # then
    assert not MemberTag.objects.exists() and not Tag.objects.exists()
    assert AuditEntry.objects.get(action="tag.delete").before == {"name": "VIP", "members": 3}


def test_adding_twice_leaves_one_row_and_removing_says_whether_it_was_there(vip):
    member = MemberFactory()
    tags.member_tag_add(member_id=member.pk, tag_name="VIP", actor=OPERATOR)
    tags.member_tag_add(member_id=member.pk, tag_name="VIP", actor=OPERATOR)
    assert MemberTag.objects.filter(member=member).count() == 1
    assert MemberTag.objects.get(member=member).added_by == "王运营"
    assert tags.member_tag_remove(member_id=member.pk, tag_name="VIP", actor=OPERATOR) is True
    assert tags.member_tag_remove(member_id=member.pk, tag_name="VIP", actor=OPERATOR) is False
    assert (
        AuditEntry.objects.filter(
            action__in=["member.tag_add", "member.tag_remove"], object_id=str(member.pk)
        ).count()
        == 4
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda t, m: tags.tag_update(tag_id=t.pk, name="x", description="", actor=OPERATOR),
        lambda t, m: tags.tag_delete(tag_id=t.pk, actor=OPERATOR),
        lambda t, m: tags.member_tag_add(member_id=m.pk, tag_name=t.name, actor=OPERATOR),
        lambda t, m: tags.member_tag_remove(member_id=m.pk, tag_name=t.name, actor=OPERATOR),
        lambda t, m: tags.members_tag_add(member_ids=[m.pk], tag_name=t.name, actor=OPERATOR),
    ],
    ids=["rename", "delete", "add", "remove", "bulk-add"],
)
def test_a_rule_based_tag_is_read_only(rule_tag, change):
    member = MemberFactory()
    assert _code(lambda: change(rule_tag, member)) == "tag.rule_based"
    assert Tag.objects.get(pk=rule_tag.pk).name == "沉睡90天" and not AuditEntry.objects.exists()


def test_unknown_tag_and_unknown_member(vip):
    member = MemberFactory()
    assert (
        _code(lambda: tags.member_tag_add(member_id=member.pk, tag_name="nope", actor=OPERATOR))
        == "tag.not_found"
    )
    assert (
        _code(lambda: tags.member_tag_add(member_id=10**9, tag_name="VIP", actor=OPERATOR))
        == "member.not_found"
    )
    assert _code(lambda: tags.tag_delete(tag_id=10**9, actor=OPERATOR)) == "tag.not_found"


def test_bulk_add_is_all_or_nothing(vip):
    # given
    members = [MemberFactory() for _ in range(2)]
    tags.member_tag_add(member_id=members[0].pk, tag_name="VIP", actor=OPERATOR)
    # when: one unknown id
    with pytest.raises(DomainError) as refused:
        tags.members_tag_add(member_ids=[members[1].pk, 10**9], tag_name="VIP", actor=OPERATOR)
    # then: nobody new is tagged and the unknown id is named
    assert refused.value.code == "member.not_found" and refused.value.data["ids"] == [10**9]
    assert MemberTag.objects.count() == 1
    # when: the list fixed (and a duplicate id)
    added = tags.members_tag_add(
        member_ids=[m.pk for m in members] + [members[1].pk], tag_name="VIP", actor=OPERATOR
    )
    # then
    assert added == 1 and MemberTag.objects.count() == 2
    assert AuditEntry.objects.get(action="tag.bulk_add").after == {"tag": "VIP", "members": 2, "added": 1}


def test_bulk_add_is_bounded(vip):
    assert (
        _code(lambda: tags.members_tag_add(member_ids=list(range(1, 1002)), tag_name="VIP", actor=OPERATOR))
        == "tag.too_many_members"
    )


def test_tag_list_counts_members(vip, rule_tag):
    member = MemberFactory()
    tags.member_tag_add(member_id=member.pk, tag_name="VIP", actor=OPERATOR)
    assert [(t.name, t.kind, t.members) for t in tags.tag_list()] == [
        ("VIP", "manual", 1),
        ("沉睡90天", "rule", 0),
    ]


def test_operators_tagging_one_member_at_the_same_instant_all_succeed_with_one_row(transactional_db):
    """The unique (member, tag) pair with ON CONFLICT DO NOTHING decides the race: no IntegrityError,
    no second row, one audit row per operator."""
    import threading

    from django.db import connection

    tags.tag_create(name="VIP", actor=OPERATOR)
    member = MemberFactory()
    errors, barrier = [], threading.Barrier(6)

    def tag(n: int):
        barrier.wait()
        try:
            actor = Actor(kind="user", id=100 + n, label=f"op{n}", role=Role.SUPPORT)
            tags.member_tag_add(member_id=member.pk, tag_name="VIP", actor=actor)
        except Exception as error:  # any failure is the finding
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=tag, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert MemberTag.objects.filter(member=member).count() == 1
    assert AuditEntry.objects.filter(action="member.tag_add").count() == 6


def test_tagging_while_the_tag_is_deleted_is_tag_not_found_never_a_crash(transactional_db):
    """The faults review: 28 of 96 such requests were 500s (a foreign-key violation at COMMIT on
    PostgreSQL, a missing row on SQLite)."""
    import threading

    from django.db import connection

    for _round in range(4):
        tag = tags.tag_create(name="限时", actor=OPERATOR)
        members = [MemberFactory() for _ in range(6)]
        outcomes, barrier = [], threading.Barrier(7)

        def tag_one(member, barrier=barrier, outcomes=outcomes):
            barrier.wait()
            try:
                tags.member_tag_add(member_id=member.pk, tag_name="限时", actor=OPERATOR)
                outcomes.append("tagged")
            except DomainError as refused:
                outcomes.append(refused.code)
            except Exception as error:  # any other failure is the finding
                outcomes.append(repr(error))
            finally:
                connection.close()

        def delete(barrier=barrier, tag=tag):
            barrier.wait()
            try:
                tags.tag_delete(tag_id=tag.pk, actor=OPERATOR)
            finally:
                connection.close()

        threads = [threading.Thread(target=tag_one, args=(m,)) for m in members]
        threads.append(threading.Thread(target=delete))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert set(outcomes) <= {"tagged", "tag.not_found"}, outcomes
        assert not Tag.objects.filter(name="限时").exists()
        assert not MemberTag.objects.filter(tag_id=tag.pk).exists()


@given(raw=st.text(max_size=60))
def test_a_clean_tag_name_is_trimmed_short_and_slash_free_or_refused(raw):
    try:
        name = tags.tag_name_clean(raw)
    except DomainError as refused:
        assert refused.code == "tag.name_invalid"
        return
    assert name == raw.strip() and 1 <= len(name) <= tags.MAX_NAME and "/" not in name
