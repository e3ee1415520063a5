"""members.services' bulk path (the import's): ids and resolution as the one-member path decides."""

from __future__ import annotations

import pytest
from django.db import transaction

from yunying.core.errors import DomainError
from yunying.members.services import (
    MemberRef,
    Profile,
    member_name,
    member_resolve,
    members_ids,
    members_match,
    members_resolve_bulk,
)

pytestmark = pytest.mark.django_db


def test_members_ids_answers_as_members_match_the_oracle():
    a = member_resolve(phone="13800000001", external_id="A")
    b = member_resolve(phone="13800000002", external_id=None)
    member_resolve(phone=None, external_id="C")
    refs = [
        MemberRef("+8613800000001", "A"),  # both A's
        MemberRef("+8613800000001", None),
        MemberRef(None, "A"),
        MemberRef("+8613800000002", None),
        MemberRef("+8613800000002", "B2"),  # b has no external id: a mismatch, as _find says
        MemberRef("+8613800000001", "C"),  # two members
        MemberRef("+8613800000009", None),  # unknown
        MemberRef(None, "C"),
    ]
    oracle = [m.pk if hasattr(m, "pk") else m for m in members_match(refs)]
    fast = members_ids(refs)
    assert [type(x) for x in fast] == [type(x) for x in oracle]
    assert [x for x in fast if not isinstance(x, DomainError)] == [
        x for x in oracle if not isinstance(x, DomainError)
    ]
    assert fast[0] == a.pk and fast[3] == b.pk and fast[6] is None
    assert isinstance(fast[4], DomainError) and isinstance(fast[5], DomainError)


def test_resolve_bulk_creates_once_and_fills_blanks_only():
    known = member_resolve(phone="13800000001", external_id=None, profile=Profile(name="张三"))
    refs = [
        MemberRef("+8613800000001", None),
        MemberRef("+8613800000003", "N"),
        MemberRef("+8613800000003", "N"),
    ]
    with transaction.atomic():
        resolved = members_resolve_bulk(
            refs, profiles=[Profile(name="李四", region_code="310100"), Profile(name="王五"), Profile()]
        )
    assert resolved.created == 1 and resolved.updated == 1
    first, new, again = resolved.members
    assert first.pk == known.pk and member_name(first) == "张三" and first.region_code == "310100"
    assert new.pk == again.pk and member_name(new) == "王五" and new.external_id == "N"
    with transaction.atomic():
        assert members_resolve_bulk(refs).created == 0
