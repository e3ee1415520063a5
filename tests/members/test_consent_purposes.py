"""Consent per purpose (M3, N3): append-only events per policy version and purpose; withdrawal as easy
as grant and effective at once; marketing_allowed for audiences; the earlier records carried forward."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from tests.members.factories import MemberFactory, mobile
from yunying.core.errors import DomainError
from yunying.members.consent import (
    consent_change,
    consent_history,
    consent_record,
    consent_state,
    marketing_allowed,
)
from yunying.members.models import ConsentEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def notice(settings):
    settings.PRIVACY_POLICY_VERSION = "v1"


def _member(n: int = 1, *, marketing: bool = False):
    member = MemberFactory(phone=mobile(n))
    consent_record(member=member, version="v1", marketing=marketing, sensitive=False, client_ip="203.0.113.9")
    return member


def test_accepting_the_notice_records_service_and_the_purposes_ticked():
    member = _member(marketing=True)
    assert consent_state(member) == {
        "service": True,
        "marketing": True,
        "analytics": False,
        "sensitive": False,
    }
    events = consent_history(member)
    assert {(e.purpose, e.granted, e.policy_version, e.channel) for e in events} == {
        ("service", True, "v1", "h5"), ("marketing", True, "v1", "h5"),
    }  # fmt: skip
    assert all(e.ip_hash and "203.0.113.9" not in e.ip_hash for e in events)


def test_withdrawal_is_one_call_effective_at_once_and_kept_in_the_history():
    # given
    member = _member(marketing=True)
    assert marketing_allowed({member.pk}) == {member.pk}
    # when
    event = consent_change(member=member, purpose="marketing", granted=False, channel="h5", client_ip=None)
    # then
    assert event is not None and event.granted is False
    assert consent_state(member)["marketing"] is False
    assert marketing_allowed({member.pk}) == set()
    assert [(e.purpose, e.granted) for e in consent_history(member)][:2] == [
        ("marketing", False),
        ("marketing", True),
    ]


@pytest.mark.parametrize(
    ("purpose", "granted", "code"),
    [
        ("service", False, "consent.purpose_required"),
        ("nonsense", True, "consent.purpose_unknown"),
    ],
    ids=["service-cannot-be-withdrawn", "unknown-purpose"],
)
def test_changes_refused_with_a_stable_code(purpose, granted, code):
    member = _member()
    with pytest.raises(DomainError) as refused:
        consent_change(member=member, purpose=purpose, granted=granted, channel="h5", client_ip=None)
    assert refused.value.code == code


def test_granting_needs_the_notice_in_force_accepted_but_withdrawing_never_waits(settings):
    member = _member(marketing=True)
    settings.PRIVACY_POLICY_VERSION = "v2"
    with pytest.raises(DomainError) as refused:
        consent_change(member=member, purpose="analytics", granted=True, channel="h5", client_ip=None)
    assert refused.value.code == "consent.notice_not_accepted"
    withdrawn = consent_change(
        member=member, purpose="marketing", granted=False, channel="h5", client_ip=None
    )
    assert withdrawn.policy_version == "v2" and consent_state(member)["marketing"] is False


def test_the_same_choice_twice_records_nothing_new():
    member = _member(marketing=True)
    before = ConsentEvent.objects.count()
    assert (
        consent_change(member=member, purpose="marketing", granted=True, channel="h5", client_ip=None) is None
    )
    consent_record(member=member, version="v1", marketing=True, sensitive=False, client_ip=None)
    assert ConsentEvent.objects.count() == before


def test_a_new_notice_version_is_recorded_per_purpose(settings):
    member = _member(marketing=True)
    settings.PRIVACY_POLICY_VERSION = "v2"
    consent_record(member=member, version="v2", marketing=True, sensitive=False, client_ip=None)
    assert {(e.purpose, e.policy_version) for e in consent_history(member)} >= {
        ("service", "v2"),
        ("marketing", "v2"),
    }


def test_marketing_allowed_picks_the_agreeing_members_in_one_query(django_assert_num_queries):
    agreed = [_member(n, marketing=True) for n in range(1, 4)]
    declined = _member(10)
    withdrew = _member(11, marketing=True)
    consent_change(member=withdrew, purpose="marketing", granted=False, channel="h5", client_ip=None)
    ids = {m.pk for m in [*agreed, declined, withdrew]} | {999_999}
    with django_assert_num_queries(1):
        allowed = marketing_allowed(ids)
    assert allowed == {m.pk for m in agreed}
    assert marketing_allowed(set()) == set()


def test_the_database_refuses_to_change_or_delete_a_consent_event():
    member = _member(marketing=True)
    event = ConsentEvent.objects.filter(member=member).first()
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentEvent.objects.filter(pk=event.pk).update(granted=False)
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentEvent.objects.filter(pk=event.pk).delete()
    assert ConsentEvent.objects.get(pk=event.pk).granted is True


@pytest.mark.django_db(transaction=True)
def test_the_earlier_notice_acceptances_are_carried_forward_as_events():
    # given: members and acceptances as the previous version left them
    before = [("members", "0005_tag_member_invited_by_member_utm_campaign_and_more")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()  # every app: those depending on members (loyalty) too
    executor.migrate(before)
    old = MigrationExecutor(connection).loader.project_state(before).apps
    Member, Record = old.get_model("members", "Member"), old.get_model("members", "ConsentRecord")
    a = Member.objects.create(phone_index="a" * 40)
    b = Member.objects.create(phone_index="b" * 40)
    at = "2026-11-01T08:00:00Z"
    Record.objects.create(
        member=a, policy_version="v1", marketing=True, sensitive=False, ip_hash="h", accepted_at=at
    )
    Record.objects.create(
        member=a, policy_version="v1", marketing=False, sensitive=False, ip_hash="h", accepted_at=at
    )
    Record.objects.create(
        member=b, policy_version="v1", marketing=False, sensitive=True, ip_hash="", accepted_at=at
    )
    # when
    MigrationExecutor(connection).migrate(latest)
    # then
    rows = list(ConsentEvent.objects.order_by("id").values_list("member_id", "purpose", "granted"))
    assert rows == [
        (a.pk, "service", True), (a.pk, "marketing", True), (a.pk, "marketing", False),
        (b.pk, "service", True), (b.pk, "sensitive", True),
    ]  # fmt: skip
    from yunying.members.models import Member as Current

    codes = list(Current.objects.values_list("invite_code", flat=True))
    assert len(codes) == 2 and len(set(codes)) == 2 and all(codes)


@pytest.mark.django_db(transaction=True)
def test_taps_at_the_same_instant_record_one_grant(settings):
    """The member's row is locked before the latest state is read: six taps of "agree" at once write one
    event, not six (the history reads as what the member did)."""
    import threading

    from django.db import connection

    member = _member(marketing=False)
    written = []
    barrier = threading.Barrier(6)

    def tap():
        barrier.wait()
        try:
            written.append(
                consent_change(member=member, purpose="marketing", granted=True, channel="h5", client_ip=None)
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=tap) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([event for event in written if event is not None]) == 1
    assert ConsentEvent.objects.filter(member=member, purpose="marketing").count() == 1
    assert consent_state(member)["marketing"] is True


def test_marketing_allowed_takes_an_audience_larger_than_one_query(monkeypatch):
    from yunying.members import consent

    monkeypatch.setattr(consent, "IDS_PER_QUERY", 2)
    agreed = [_member(n, marketing=True) for n in range(1, 6)]
    declined = _member(10)
    assert marketing_allowed({m.pk for m in [*agreed, declined]}) == {m.pk for m in agreed}


def test_marketing_allowed_over_forty_thousand_ids_stays_within_the_database_limits():
    agreed = _member(1, marketing=True)
    ids = set(range(10**9, 10**9 + 40_000)) | {agreed.pk}
    assert marketing_allowed(ids) == {agreed.pk}
