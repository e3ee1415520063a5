"""The real-name check (S4, sensitive information, PIPL Arts. 28–29): only with the separate consent,
the number checked by GB 11643 and never stored (its result, time and keyed hash are), and erased when
that consent is withdrawn, whichever way it is withdrawn."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.members.factories import MemberFactory, mobile
from yunying.core.errors import DomainError
from yunying.members.consent import consent_change, consent_record
from yunying.members.identity import CHECKS_PER_DAY, identity_check, identity_number_valid
from yunying.members.models import Member

VALID = "11010519491231002X"  # the standard's own example (Beijing Chaoyang, 1949-12-31)


def _with_check(first17: str) -> str:
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    return first17 + "10X98765432"[total % 11]


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        (VALID, True),
        (VALID[:-1] + "0", False),  # wrong check character
        ("11010519491231002", False),  # 17 characters
        ("11010519491231002XX", False),
        (_with_check("99010519491231002"), False),  # no province 99
        (_with_check("11010519490231002"), False),  # 31 February… 1949-02-31
        (_with_check("11010518991231002"), False),  # born 1899
        (_with_check("11010530001231002"), False),  # born in the future
        (_with_check("110105194912310０２"), False),  # full-width digits are normalised first, not here
    ],
    ids=[
        "example",
        "check-char",
        "short",
        "long",
        "province",
        "no-such-day",
        "too-old",
        "future",
        "full-width",
    ],
)
def test_identity_numbers_by_gb_11643(number, valid):
    assert identity_number_valid(number, today=date(2026, 12, 5)) is valid


@given(
    province=st.sampled_from([11, 31, 44, 65, 81]),
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 12, 5)),
    sequence=st.integers(0, 999),
    position=st.integers(0, 16),
    delta=st.integers(1, 9),
)
def test_every_single_digit_typo_is_caught(province, born, sequence, position, delta):
    number = _with_check(f"{province}0101{born:%Y%m%d}{sequence:03d}")
    assert identity_number_valid(number, today=date(2026, 12, 5))
    typo = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert not identity_number_valid(typo, today=date(2026, 12, 5))


@pytest.fixture
def member(db, settings):
    settings.PRIVACY_POLICY_VERSION = "v1"
    member = MemberFactory(phone=mobile(1))
    consent_record(member=member, version="v1", marketing=False, sensitive=True, client_ip=None)
    return member


def _stored(member) -> Member:
    return Member.objects.get(pk=member.pk)


def test_a_check_keeps_the_result_and_a_keyed_hash_never_the_number(member):
    # when
    result = identity_check(
        member=member, name="王小明", number="110105 19491231 002x", sensitive_granted=True
    )
    # then
    stored = _stored(member)
    assert result == "passed" and stored.identity_check == "passed" and stored.identity_checked_at
    assert len(stored.identity_index) == 40 and VALID not in stored.identity_index
    row = Member.objects.filter(pk=member.pk).values().get()
    assert not any(VALID in str(value) or "19491231" in str(value) for value in row.values())


def test_no_check_without_the_separate_consent(member):
    with pytest.raises(DomainError) as refused:
        identity_check(member=member, name="王小明", number=VALID, sensitive_granted=False)
    assert refused.value.code == "identity.consent_required"
    assert _stored(member).identity_check == ""


@pytest.mark.parametrize(
    ("name", "number", "code"),
    [("王小明", VALID[:-1] + "0", "identity.number_invalid"), ("王", VALID, "identity.name_invalid"),
     ("王\x00明", VALID, "identity.name_invalid"), ("<b>罗</b>", VALID, "identity.name_invalid"),
     ("王明; DROP", VALID, "identity.name_invalid")],
    ids=["number", "name-too-short", "name-control-char", "name-html", "name-sql"],
)  # fmt: skip
def test_bad_input_is_refused_with_its_code_and_nothing_is_kept(member, name, number, code):
    with pytest.raises(DomainError) as refused:
        identity_check(member=member, name=name, number=number, sensitive_granted=True)
    assert refused.value.code == code
    assert _stored(member).identity_index == ""


@pytest.mark.parametrize("name", ["阿沛·阿旺晋美", "Anne-Marie O'Neil", "王小明"])
def test_names_as_identity_cards_write_them_are_accepted(member, name):
    identity_check(member=member, name=name, number=VALID, sensitive_granted=True)
    assert _stored(member).identity_check


def test_trying_numbers_is_limited_per_day(member):
    for _ in range(CHECKS_PER_DAY):
        identity_check(member=member, name="王小明", number=VALID, sensitive_granted=True)
    with pytest.raises(DomainError) as refused:
        identity_check(member=member, name="王小明", number=VALID, sensitive_granted=True)
    assert refused.value.code == "core.rate_limited"


@pytest.mark.parametrize("how", ["one purpose", "the notice page"])
def test_withdrawing_the_sensitive_consent_erases_the_check(member, how):
    identity_check(member=member, name="王小明", number=VALID, sensitive_granted=True)
    # when
    if how == "one purpose":
        consent_change(member=member, purpose="sensitive", granted=False, channel="h5", client_ip=None)
    else:
        consent_record(member=member, version="v1", marketing=False, sensitive=False, client_ip=None)
    # then
    stored = _stored(member)
    assert (stored.identity_index, stored.identity_check, stored.identity_checked_at) == ("", "", None)
