"""The member's rights (PIPL arts. 45, 47): export, erasure that keeps every aggregate right, and
erasures that must wait. Data-subject requests and their deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Count, Sum

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.commerce.helpers import ingest, order_payload
from tests.promotions.helpers import promotion_make
from yunying.analytics.selectors import lifecycle_counts, rfm_grid
from yunying.analytics.services import rfm_recompute
from yunying.campaigns.selectors import campaign_stats
from yunying.commerce.models import Order
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM, Actor, Role
from yunying.loyalty import brokerage
from yunying.loyalty.ledger import points_earn
from yunying.loyalty.models import PointAccount, PointPosting
from yunying.members.models import Member
from yunying.members.services import member_find, member_name, member_phone, member_resolve
from yunying.privacy import rights
from yunying.privacy.models import DataSubjectRequest, RequestStatus
from yunying.privacy.workdays import due_at_for, working_days_after, working_days_left
from yunying.promotions.models import Coupon
from yunying.risk.models import Decision

pytestmark = pytest.mark.django_db
SUPPORT = Actor(kind="user", id=7, label="kefu01", role=Role.SUPPORT)
EXECUTION = Actor(kind="user", id=8, label="yunying01", role=Role.EXECUTION)
SECOND_SUPPORT = Actor(kind="user", id=9, label="kefu02", role=Role.SUPPORT)
PHONE = "+8613912345678"


def _aggregates(campaign) -> dict:
    stats = campaign_stats(campaign)
    return {
        "campaign": (
            stats.seats_taken,
            stats.by_status,
            stats.by_channel,
            stats.by_gender,
            stats.by_age_band,
            stats.by_province,
            stats.attended,
        ),
        "signups": campaign.signups.count(),
        "orders": Order.objects.aggregate(
            n=Count("id"), total=Sum("total_fen"), refunded=Sum("refunded_fen")
        ),
        "points": PointAccount.objects.aggregate(b=Sum("balance"), p=Sum("pending"), d=Sum("debt")),
        "postings": PointPosting.objects.aggregate(n=Count("id"), s=Sum("points")),
        "coupons": Coupon.objects.values("state").annotate(n=Count("id")).order_by("state"),
        "rfm": rfm_grid(),
        "lifecycle": lifecycle_counts(),
        "decisions": Decision.objects.count(),
    }


def _member_with_everything():
    coupons = promotion_make("coupon_off", threshold_fen=0, off_fen=100, issue_on=["registration"])
    campaign = CampaignFactory(status="published")
    sign_up(campaign, PHONE, answers={})
    member = member_find(phone=PHONE)
    sign_up(campaign, "+8613900000001")  # someone else, who stays
    payload = order_payload("SO-ERASE", phone=PHONE)
    ingest(payload)
    points_earn(
        member_id=member.pk, points=50, key="t:1", source="manual", actor=SYSTEM, expires_at=None, memo="gift"
    )
    rfm_recompute()
    Decision.objects.create(
        entry="coupon.claim",
        subject_type="coupon",
        subject_ref="c1",
        member_ref=f"p:{member.phone_index}",
        at=datetime.now(UTC),
        score=80,
        action="block",
        reasons=[{"rule": "r", "label": "Too many claims"}],
    )  # a risk decision about the member, keyed by their phone's blind index
    return member, campaign, coupons


def test_an_erasure_keeps_every_aggregate_and_leaves_nothing_that_identifies_the_member():
    # given
    member, campaign, _coupons = _member_with_everything()
    index = member.phone_index
    before = _aggregates(campaign)
    assert list(_aggregates(campaign)["coupons"]) == list(before["coupons"])
    # when
    request = rights.erasure_request_self(member=member, confirmed=True)
    # then
    assert request.status == RequestStatus.DONE and request.result["members"] == 1
    after = _aggregates(campaign)
    for key in before:
        assert (list(after[key]) if key == "coupons" else after[key]) == (
            list(before[key]) if key == "coupons" else before[key]
        ), key
    erased = Member.objects.get(pk=member.pk)
    assert member_phone(erased) is None and member_name(erased) == ""
    assert erased.phone_encrypted == erased.name_encrypted == erased.email_encrypted == ""
    assert member_find(phone=PHONE) is None
    assert not Member.objects.filter(phone_index=index).exists()
    assert not Decision.objects.filter(member_ref__contains=index).exists()
    assert all(s.answers_encrypted == "" for s in erased.signups.all())
    # and the phone registers as someone new
    again = member_resolve(phone=PHONE, external_id=None)
    assert again.pk != member.pk and member_phone(again) == PHONE


def test_an_erasure_asked_twice_is_refused_the_second_time():
    member, *_ = _member_with_everything()
    rights.erasure_request_self(member=member, confirmed=True)
    with pytest.raises(DomainError) as refused:
        rights.erasure_request_self(member=Member.objects.get(pk=member.pk), confirmed=True)
    assert refused.value.code == "privacy.member_erased"


def test_an_erasure_without_confirmation_is_refused_and_erases_nothing():
    member, *_ = _member_with_everything()
    with pytest.raises(DomainError) as refused:
        rights.erasure_request_self(member=member, confirmed=False)
    assert refused.value.code == "privacy.confirmation_required"
    assert member_phone(Member.objects.get(pk=member.pk)) == PHONE


def test_an_erasure_waits_while_commission_is_owed_and_an_operator_carries_it_out_once_paid():
    # given a promoter with a balance
    member = member_resolve(phone=PHONE, external_id=None)
    promoter = brokerage.promoter_create(member_id=member.pk, partner_name="", parent_code="", actor=SYSTEM)
    type(promoter).objects.filter(pk=promoter.pk).update(balance_fen=500)
    # when
    request = rights.erasure_request_self(member=member, confirmed=True)
    # then it waits, and the member's data is still there
    assert request.status == RequestStatus.OPEN and request.waiting_on == ["loyalty.brokerage_unpaid"]
    assert member_phone(Member.objects.get(pk=member.pk)) == PHONE
    assert rights.erasure_request_self(member=member, confirmed=True).pk == request.pk  # the same request
    with pytest.raises(DomainError) as waiting:
        rights.request_carry_out(actor=SUPPORT, request_id=request.pk)
    assert waiting.value.code == "privacy.erasure_waiting"
    # once paid out
    type(promoter).objects.filter(pk=promoter.pk).update(balance_fen=0)
    done = rights.request_carry_out(actor=SUPPORT, request_id=request.pk, notes="paid out, erased")
    assert done.status == RequestStatus.DONE and done.handled_by == "kefu01"
    assert member_find(phone=PHONE) is None


def test_the_export_holds_every_holding_and_is_recorded_as_a_request_done_at_once():
    member, *_ = _member_with_everything()
    request, data = rights.data_export_self(
        member=member, actor=Actor(kind="member", id=member.pk, label="m")
    )
    assert request.status == RequestStatus.DONE and request.kind == "export"
    assert data["holdings"]["members.profile"]["data"]["phone"] == PHONE
    assert data["holdings"]["commerce.orders"]["data"][0]["order"] == "SO-ERASE"
    assert data["holdings"]["campaigns.signups"]["data"]["signups"]
    from yunying.core.models import PersonalDataAccess

    # the export itself is a read in clear, in the log the member sees
    assert PersonalDataAccess.objects.get(member_id=member.pk).purpose == "data_subject_request"


def test_exports_are_rate_limited_per_member(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "privacy_export_member_day": 2}
    member = member_resolve(phone=PHONE, external_id=None)
    actor = Actor(kind="member", id=member.pk, label="m")
    rights.data_export_self(member=member, actor=actor)
    rights.data_export_self(member=member, actor=actor)
    with pytest.raises(DomainError) as limited:
        rights.data_export_self(member=member, actor=actor)
    assert limited.value.code == "core.rate_limited"
    assert DataSubjectRequest.objects.filter(member=member).count() == 2


def test_a_failed_export_does_not_use_up_the_members_daily_exports(settings, monkeypatch):
    """Faults review: five failed commits (no file, no request) left the member refused for a day."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "privacy_export_member_day": 2}
    member = member_resolve(phone=PHONE, external_id=None)
    actor = Actor(kind="member", id=member.pk, label="m")

    def log_down(**kwargs):
        raise RuntimeError("the access log's write failed")

    monkeypatch.setattr(rights, "pii_access_record", log_down)
    for _ in range(3):
        with pytest.raises(RuntimeError):
            rights.data_export_self(member=member, actor=actor)
    assert not DataSubjectRequest.objects.exists()
    monkeypatch.undo()
    # when the fault is gone, the member's two copies a day are still theirs
    rights.data_export_self(member=member, actor=actor)
    rights.data_export_self(member=member, actor=actor)
    assert DataSubjectRequest.objects.filter(member=member).count() == 2


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ("2026-12-07", "2026-12-28"),  # a Monday: three weeks on
        ("2026-12-04", "2026-12-25"),  # a Friday
        ("2026-12-05", "2026-12-25"),  # a Saturday counts from the Monday
    ],
    ids=["monday", "friday", "saturday"],
)
def test_the_deadline_is_fifteen_working_days_with_weekends_skipped(received, due):
    from datetime import date

    assert working_days_after(date.fromisoformat(received), 15) == date.fromisoformat(due)


def test_listed_holidays_are_skipped(settings):
    from datetime import date

    settings.PRIVACY_HOLIDAYS = ["2026-12-08", "2026-12-09"]
    assert working_days_after(date(2026, 12, 7), 15) == date(2026, 12, 30)


def test_days_left_counts_working_days_and_goes_negative_when_overdue():
    received = datetime(2026, 12, 7, 2, tzinfo=UTC)  # Monday 10:00 in Shanghai
    due = due_at_for(received)
    assert working_days_left(due, now=received) == 15
    assert working_days_left(due, now=due) == 0
    assert working_days_left(due, now=due + timedelta(days=3)) == -3  # Thursday after a Monday due day
    assert working_days_left(due, now=due + timedelta(days=6)) == -4  # the Sunday after: Friday was the 4th


def test_an_operator_records_a_request_by_phone_and_rejects_it_with_a_reason():
    member = member_resolve(phone=PHONE, external_id=None)
    request = rights.request_create(
        actor=SUPPORT, member_id=member.pk, kind="access", channel="phone", details="asked what we keep"
    )
    assert request.status == RequestStatus.OPEN and request.created_by == "kefu01"
    with pytest.raises(DomainError) as no_reason:
        rights.request_reject(actor=SUPPORT, request_id=request.pk, reason=" ")
    assert no_reason.value.code == "privacy.reason_required"
    rejected = rights.request_reject(
        actor=SUPPORT, request_id=request.pk, reason="caller could not confirm identity"
    )
    assert rejected.status == RequestStatus.REJECTED
    with pytest.raises(DomainError) as closed:
        rights.request_carry_out(actor=SUPPORT, request_id=request.pk)
    assert closed.value.code == "privacy.request_closed"
    from yunying.core.models import AuditEntry

    assert list(AuditEntry.objects.filter(object_type="privacy_request").values_list("action", flat=True)) == [
        "privacy.request_create", "privacy.request_reject",
    ]  # fmt: skip


def test_an_operator_without_the_permission_is_refused():
    member = member_resolve(phone=PHONE, external_id=None)
    with pytest.raises(DomainError) as denied:
        rights.request_create(actor=EXECUTION, member_id=member.pk, kind="export", channel="email")
    assert denied.value.code == "core.permission_denied"


def test_an_unknown_request_is_not_found():
    with pytest.raises(DomainError) as missing:
        rights.request_carry_out(actor=SUPPORT, request_id=999)
    assert missing.value.code == "privacy.request_not_found"


def test_a_waiting_erasure_runs_by_itself_once_nothing_waits_and_not_before():
    # given a member's own erasure waiting on commission owed
    member = member_resolve(phone=PHONE, external_id=None)
    promoter = brokerage.promoter_create(member_id=member.pk, partner_name="", parent_code="", actor=SYSTEM)
    type(promoter).objects.filter(pk=promoter.pk).update(balance_fen=500)
    request = rights.erasure_request_self(member=member, confirmed=True)
    # and an erasure an operator recorded, which waits on nothing but the operator
    other = member_resolve(phone="+8613900000002", external_id=None)
    recorded = rights.request_create(actor=SUPPORT, member_id=other.pk, kind="erase", channel="phone")
    other_promoter = brokerage.promoter_create(
        member_id=other.pk, partner_name="", parent_code="", actor=SYSTEM
    )
    type(other_promoter).objects.filter(pk=other_promoter.pk).update(balance_fen=100)
    DataSubjectRequest.objects.filter(pk=recorded.pk).update(waiting_on=["loyalty.brokerage_unpaid"])
    type(other_promoter).objects.filter(pk=other_promoter.pk).update(balance_fen=0)
    # while owed, the worker's pass erases nothing
    assert rights.erasures_resume() == {}
    assert member_find(phone=PHONE) is not None
    # once paid out
    type(promoter).objects.filter(pk=promoter.pk).update(balance_fen=0)
    assert rights.erasures_resume() == {"erased": 1, "waiting": 0}
    # then
    done = DataSubjectRequest.objects.get(pk=request.pk)
    assert done.status == RequestStatus.DONE and done.handled_by == "system" and done.waiting_on == []
    assert member_find(phone=PHONE) is None
    recorded = DataSubjectRequest.objects.get(pk=recorded.pk)
    assert recorded.status == RequestStatus.OPEN and recorded.waiting_on == []  # current, left to an operator
    assert member_find(phone="+8613900000002") is not None
    assert rights.erasures_resume() == {}  # nothing twice


def test_an_operator_downloads_the_data_a_member_asked_for_by_phone_logged_under_its_purpose():
    from yunying.core.models import AuditEntry, PersonalDataAccess

    member, *_ = _member_with_everything()
    request = rights.request_create(actor=SUPPORT, member_id=member.pk, kind="export", channel="phone")
    data = rights.request_export(
        actor=SECOND_SUPPORT, request_id=request.pk, identity_confirmed=True, notes="回拨预留号码核实"
    )
    assert data["holdings"]["members.profile"]["data"]["phone"] == PHONE
    access = PersonalDataAccess.objects.get(member_id=member.pk)
    assert (access.actor_label, access.purpose) == ("kefu02", f"data_subject_request: #{request.pk}")
    assert AuditEntry.objects.filter(action="privacy.request_export", object_id=str(request.pk)).count() == 1
    assert DataSubjectRequest.objects.get(pk=request.pk).status == RequestStatus.OPEN  # until recorded sent


@pytest.mark.parametrize(
    ("kind", "close", "code"),
    [
        ("erase", None, "privacy.request_not_export"),
        ("correct", None, "privacy.request_not_export"),
        ("access", "reject", "privacy.request_closed"),
    ],
)
def test_an_operator_download_is_refused_for_other_requests_and_closed_ones(kind, close, code):
    from yunying.core.models import PersonalDataAccess

    member = member_resolve(phone=PHONE, external_id=None)
    request = rights.request_create(actor=SUPPORT, member_id=member.pk, kind=kind, channel="email")
    if close:
        rights.request_reject(actor=SUPPORT, request_id=request.pk, reason="not the member")
    with pytest.raises(DomainError) as refused:
        rights.request_export(
            actor=SECOND_SUPPORT, request_id=request.pk, identity_confirmed=True, notes="核实"
        )
    assert refused.value.code == code
    with pytest.raises(DomainError) as denied:
        rights.request_export(actor=EXECUTION, request_id=request.pk)
    assert denied.value.code == "core.permission_denied"
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize(
    ("kind", "channel", "code"),
    [
        ("erase", "self_service", "privacy.channel_invalid"),  # would run unchecked (erasures_resume)
        ("erase", "fax", "privacy.channel_invalid"),
        ("forget", "phone", "privacy.kind_invalid"),
    ],
)
def test_an_operator_cannot_file_a_request_as_the_members_own_or_of_an_unknown_kind(kind, channel, code):
    member = member_resolve(phone=PHONE, external_id=None)
    with pytest.raises(DomainError) as refused:
        rights.request_create(actor=SUPPORT, member_id=member.pk, kind=kind, channel=channel)
    assert refused.value.code == code
    assert not DataSubjectRequest.objects.exists()
    assert rights.erasures_resume() == {} and member_find(phone=PHONE) is not None


def test_no_request_is_recorded_for_a_member_already_erased():
    member = member_resolve(phone=PHONE, external_id=None)
    rights.erasure_request_self(member=member, confirmed=True)
    with pytest.raises(DomainError) as refused:
        rights.request_create(actor=SUPPORT, member_id=member.pk, kind="export", channel="email")
    assert refused.value.code == "privacy.member_erased"
    assert DataSubjectRequest.objects.count() == 1


def test_an_erasure_an_operator_recorded_needs_a_second_person_who_confirmed_who_asked():
    from yunying.core.apikeys import apikey_create

    member = member_resolve(phone=PHONE, external_id=None)
    request = rights.request_create(actor=SUPPORT, member_id=member.pk, kind="erase", channel="phone")
    own_key, _ = apikey_create(name="kefu01's desk", role=Role.SUPPORT, owner="kefu01")
    unowned_key, _ = apikey_create(name="desk", role=Role.SUPPORT)
    second = Actor(kind="user", id=17, label="kefu02", role=Role.SUPPORT)
    attempts = [
        (second, "", True, "privacy.identity_unconfirmed"),
        (second, "回拨核实", False, "privacy.identity_unconfirmed"),
        (SUPPORT, "回拨核实", True, "privacy.same_person"),
        (Actor(kind="api_key", id=own_key.pk, label=own_key.name, role=Role.SUPPORT), "回拨核实", True, "privacy.same_person"),
        (Actor(kind="api_key", id=unowned_key.pk, label=unowned_key.name, role=Role.SUPPORT), "回拨核实", True, "privacy.same_person"),
    ]  # fmt: skip
    for actor, notes, confirmed, code in attempts:
        with pytest.raises(DomainError) as refused:
            rights.request_carry_out(
                actor=actor, request_id=request.pk, notes=notes, identity_confirmed=confirmed
            )
        assert refused.value.code == code
    assert member_find(phone=PHONE) is not None
    done = rights.request_carry_out(
        actor=second, request_id=request.pk, notes="回拨核实", identity_confirmed=True
    )
    assert done.status == RequestStatus.DONE and member_find(phone=PHONE) is None


def test_an_erasure_ends_what_still_waits_so_nobody_approves_or_promotes_a_deleted_account():
    from yunying.campaigns.models import SignupEvent
    from yunying.campaigns.services.admission import signup_confirm, signup_reject

    reviewed = CampaignFactory(status="published", review_mode="manual")
    full = CampaignFactory(status="published", capacity=1, waitlist_enabled=True)
    pending = sign_up(reviewed, PHONE)
    sign_up(full, "+8613900000009")  # takes the one seat
    waiting = sign_up(full, PHONE)
    other = sign_up(reviewed, "+8613900000008")
    signup_reject(campaign_id=reviewed.pk, signup_id=other.pk, actor=SUPPORT, reason="资料不全",
                  note="本人来电 138 0013 8000 说明情况")  # fmt: skip
    assert (pending.status, waiting.status) == ("pending_review", "waitlisted")
    member = member_find(phone=PHONE)
    SignupEvent.objects.filter(signup=pending).update(note="内部备注：住北京朝阳区")
    # when
    rights.erasure_request_self(member=member, confirmed=True)
    # then
    pending.refresh_from_db()
    waiting.refresh_from_db()
    assert (pending.status, waiting.status) == ("withdrawn", "withdrawn")
    with pytest.raises(DomainError) as refused:
        signup_confirm(campaign_id=reviewed.pk, signup_id=pending.pk, actor=SUPPORT)
    assert refused.value.code == "signup.invalid_transition"
    assert not SignupEvent.objects.filter(signup__member_id=member.pk).exclude(note="").exists()
    # an operator's note is scrubbed when written: another member's events keep no phone either
    assert SignupEvent.objects.get(signup=other, to_status="rejected").note == "本人来电 [phone] 说明情况"


def test_a_key_naming_no_holder_cannot_record_an_erasure_it_could_later_carry_out_itself():
    """Second review: recorded with an unowned key, given an owner, then carried out by that key."""
    from yunying.core.apikeys import apikey_create

    member = member_resolve(phone=PHONE, external_id=None)
    key, _ = apikey_create(name="desk", role=Role.SUPPORT)
    unowned = Actor(kind="api_key", id=key.pk, label=key.name, role=Role.SUPPORT)
    with pytest.raises(DomainError) as refused:
        rights.request_create(actor=unowned, member_id=member.pk, kind="erase", channel="email")
    assert refused.value.code == "privacy.recorder_unidentified"
    assert not DataSubjectRequest.objects.exists()
    # nor a copy or access (its file leaves with a second person); a correction needs no second person
    for kind in ("access", "export"):
        with pytest.raises(DomainError) as refused:
            rights.request_create(actor=unowned, member_id=member.pk, kind=kind, channel="email")
        assert refused.value.code == "privacy.recorder_unidentified"
    assert rights.request_create(actor=unowned, member_id=member.pk, kind="correct", channel="email").pk


def test_an_erasure_closes_the_members_other_waiting_requests_and_blanks_what_they_wrote():
    """Left open they fell overdue with nothing left to send (first review of this stop)."""
    member = member_resolve(phone=PHONE, external_id=None)
    access = rights.request_create(
        actor=SUPPORT, member_id=member.pk, kind="access", channel="email", details="我是张三，住北京朝阳区"
    )
    rejected = rights.request_create(
        actor=SUPPORT, member_id=member.pk, kind="correct", channel="phone", details="张三要改地址"
    )
    rights.request_reject(actor=SUPPORT, request_id=rejected.pk, reason="无法核实身份")
    # when
    erasure = rights.erasure_request_self(member=member, confirmed=True)
    # then
    access.refresh_from_db()
    rejected.refresh_from_db()
    assert (access.status, access.handled_by, access.notes) == ("done", "system", rights.SUPERSEDED_NOTE)
    assert rejected.status == "rejected"  # closed ones keep how they were answered
    assert (access.details, rejected.details) == ("", "")
    assert erasure.result["privacy.requests_closed"] == 1


def test_the_export_gives_sign_up_answers_under_the_questions_titles_and_in_words():
    """A member read "size: M" and "topics: ['run']" (first review of this stop)."""
    form = [
        {"key": "size", "label": "鞋码", "type": "single_choice", "options": [{"value": "M", "label": "39 码"}]},
        {"key": "topics", "label": "感兴趣的项目", "type": "multi_choice",
         "options": [{"value": "run", "label": "跑步"}, {"value": "yoga", "label": "瑜伽"}]},
        {"key": "ok", "label": "同意活动须知", "type": "consent"},
        {"key": "note", "label": "备注", "type": "text", "required": False},
    ]  # fmt: skip
    campaign = CampaignFactory(status="published", form=form)
    signup = sign_up(campaign, PHONE, answers={"size": "M", "topics": ["run", "yoga"], "ok": True})
    # a question taken off the form after the member answered it keeps its key
    campaign.form = form[:2] + form[3:]
    campaign.save(update_fields=["form"])
    # when
    data = rights.data_export_build(signup.member_id)
    # then
    (exported,) = data["holdings"]["campaigns.signups"]["data"]["signups"]
    assert exported["answers"] == {"鞋码": "39 码", "感兴趣的项目": "跑步、瑜伽", "ok": True}


def test_nothing_writes_a_person_back_onto_an_erased_member():
    """An erased row is nobody's: an operator's correction or link, a profile fill and a bulk import
    find no member there (the faults review's race, as a class)."""
    from yunying.members.services import (
        MemberRef,
        Profile,
        member_correct,
        member_link,
        member_profile_fill,
        members_resolve_bulk,
    )

    member = member_resolve(phone=PHONE, external_id="shop-9")
    rights.erasure_request_self(member=member, confirmed=True)
    writes = [
        lambda: member_correct(
            member_id=member.pk, actor=EXECUTION, changes={"name": "王小明"}, reason="来电"
        ),
        lambda: member_link(member_id=member.pk, actor=EXECUTION, reason="来电", phone="+8613912340000"),
        lambda: member_profile_fill(member_id=member.pk, profile=Profile(name="王小明")),
    ]
    for write in writes:
        with pytest.raises(DomainError) as refused:
            write()
        assert refused.value.code == "member.not_found"
    # an import naming the old phone finds nobody there and registers the person anew
    resolved = members_resolve_bulk(
        [MemberRef(e164=PHONE, external_id=None)], profiles=[Profile(name="王小明")]
    )
    assert resolved.created == 1 and resolved.members[0].pk != member.pk
    erased = Member.objects.get(pk=member.pk)
    assert (member_name(erased), member_phone(erased), erased.phone_index) == ("", None, None)


def test_a_members_data_file_is_handed_over_by_a_second_operator_who_checked_who_asked():
    """Attacker review: one support key recorded an "access request" for any member and downloaded
    their whole file (addresses, answers, orders): more than a reveal shows, with nobody else involved."""
    from yunying.core.models import PersonalDataAccess

    member = member_resolve(phone=PHONE, external_id=None)
    request = rights.request_create(actor=SUPPORT, member_id=member.pk, kind="access", channel="phone")
    attempts = [
        (SECOND_SUPPORT, False, "回拨核实", "privacy.identity_unconfirmed"),
        (SECOND_SUPPORT, True, "  ", "privacy.identity_unconfirmed"),
        (SUPPORT, True, "回拨核实", "privacy.same_person"),
    ]
    for actor, confirmed, notes, code in attempts:
        with pytest.raises(DomainError) as refused:
            rights.request_export(
                actor=actor, request_id=request.pk, identity_confirmed=confirmed, notes=notes
            )
        assert refused.value.code == code
    assert not PersonalDataAccess.objects.exists()
    assert (
        rights.request_export(
            actor=SECOND_SUPPORT, request_id=request.pk, identity_confirmed=True, notes="回拨核实"
        )["member_id"]
        == member.pk
    )
