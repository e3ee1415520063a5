"""Member identity (M1, M2, S1): phone normalisation and masking, resolve by phone / external id, PII at rest."""

from __future__ import annotations

from datetime import date

import phonenumbers
import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from tests.members.factories import MemberFactory, mobile
from yunying.core.errors import DomainError
from yunying.core.masking import mask_phone
from yunying.members.models import Member
from yunying.members.services import (
    Profile,
    member_age,
    member_contact,
    member_email,
    member_name,
    member_phone,
    member_resolve,
    phone_display,
    phone_mask,
    phone_normalize,
)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        pytest.param("13800138000", "+8613800138000", id="plain"),
        pytest.param("138 0013 8000", "+8613800138000", id="spaces"),
        pytest.param("138-0013-8000", "+8613800138000", id="dashes"),
        pytest.param("+86 138 0013 8000", "+8613800138000", id="plus86-spaces"),
        pytest.param("+86-138-0013-8000", "+8613800138000", id="plus86-dashes"),
        pytest.param("(+86)13800138000", "+8613800138000", id="plus86-brackets"),
        pytest.param("0086 138 0013 8000", "+8613800138000", id="0086"),
        pytest.param("８６１３８００１３８０００", "+8613800138000", id="full-width"),
        pytest.param("199 1234 5678", "+8619912345678", id="199-prefix"),
        pytest.param("010-1234-5678", "+861012345678", id="beijing-landline"),
        pytest.param("+1 650 253 0000", "+16502530000", id="foreign-e164"),
    ],
)
def test_phone_normalize(raw, e164):
    assert phone_normalize(raw) == e164


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("12345", id="too-short"),
        pytest.param("1380013800", id="ten-digits"),
        pytest.param("138001380001", id="twelve-digits"),
        pytest.param("23800138000", id="no-such-prefix"),
        pytest.param("手机号码", id="words"),
        pytest.param("+86 138 0013 80001", id="plus86-too-long"),
    ],
)
def test_phone_normalize_refuses_invalid_numbers(raw):
    # when
    with pytest.raises(DomainError) as refused:
        phone_normalize(raw)
    # then
    assert refused.value.code == "member.phone_invalid"
    assert refused.value.data == {"field": "phone"}


@pytest.mark.parametrize(
    ("e164", "masked", "displayed"),
    [
        pytest.param("+8613800001234", "138****1234", "13800001234", id="mainland-mobile"),
        pytest.param("+861012345678", "101*****78", "1012345678", id="mainland-landline"),
        pytest.param("+16502530000", "+1 650*****00", "+16502530000", id="foreign"),
        pytest.param("+886912345678", "+886 912****78", "+886912345678", id="taiwan-not-mainland"),
    ],
)
def test_phone_mask_and_display(e164, masked, displayed):
    assert phone_mask(e164) == masked
    assert phone_display(e164) == displayed


@given(national=st.from_regex(r"\A1[3-9]\d{9}\Z") | st.from_regex(r"\A(10|2\d|[3-9]\d\d)\d{8}\Z"))
def test_mainland_shortcut_agrees_with_parsing(national):
    # phone_display / phone_mask skip phonenumbers.parse for "+86": the national number they take
    # must be the one parsing gives, for every number normalisation accepts
    try:
        e164 = phone_normalize(national)
    except DomainError:
        return
    parsed = phonenumbers.parse(e164, None)
    assert parsed.country_code == 86
    assert phone_display(e164) == str(parsed.national_number)
    assert phone_mask(e164) == mask_phone(str(parsed.national_number))


# --- member_resolve ----------------------------------------------------------------------------


def _raw_row(member: Member) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Member._meta.db_table} WHERE id = %s", [member.pk])
        return cursor.fetchone()


def test_a_new_member_is_stored_with_phone_and_name_encrypted(db):
    # when
    member = member_resolve(
        phone="138 0013 8000", external_id=None, profile=Profile(name="张三丰", email="zs@example.com")
    )
    # then: nothing in the row reads as the phone, the name or the e-mail
    row = " ".join(str(value) for value in _raw_row(member))
    for clear in ("13800138000", "张三丰", "zs@example.com"):
        assert clear not in row
    member.refresh_from_db()
    assert member.phone_encrypted.startswith("v2:")
    assert member_phone(member) == "+8613800138000"
    assert member_name(member) == "张三丰"
    assert member_email(member) == "zs@example.com"


@pytest.mark.parametrize(
    "typed_again",
    [
        pytest.param("13800138000", id="plain"),
        pytest.param("+86 138-0013-8000", id="plus86-dashes"),
        pytest.param("0086 138 0013 8000", id="0086"),
        pytest.param("+8613800138000", id="e164"),
    ],
)
def test_the_same_phone_typed_differently_finds_the_same_member(db, typed_again):
    # given
    first = member_resolve(phone="138 0013 8000", external_id=None)
    # when
    again = member_resolve(phone=typed_again, external_id=None)
    # then
    assert again.pk == first.pk
    assert Member.objects.count() == 1


def test_a_different_phone_makes_a_different_member(db):
    # given
    first = member_resolve(phone=mobile(1), external_id=None)
    # when
    second = member_resolve(phone=mobile(2), external_id=None)
    # then
    assert second.pk != first.pk
    assert Member.objects.count() == 2


@pytest.mark.parametrize(
    ("known", "given"),
    [
        pytest.param(
            {"external_id": "shop-001"},
            {"phone": mobile(1), "external_id": "shop-001"},
            id="phone-to-external-id",
        ),
        pytest.param(
            {"phone": mobile(1)}, {"phone": mobile(1), "external_id": "shop-001"}, id="external-id-to-phone"
        ),
        pytest.param(
            {"phone": mobile(1), "external_id": "shop-001"},
            {"phone": mobile(2), "external_id": "shop-001"},
            id="another-phone",
        ),
    ],
)
def test_a_sign_up_never_binds_a_new_identifier_to_a_known_member(db, known, given):
    # given
    member = member_resolve(phone=known.get("phone"), external_id=known.get("external_id"))
    before = (member.phone_index, member.external_id)
    # when: identifiers the member does not have yet, as a caller could send them without proof
    with pytest.raises(DomainError) as refused:
        member_resolve(phone=given["phone"], external_id=given["external_id"])
    # then: one code, whatever the case; the member is as it was
    assert refused.value.code == "member.identity_mismatch"
    member.refresh_from_db()
    assert (member.phone_index, member.external_id) == before
    assert Member.objects.count() == 1


def test_external_id_alone_finds_the_member_again(db):
    first = member_resolve(phone=None, external_id="shop-001")
    assert member_resolve(phone=None, external_id="shop-001").pk == first.pk
    assert Member.objects.count() == 1


def test_phone_and_external_id_of_different_members_conflict(db):
    # given
    member_resolve(phone=mobile(1), external_id=None)
    member_resolve(phone=mobile(2), external_id="shop-002")
    # when
    with pytest.raises(DomainError) as refused:
        member_resolve(phone=mobile(1), external_id="shop-002")
    # then
    assert refused.value.code == "member.identity_mismatch"
    assert Member.objects.count() == 2


@pytest.mark.parametrize(
    ("phone", "external_id"),
    [pytest.param(None, None, id="none"), pytest.param("", "", id="empty-strings")],
)
def test_a_member_needs_a_phone_or_an_external_id(db, phone, external_id):
    # when
    with pytest.raises(DomainError) as refused:
        member_resolve(phone=phone, external_id=external_id)
    # then
    assert refused.value.code == "member.identity_required"
    assert not Member.objects.exists()


@pytest.mark.parametrize(
    ("phone", "profile", "code"),
    [
        pytest.param("12345", Profile(), "member.phone_invalid", id="bad-phone"),
        pytest.param(mobile(1), Profile(region_code="990000"), "member.region_invalid", id="bad-region"),
        pytest.param(mobile(1), Profile(region_code="44030"), "member.region_invalid", id="short-region"),
        pytest.param(mobile(1), Profile(gender="other"), "core.invalid", id="bad-gender"),
    ],
)
def test_invalid_input_creates_no_member(db, phone, profile, code):
    # when
    with pytest.raises(DomainError) as refused:
        member_resolve(phone=phone, external_id=None, profile=profile)
    # then
    assert refused.value.code == code
    assert not Member.objects.exists()


def test_profile_facts_fill_blanks(db):
    # given
    member_resolve(phone=mobile(1), external_id=None)
    # when
    member_resolve(
        phone=mobile(1),
        external_id=None,
        profile=Profile(
            name=" 李四 ",
            email=" Li.Si@Example.COM ",
            gender="male",
            birth_date=date(1990, 5, 1),
            region_code="440305",
        ),
    )
    # then: facts fill blanks; the e-mail, an address notices go to, is not bound this way
    member = Member.objects.get()
    assert member_name(member) == "李四"
    assert member_email(member) is None
    assert (member.gender, member.birth_date, member.region_code) == ("male", date(1990, 5, 1), "440305")


def test_profile_facts_never_overwrite(db):
    # given
    first = Profile(
        name="张三", email="a@example.com", gender="female", birth_date=date(1990, 5, 1), region_code="440305"
    )
    member_resolve(phone=mobile(1), external_id=None, profile=first)
    # when
    member_resolve(
        phone=mobile(1),
        external_id=None,
        profile=Profile(
            name="李四",
            email="b@example.com",
            gender="male",
            birth_date=date(2000, 1, 1),
            region_code="110105",
        ),
    )
    # then
    member = Member.objects.get()
    assert member_name(member) == "张三"
    assert member_email(member) == "a@example.com"
    assert (member.gender, member.birth_date, member.region_code) == ("female", date(1990, 5, 1), "440305")


def test_a_blank_name_does_not_block_a_real_one(db):
    # given
    member_resolve(phone=mobile(1), external_id=None, profile=Profile(name="   ", email="  "))
    # when
    member_resolve(phone=mobile(1), external_id=None, profile=Profile(name="王五", email="w@example.com"))
    # then
    member = Member.objects.get()
    assert member_name(member) == "王五"


@pytest.mark.parametrize(
    ("reveal", "expected"),
    [
        pytest.param(False, {"phone": "138****8000", "name": "欧**"}, id="masked"),
        pytest.param(True, {"phone": "13800138000", "name": "欧阳娜"}, id="revealed"),
    ],
)
def test_member_contact(db, reveal, expected):
    # given
    member = MemberFactory(phone="+8613800138000", name="欧阳娜")
    # when
    contact = member_contact(member, reveal=reveal)
    # then
    assert contact == expected


def test_member_contact_without_phone_or_name(db):
    # given
    member = member_resolve(phone=None, external_id="shop-001")
    # when / then
    assert member_contact(member, reveal=False) == {"phone": None, "name": ""}
    assert member_contact(member, reveal=True) == {"phone": None, "name": ""}


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        pytest.param(date(2006, 6, 15), date(2024, 6, 15), 18, id="birthday"),
        pytest.param(date(2006, 6, 16), date(2024, 6, 15), 17, id="day-before-birthday"),
        pytest.param(None, date(2024, 6, 15), None, id="unknown"),
    ],
)
def test_member_age(db, born, on, age):
    # given
    member = member_resolve(phone=mobile(1), external_id=None, profile=Profile(birth_date=born))
    # when / then
    assert member_age(member, on=on) == age


@pytest.mark.django_db
def test_a_phone_known_under_another_external_id_is_a_conflict():
    # given: the storefront knows this phone's owner as "shop-1"
    member_resolve(phone="13800138000", external_id="shop-1")
    # when / then: a different external id for the same phone is refused, not silently dropped
    with pytest.raises(DomainError) as refused:
        member_resolve(phone="13800138000", external_id="shop-2")
    assert refused.value.code == "member.identity_mismatch"
