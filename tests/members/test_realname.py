"""Real-name check (sensitive data, S4): needs the separate consent; validates the GB 11643 check
digit locally (a provider setting for a real service); keeps only the outcome, the time and a keyed
hash of the number; withdrawing the consent erases them; a dump holds no identity number."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tests.members.factories import mobile
from yunying.core.errors import DomainError
from yunying.members.consent import consent_change, consent_record, policy_version
from yunying.members.models import Member
from yunying.members.realname import id_number_valid, realname_check
from yunying.members.services import member_resolve

VALID = "11010519491231002X"  # the standard's own example


@pytest.fixture
def consenting(db):
    member = member_resolve(phone=mobile(1), external_id=None)
    consent_record(member=member, version=policy_version(), marketing=False, sensitive=True, client_ip=None)
    return member


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        (VALID, True),
        ("110105194912310021", False),  # wrong check digit
        ("11010519491331002X", False),  # month 13
        ("1101051949123100", False),  # short
        ("11010521991231002X", False),  # born in the future
    ],
)
def test_the_check_digit(number, valid):
    assert id_number_valid(number) is valid


def test_without_the_sensitive_consent_nothing_is_checked(db):
    member = member_resolve(phone=mobile(2), external_id=None)
    consent_record(member=member, version=policy_version(), marketing=True, sensitive=False, client_ip=None)
    with pytest.raises(DomainError) as refused:
        realname_check(member=member, name="张三", id_number=VALID)
    assert refused.value.code == "realname.consent_required"
    member.refresh_from_db()
    assert member.realname_result == "" and member.realname_id_hash == ""


def test_an_invalid_number_is_refused_and_nothing_kept(consenting):
    with pytest.raises(DomainError) as refused:
        realname_check(member=consenting, name="张三", id_number="110105194912310021")
    assert refused.value.code == "realname.id_number_invalid"
    assert Member.objects.get(pk=consenting.pk).realname_checked_at is None


def test_only_the_result_time_and_a_keyed_hash_are_kept_and_the_dump_has_no_number(consenting, settings):
    # when
    assert realname_check(member=consenting, name="张三", id_number=VALID.lower()) is True
    # then
    member = Member.objects.get(pk=consenting.pk)
    assert member.realname_result == "passed" and member.realname_checked_at is not None
    assert len(member.realname_id_hash) == 40 and VALID not in member.realname_id_hash
    out = io.StringIO()
    call_command("dumpdata", "--all", stdout=out)
    dump = out.getvalue()
    assert VALID not in dump and VALID[:17] not in dump and "19491231" not in dump


def test_a_provider_setting_decides(consenting, settings):
    settings.REALNAME_PROVIDER = "tests.members.test_realname.refusing_provider"
    assert realname_check(member=consenting, name="张三", id_number=VALID) is False
    assert Member.objects.get(pk=consenting.pk).realname_result == "failed"


def refusing_provider(name: str, id_number: str) -> bool:
    return False


def test_withdrawing_the_consent_erases_the_check(consenting):
    realname_check(member=consenting, name="张三", id_number=VALID)
    consent_change(member=consenting, purpose="sensitive", granted=False, channel="h5", client_ip=None)
    member = Member.objects.get(pk=consenting.pk)
    assert (member.realname_result, member.realname_checked_at, member.realname_id_hash) == ("", None, "")
