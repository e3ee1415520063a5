"""Privacy notice consent (M3): append-only, versioned; a new version asks again."""

import pytest

from tests.members.factories import MemberFactory
from yunying.core.errors import DomainError
from yunying.members.consent import consent_current, consent_latest, consent_record
from yunying.members.models import ConsentRecord

pytestmark = pytest.mark.django_db


def test_each_acceptance_is_a_new_row_and_the_latest_is_current(settings):
    settings.PRIVACY_POLICY_VERSION = "v1"
    member = MemberFactory()
    consent_record(member=member, version="v1", marketing=True, sensitive=False, client_ip="203.0.113.9")
    consent_record(member=member, version="v1", marketing=False, sensitive=False, client_ip=None)
    assert ConsentRecord.objects.filter(member=member).count() == 2
    current = consent_current(member)
    assert current.marketing is False and current.policy_version == "v1"
    first = ConsentRecord.objects.order_by("id").first()
    assert first.ip_hash and "203.0.113.9" not in first.ip_hash


def test_a_new_version_asks_again(settings):
    settings.PRIVACY_POLICY_VERSION = "v1"
    member = MemberFactory()
    consent_record(member=member, version="v1", marketing=False, sensitive=False, client_ip=None)
    settings.PRIVACY_POLICY_VERSION = "v2"
    assert consent_current(member) is None
    assert consent_latest(member).policy_version == "v1"


def test_accepting_a_notice_no_longer_in_force_is_refused(settings):
    settings.PRIVACY_POLICY_VERSION = "v2"
    member = MemberFactory()
    with pytest.raises(DomainError) as refused:
        consent_record(member=member, version="v1", marketing=False, sensitive=False, client_ip=None)
    assert refused.value.code == "consent.stale_version"
    assert not ConsentRecord.objects.exists()


def test_the_database_refuses_to_change_or_delete_a_consent_record(settings):
    from django.db import DatabaseError, transaction

    settings.PRIVACY_POLICY_VERSION = "v1"
    member = MemberFactory()
    record = consent_record(member=member, version="v1", marketing=False, sensitive=False, client_ip=None)
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentRecord.objects.filter(pk=record.pk).update(marketing=True)
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentRecord.objects.filter(pk=record.pk).delete()
    assert ConsentRecord.objects.get().marketing is False
