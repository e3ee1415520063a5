"""Breach response (S6): the runbook's deadlines and lateness, affected members from the access trail,
a campaign or a list, notices and compensation sent once whatever the re-runs, drills that reach no
member, and an audit row with before/after for every operator action."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from freezegun import freeze_time

from tests.campaigns.helpers import sign_up
from tests.members.factories import MemberFactory
from tests.promotions.helpers import promotion_make
from yunying.core.audit import pii_access_record
from yunying.core.errors import DomainError, ValidationFailed
from yunying.core.models import AuditEntry
from yunying.core.permissions import Actor, Role
from yunying.loyalty.models import MemberTier
from yunying.notify.delivery import outbox_deliver_due
from yunying.notify.models import OutboxMessage, OutboxStatus
from yunying.privacy import breach
from yunying.privacy import breach_compensation as compensation
from yunying.privacy.breach import AccessCriteria
from yunying.privacy.breach_errors import BreachError
from yunying.privacy.models import BreachAffected, BreachStep, StepKind
from yunying.promotions.models import Coupon

pytestmark = pytest.mark.django_db

LEAD = Actor(kind="user", id=None, label="lead", role=Role.STRATEGY)
CLERK = Actor(kind="user", id=None, label="clerk", role=Role.EXECUTION)
LEAKER = Actor(kind="user", id=4242, label="leaky support", role=Role.SUPPORT)


def _open(*, drill=False, now=None, **fields):
    values = {
        "title": "Support export left on a shared drive",
        "discovered_at": timezone.now() - timedelta(minutes=30),
        "data_kinds": ["phone", "name"],
        "scope": "one CSV",
        "contact": "400-800-1234",
        "is_drill": drill,
        "actor": LEAD,
        "now": now,
    }
    return breach.breach_open(**{**values, **fields})


def _audits(action):
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


# -- opening and the clock --------------------------------------------------------------------------


def test_opening_sets_each_steps_deadline_from_the_discovery():
    # given / when: discovered half an hour before it was opened here
    discovered = timezone.now() - timedelta(minutes=30)
    incident = _open(discovered_at=discovered)
    # then the law's clocks run from the discovery
    due = {s.kind: s.due_at - discovered for s in incident.steps.all()}
    assert due == {
        StepKind.INVESTIGATE: timedelta(hours=1),
        StepKind.NOTIFY: timedelta(hours=24),
        StepKind.COMPENSATE: timedelta(hours=72),
        StepKind.REPORT: timedelta(hours=72),
    }
    (entry,) = _audits("breach.open")
    assert entry.object_id == str(incident.pk) and entry.after["data_kinds"] == ["phone", "name"]
    assert "phone" in incident.notice_data or "手机" in incident.notice_data or incident.notice_data


def test_a_step_done_after_its_deadline_is_late_and_the_clock_says_so():
    # given an incident opened two hours ago: investigation (1 h) is overdue
    opened = timezone.now() - timedelta(hours=2)
    incident = _open(now=opened, discovered_at=opened - timedelta(minutes=10))
    investigate = incident.steps.get(kind=StepKind.INVESTIGATE)
    notify = incident.steps.get(kind=StepKind.NOTIFY)
    assert breach.step_clock(investigate, timezone.now()).state == "overdue"
    assert breach.step_clock(notify, timezone.now()).state == "due"
    # when
    done = breach.breach_step_done(step_id=investigate.pk, notes="cause found", actor=LEAD)
    on_time = breach.breach_step_done(step_id=notify.pk, notes="notice out", actor=LEAD)
    # then
    assert done.late and breach.step_clock(done, timezone.now()).state == "late"
    assert not on_time.late and breach.step_clock(on_time, timezone.now()).state == "done"
    entry = _audits("breach.step_done")[0]
    assert entry.before == {"done_at": None} and entry.after["late"] is True
    assert entry.after["notes"] == "cause found"


def test_an_incident_discovered_days_ago_opens_overdue_and_a_step_done_now_is_late():
    # given: discovered three days ago, opened here only now
    incident = _open(discovered_at=timezone.now() - timedelta(days=3, minutes=1))
    steps = {s.kind: s for s in incident.steps.all()}
    # then every clock is already past its deadline
    assert {breach.step_clock(s, timezone.now()).state for s in steps.values()} == {"overdue"}
    # when a step is done now, it was done late: the page, the audit row and the report say so
    done = breach.breach_step_done(step_id=steps[StepKind.INVESTIGATE].pk, notes="found", actor=LEAD)
    assert done.late and breach.step_clock(done, timezone.now()).state == "late"
    assert _audits("breach.step_done")[-1].after["late"] is True


@pytest.mark.parametrize(
    "discovered",
    [
        pytest.param(lambda now: now.replace(year=1800, month=1, day=1), id="1800"),
        pytest.param(lambda now: now - timedelta(days=366), id="a-year-and-a-day"),
    ],
)
def test_a_discovery_more_than_a_year_ago_is_refused_on_its_field(discovered):
    with pytest.raises(DomainError) as refused:
        _open(discovered_at=discovered(timezone.now()))
    assert refused.value.code == "core.invalid"
    assert [e["field"] for e in refused.value.errors] == ["discovered_at"]
    assert "year" in refused.value.errors[0]["message"] or "一年" in refused.value.errors[0]["message"]
    assert not AuditEntry.objects.filter(action="breach.open").exists()


def test_a_discovery_within_the_year_is_accepted():
    incident = _open(discovered_at=timezone.now() - timedelta(days=364))
    assert incident.pk and incident.steps.count() == 4


def test_the_drafted_notice_promises_the_report_and_does_not_claim_it():
    from django.utils import translation

    # when opened (no report filed: the report step is not done)
    with translation.override("zh-hans"):
        zh = _open().notice_measures
    with translation.override("en"):
        en = _open().notice_measures
    # then the notice says the report will be made, never that it was
    assert "已依法报告" not in zh and "将依法向监管部门报告" in zh
    assert "have reported" not in en and "will report it to the regulator" in en


def test_a_step_is_done_once():
    step = _open().steps.first()
    breach.breach_step_done(step_id=step.pk, notes="done", actor=LEAD)
    with pytest.raises(DomainError) as refused:
        breach.breach_step_done(step_id=step.pk, notes="again", actor=LEAD)
    assert refused.value.code == BreachError.STEP_DONE
    assert BreachStep.objects.get(pk=step.pk).notes == "done"


def test_assigning_names_an_operator_who_may_run_the_response(django_user_model):
    from django.contrib.auth.models import Group

    lead = django_user_model.objects.create_user("lead", password="x")
    lead.groups.add(Group.objects.get_or_create(name="strategy")[0])
    clerk = django_user_model.objects.create_user("clerk", password="x")
    clerk.groups.add(Group.objects.get_or_create(name="execution")[0])
    step = _open().steps.first()
    # when
    assigned = breach.breach_step_assign(step_id=step.pk, assignee_id=lead.pk, actor=LEAD)
    # then
    assert assigned.assignee_label == "lead"
    (entry,) = _audits("breach.step_assign")
    assert entry.before == {"assignee": ""} and entry.after == {"assignee": "lead"}
    with pytest.raises(DomainError) as refused:
        breach.breach_step_assign(step_id=step.pk, assignee_id=clerk.pk, actor=LEAD)
    assert refused.value.code == BreachError.ASSIGNEE_INVALID


@pytest.mark.parametrize(
    "call",
    [
        lambda i: breach.breach_step_done(step_id=i.steps.first().pk, notes="x", actor=CLERK),
        lambda i: breach.breach_notice_send(incident_id=i.pk, actor=CLERK),
        lambda i: compensation.breach_compensate(incident_id=i.pk, actor=CLERK),
        lambda i: breach.breach_affected_add(incident_id=i.pk, member_ids=[1], actor=CLERK),
    ],
    ids=["step", "notice", "compensate", "affected"],
)
def test_roles_without_breach_manage_are_refused(call):
    incident = _open()
    with pytest.raises(DomainError) as refused:
        call(incident)
    assert refused.value.code == "core.permission_denied"
    assert not AuditEntry.objects.exclude(action="breach.open").exists()


def test_opening_without_data_kinds_or_in_the_future_names_each_field():
    with pytest.raises(DomainError) as refused:
        _open(title=" ", data_kinds=[], discovered_at=timezone.now() + timedelta(days=1))
    assert refused.value.code == "core.invalid"
    assert {e["field"] for e in refused.value.errors} == {"title", "data_kinds", "discovered_at"}


def _complete(incident, *, skip=()):
    """Every step done (but those in `skip`) and the findings recorded: what closing needs."""
    breach.breach_update(incident_id=incident.pk, facts={"cause": "link", "measures": "revoked"}, actor=LEAD)
    for step in incident.steps.exclude(kind__in=skip):
        breach.breach_step_done(step_id=step.pk, notes="done", actor=LEAD)


def test_closing_needs_every_step_done_and_names_what_is_missing():
    # given: all done but the report to the regulator, findings recorded
    incident = _open()
    _complete(incident, skip=[StepKind.REPORT])
    # when / then
    with pytest.raises(DomainError) as refused:
        breach.breach_close(incident_id=incident.pk, actor=LEAD)
    assert refused.value.code == BreachError.STEPS_PENDING
    assert refused.value.data["missing"] == {BreachError.STEPS_PENDING: [StepKind.REPORT]}
    assert "Report to the regulator" in refused.value.message or "向监管部门报告" in refused.value.message
    incident.refresh_from_db()
    assert incident.status == "open" and not _audits("breach.close")


def test_closing_needs_the_cause_and_the_measures():
    # given: every step done, the findings never recorded
    incident = _open()
    for step in incident.steps.all():
        breach.breach_step_done(step_id=step.pk, notes="done", actor=LEAD)
    with pytest.raises(DomainError) as refused:
        breach.breach_close(incident_id=incident.pk, actor=LEAD)
    assert refused.value.code == BreachError.FINDINGS_MISSING
    assert refused.value.data["missing"] == {BreachError.FINDINGS_MISSING: ["cause", "measures"]}
    # the cause alone is not enough
    breach.breach_update(incident_id=incident.pk, facts={"cause": "a shared link"}, actor=LEAD)
    with pytest.raises(DomainError) as still:
        breach.breach_close(incident_id=incident.pk, actor=LEAD)
    assert still.value.data["missing"] == {BreachError.FINDINGS_MISSING: ["measures"]}
    # when the measures are recorded, it closes
    breach.breach_update(incident_id=incident.pk, facts={"measures": "revoked"}, actor=LEAD)
    assert breach.breach_close(incident_id=incident.pk, actor=LEAD).status == "closed"
    assert len(_audits("breach.close")) == 1


def test_a_fresh_incident_names_both_blockers():
    with pytest.raises(DomainError) as refused:
        breach.breach_close(incident_id=_open().pk, actor=LEAD)
    assert set(refused.value.data["missing"]) == {BreachError.STEPS_PENDING, BreachError.FINDINGS_MISSING}
    assert len(refused.value.data["missing"][BreachError.STEPS_PENDING]) == 4


def test_a_closed_incident_takes_no_more_steps():
    incident = _open()
    _complete(incident, skip=[StepKind.REPORT])
    report = incident.steps.get(kind=StepKind.REPORT)
    breach.breach_step_done(step_id=report.pk, notes="filed", actor=LEAD)
    breach.breach_close(incident_id=incident.pk, actor=LEAD)
    with pytest.raises(DomainError) as refused:
        breach.breach_step_done(step_id=incident.steps.first().pk, notes="late", actor=LEAD)
    assert refused.value.code == BreachError.CLOSED


# -- affected members -------------------------------------------------------------------------------


def test_affected_members_come_from_the_access_trail_by_actor_window_and_fields(open_campaign):
    # given: the leaking operator read three members' phones, one's address, and another operator one
    members = [MemberFactory() for _ in range(5)]
    pii_access_record(actor=LEAKER, member_ids=[m.pk for m in members[:3]], fields=["phone"], purpose="x")
    pii_access_record(actor=LEAKER, member_ids=[members[3].pk], fields=["address"], purpose="x")
    other = Actor(kind="user", id=7, label="other", role=Role.SUPPORT)
    pii_access_record(actor=other, member_ids=[members[4].pk], fields=["phone"], purpose="x")
    incident = _open()
    # when
    added = breach.breach_affected_add(
        incident_id=incident.pk,
        access=AccessCriteria(actor_kind="user", actor_id=4242, fields=("phone", "name")),
        actor=LEAD,
    )
    # then
    assert added == breach.Added(3, 0, 0)
    assert set(BreachAffected.objects.values_list("member_id", flat=True)) == {m.pk for m in members[:3]}
    # a second derivation adding a list and a campaign counts each member once
    signed = sign_up(open_campaign, "+8613900000001").member_id
    again = breach.breach_affected_add(
        incident_id=incident.pk,
        campaign_id=open_campaign.pk,
        member_ids=[members[0].pk, members[3].pk],
        actor=LEAD,
    )
    assert again.added == 2
    assert BreachAffected.objects.get(member_id=signed).source == "campaign"
    summary = breach.breach_affected_summary(incident)
    assert summary.total == 5
    assert all("*" in (s["phone"] or "*") for s in summary.samples)  # masked, never in clear
    entry = _audits("breach.affected_add")[-1]
    assert entry.before == {"affected": 3} and entry.after["affected"] == 5


def test_a_time_window_limits_the_access_trail():
    member_old, member_new = MemberFactory(), MemberFactory()
    # the access log is append-only and chained: the older read is written with the clock set back
    with freeze_time(timezone.now() - timedelta(days=3)):
        pii_access_record(actor=LEAKER, member_ids=[member_old.pk], fields=["phone"], purpose="x")
    pii_access_record(actor=LEAKER, member_ids=[member_new.pk], fields=["phone"], purpose="x")
    incident = _open()
    breach.breach_affected_add(
        incident_id=incident.pk, access=AccessCriteria(since=timezone.now() - timedelta(days=1)), actor=LEAD
    )
    assert list(BreachAffected.objects.values_list("member_id", flat=True)) == [member_new.pk]


def test_an_access_window_that_ends_before_it_starts_is_refused_on_its_field():
    member = MemberFactory()
    pii_access_record(actor=LEAKER, member_ids=[member.pk], fields=["phone"], purpose="x")
    incident = _open()
    now = timezone.now()
    with pytest.raises(DomainError) as refused:
        breach.breach_affected_add(
            incident_id=incident.pk,
            access=AccessCriteria(since=now + timedelta(hours=1), until=now - timedelta(days=1)),
            actor=LEAD,
        )
    assert refused.value.code == "core.invalid"
    assert [e["field"] for e in refused.value.errors] == ["until"]
    assert not BreachAffected.objects.exists() and not _audits("breach.affected_add")


def _erase(member):
    from yunying.members.personal_data import profile_erase

    profile_erase(member.pk)


def test_erased_members_and_ids_of_no_member_are_skipped_and_counted():
    # given: three members read by the leaking operator, one erased since; and a read of an id
    # that is no member's (the access trail outlives members)
    live, erased, other = MemberFactory(), MemberFactory(), MemberFactory()
    _erase(erased)
    pii_access_record(actor=LEAKER, member_ids=[live.pk, erased.pk, 987654], fields=["phone"], purpose="x")
    incident = _open()
    criteria = AccessCriteria(actor_kind="user", actor_id=4242)
    # when previewed then added
    preview = breach.breach_affected_preview(incident_id=incident.pk, access=criteria, actor=LEAD)
    added = breach.breach_affected_add(incident_id=incident.pk, access=criteria, actor=LEAD)
    # then only the live member is affected; the operator is told how many were skipped and why
    assert (preview.matched, preview.new, preview.erased, preview.unknown) == (3, 1, 1, 1)
    assert added == breach.Added(added=1, erased=1, unknown=1)
    assert list(BreachAffected.objects.values_list("member_id", flat=True)) == [live.pk]
    assert _audits("breach.affected_add")[-1].after["skipped"] == {"erased": 1, "unknown": 1}
    # an erased member in an explicit list is skipped too
    listed = breach.breach_affected_add(incident_id=incident.pk, member_ids=[erased.pk, other.pk], actor=LEAD)
    assert listed == breach.Added(added=1, erased=1, unknown=0)


def test_a_member_erased_after_being_added_is_neither_notified_nor_compensated(notify_dir):
    # given: two affected members, one erased afterwards
    incident, (kept, gone) = _with_members(2)
    _erase(gone)
    compensation.breach_compensation_plan(incident_id=incident.pk, kind="extension", days=30, actor=LEAD)
    # when
    sent = breach.breach_notice_send(incident_id=incident.pk, actor=LEAD)
    given = compensation.breach_compensate(incident_id=incident.pk, actor=LEAD)
    # then the erased member is skipped (and said to be), never messaged nor given an extension
    assert (sent.queued, sent.total, sent.skipped) == (1, 1, 1)
    assert (given.issued, given.remaining, given.skipped) == (1, 0, 1)
    assert set(OutboxMessage.objects.values_list("member_id", flat=True)) == {kept.pk}
    extended = AuditEntry.objects.filter(action="tier.extend").values_list("object_id", flat=True)
    assert str(gone.pk) not in {str(x) for x in extended} and len(extended) == 1
    row = BreachAffected.objects.get(member_id=gone.pk)
    assert row.notified_at is None and row.compensated_at is None
    summary = breach.breach_affected_summary(incident)
    assert (summary.total, summary.notified, summary.compensated, summary.unreachable) == (2, 1, 1, 1)
    # a re-run neither loops on them nor sends anything
    assert breach.breach_notice_send(incident_id=incident.pk, actor=LEAD).queued == 0


def test_affected_members_need_a_criterion_and_known_ids():
    incident = _open()
    with pytest.raises(DomainError) as none:
        breach.breach_affected_add(incident_id=incident.pk, access=AccessCriteria(), actor=LEAD)
    assert none.value.code == BreachError.CRITERIA_REQUIRED
    with pytest.raises(DomainError) as unknown:
        breach.breach_affected_add(incident_id=incident.pk, member_ids=[999999], actor=LEAD)
    assert unknown.value.code == BreachError.MEMBERS_UNKNOWN and unknown.value.data["ids"] == [999999]
    assert "999999" in unknown.value.message


@pytest.mark.parametrize(
    ("criteria", "field", "code"),
    [
        pytest.param({"campaign_id": 999999}, "campaign_id", BreachError.CAMPAIGN_UNKNOWN, id="campaign"),
        pytest.param(
            {"access": AccessCriteria(actor_label="nobody")}, "access_actor", BreachError.ACTOR_UNKNOWN, id="name"
        ),
        pytest.param(
            {"access": AccessCriteria(actor_kind="api_key", actor_id=999999)},
            "access_actor", BreachError.ACTOR_UNKNOWN, id="key-id",
        ),
        pytest.param(
            {"access": AccessCriteria(since=datetime(1, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")))},
            "since", BreachError.INVALID, id="year-1",
        ),
    ],
)  # fmt: skip
@pytest.mark.parametrize("call", ["add", "preview"])
def test_criteria_that_name_nobody_are_refused_on_their_field(criteria, field, code, call):
    """A typo matched nothing and said "0 added"; year 1 in Beijing time overflowed in the query."""
    # given
    incident = _open()
    pii_access_record(actor=LEAKER, member_ids=[MemberFactory().pk], fields=["phone"], purpose="x")
    run = breach.breach_affected_add if call == "add" else breach.breach_affected_preview
    # when
    with pytest.raises(ValidationFailed) as refused:
        run(incident_id=incident.pk, actor=LEAD, **criteria)
    # then
    assert [(e["field"], e["code"]) for e in refused.value.errors] == [(field, code)]
    assert not BreachAffected.objects.exists()


def test_an_actor_is_known_by_the_access_trail_or_as_an_operator_or_key(django_user_model):
    from yunying.core.models import ApiKey

    incident = _open()
    member = MemberFactory()
    pii_access_record(actor=LEAKER, member_ids=[member.pk], fields=["phone"], purpose="x")
    user = django_user_model.objects.create_user(username="quiet", password="x")
    key = ApiKey.objects.create(name="crm sync", role="strategy", prefix="p1", secret_hash="h")
    for access in [
        AccessCriteria(actor_label=LEAKER.label),
        AccessCriteria(actor_kind="user", actor_id=LEAKER.id),
        AccessCriteria(actor_label="quiet"),
        AccessCriteria(actor_kind="user", actor_id=user.pk),
        AccessCriteria(actor_label="crm sync"),
        AccessCriteria(actor_kind="api_key", actor_id=key.pk),
    ]:
        breach.breach_affected_preview(incident_id=incident.pk, access=access, actor=LEAD)


# -- the notice ------------------------------------------------------------------------------------


def _with_members(n, **kwargs):
    incident = _open(**kwargs)
    members = [MemberFactory() for _ in range(n)]
    breach.breach_affected_add(incident_id=incident.pk, member_ids=[m.pk for m in members], actor=LEAD)
    return incident, members


def test_the_notice_goes_once_to_each_affected_member_whatever_the_reruns(notify_dir):
    # given
    incident, members = _with_members(3)
    # when sent twice, and a row is marked unsent again (an interrupted batch)
    first = breach.breach_notice_send(incident_id=incident.pk, actor=LEAD)
    BreachAffected.objects.filter(member_id=members[0].pk).update(notified_at=None)
    second = breach.breach_notice_send(incident_id=incident.pk, actor=LEAD)
    # then: one message per member (the outbox's dedupe key refused the repeat)
    assert (first.queued, first.total) == (3, 3)
    assert second.queued == 1
    messages = OutboxMessage.objects.filter(ref=f"breach:{incident.pk}")
    assert sorted(messages.values_list("member_id", flat=True)) == sorted(m.pk for m in members)
    report = outbox_deliver_due()
    assert report.sent == 3
    body = (notify_dir / "sms.jsonl").read_text()
    assert "400-800-1234" in body


def test_a_sent_notice_cannot_be_edited_but_an_unsent_one_can():
    incident, _ = _with_members(1)
    breach.breach_notice_update(
        incident_id=incident.pk, parts={"notice_advice": "Change passwords"}, actor=LEAD
    )
    (entry,) = _audits("breach.notice_edit")
    assert entry.after == {"notice_advice": "Change passwords"}
    breach.breach_notice_send(incident_id=incident.pk, actor=LEAD)
    with pytest.raises(DomainError) as refused:
        breach.breach_notice_update(incident_id=incident.pk, parts={"notice_advice": "x"}, actor=LEAD)
    assert refused.value.code == BreachError.NOTICE_SENT


def test_a_notice_needs_members_and_every_part():
    incident = _open()
    with pytest.raises(DomainError) as refused:
        breach.breach_notice_send(incident_id=incident.pk, actor=LEAD)
    assert refused.value.code == BreachError.NO_AFFECTED
    incident, _ = _with_members(1)
    breach.breach_notice_update(incident_id=incident.pk, parts={"notice_contact": ""}, actor=LEAD)
    with pytest.raises(DomainError) as incomplete:
        breach.breach_notice_send(incident_id=incident.pk, actor=LEAD)
    assert incomplete.value.code == BreachError.NOTICE_INCOMPLETE
    assert not OutboxMessage.objects.exists()


def test_a_drills_notice_stays_in_the_outbox_marked_and_reaches_no_member(notify_dir):
    incident, _members = _with_members(2, drill=True)
    breach.breach_notice_send(incident_id=incident.pk, actor=LEAD)
    queued = OutboxMessage.objects.filter(ref=f"breach-drill:{incident.pk}")
    assert queued.count() == 2 and all(m.context["drill"] for m in queued)
    outbox_deliver_due()
    assert set(queued.values_list("status", "last_error")) == {
        (OutboxStatus.CANCELLED, "breach drill: never delivered")
    }
    assert not (notify_dir / "sms.jsonl").exists()


# -- compensation ----------------------------------------------------------------------------------


def test_coupons_are_issued_once_each_in_resumable_batches():
    # given
    coupon = promotion_make("coupon_off", threshold_fen=0, off_fen=500)
    incident, members = _with_members(5)
    compensation.breach_compensation_plan(
        incident_id=incident.pk, kind="coupon", promotion_id=coupon.pk, actor=LEAD
    )
    # when: two batches of 3, then a re-run
    first = compensation.breach_compensate(incident_id=incident.pk, actor=LEAD, batch_size=3)
    second = compensation.breach_compensate(incident_id=incident.pk, actor=LEAD, batch_size=3)
    third = compensation.breach_compensate(incident_id=incident.pk, actor=LEAD, batch_size=3)
    # then
    assert (first.issued, first.remaining) == (3, 2)
    assert (second.issued, second.remaining) == (2, 0)
    assert third.issued == 0
    held = Coupon.objects.filter(promotion=coupon, source_ref=f"breach:{incident.pk}")
    assert sorted(held.values_list("member_id", flat=True)) == sorted(m.pk for m in members)
    assert len(_audits("breach.compensate")) == 3 and len(_audits("coupon.issue")) == 5
    with pytest.raises(DomainError) as locked:
        compensation.breach_compensation_plan(incident_id=incident.pk, kind="extension", days=30, actor=LEAD)
    assert locked.value.code == BreachError.COMPENSATION_STARTED


def test_a_coupon_that_runs_out_stops_the_run_and_a_later_run_resumes():
    coupon = promotion_make("coupon_off", threshold_fen=0, off_fen=500, issue_limit=2)
    incident, _ = _with_members(3)
    compensation.breach_compensation_plan(
        incident_id=incident.pk, kind="coupon", promotion_id=coupon.pk, actor=LEAD
    )
    result = compensation.breach_compensate(incident_id=incident.pk, actor=LEAD)
    assert (result.issued, result.remaining, result.stopped) == (2, 1, "promotion.issue_limit_reached")


def test_a_membership_extension_moves_the_review_once_per_member():
    incident, _members = _with_members(2)
    compensation.breach_compensation_plan(incident_id=incident.pk, kind="extension", days=30, actor=LEAD)
    compensation.breach_compensate(incident_id=incident.pk, actor=LEAD)
    reviews = {t.member_id: t.review_at for t in MemberTier.objects.all()}
    compensation.breach_compensate(incident_id=incident.pk, actor=LEAD)
    assert {t.member_id: t.review_at for t in MemberTier.objects.all()} == reviews
    assert all(r > timezone.now() + timedelta(days=29) for r in reviews.values())
    extends = _audits("tier.extend")
    assert len(extends) == 2 and extends[0].before["review_at"] < extends[0].after["review_at"]


def test_a_drills_compensation_issues_nothing():
    coupon = promotion_make("coupon_off", threshold_fen=0, off_fen=500)
    incident, _ = _with_members(2, drill=True)
    compensation.breach_compensation_plan(
        incident_id=incident.pk, kind="coupon", promotion_id=coupon.pk, actor=LEAD
    )
    result = compensation.breach_compensate(incident_id=incident.pk, actor=LEAD)
    assert result.issued == 2 and not Coupon.objects.exists()
    assert set(BreachAffected.objects.values_list("compensation", flat=True)) == {"drill"}


def test_compensating_needs_a_plan_and_a_valid_one():
    incident, _ = _with_members(1)
    with pytest.raises(DomainError) as unset:
        compensation.breach_compensate(incident_id=incident.pk, actor=LEAD)
    assert unset.value.code == BreachError.COMPENSATION_UNSET
    with pytest.raises(DomainError) as bad:
        compensation.breach_compensation_plan(incident_id=incident.pk, kind="extension", days=0, actor=LEAD)
    assert bad.value.code == "core.invalid"


# -- the report ------------------------------------------------------------------------------------


def test_the_report_draft_tells_the_whole_story():
    from yunying.privacy.breach_report import breach_report_draft

    coupon = promotion_make("coupon_off", threshold_fen=0, off_fen=500)
    incident, _ = _with_members(2)
    breach.breach_update(
        incident_id=incident.pk, facts={"cause": "A shared link", "measures": "Link revoked"}, actor=LEAD
    )
    breach.breach_notice_send(incident_id=incident.pk, actor=LEAD)
    compensation.breach_compensation_plan(
        incident_id=incident.pk, kind="coupon", promotion_id=coupon.pk, actor=LEAD
    )
    compensation.breach_compensate(incident_id=incident.pk, actor=LEAD)
    text = breach_report_draft(breach.breach_get(incident.pk))
    for part in ("A shared link", "Link revoked", "400-800-1234", "2"):
        assert part in text
    entry = _audits("breach.update")[0]
    assert entry.before == {"cause": "", "measures": ""}


def test_an_extension_outside_its_bounds_is_refused():
    from yunying.loyalty.tiers import tier_extend

    member = MemberFactory()
    with pytest.raises(DomainError) as refused:
        tier_extend(member_id=member.pk, days=0, actor=LEAD)
    assert refused.value.code == "loyalty.extension_invalid"
    with pytest.raises(DomainError) as unknown:
        tier_extend(member_id=999999, days=3, actor=LEAD)
    assert unknown.value.code == "loyalty.member_not_found"


def test_an_unknown_incident_or_step_is_named_as_such():
    with pytest.raises(DomainError) as incident:
        breach.breach_notice_send(incident_id=999999, actor=LEAD)
    assert incident.value.code == BreachError.NOT_FOUND
    with pytest.raises(DomainError) as step:
        breach.breach_step_done(step_id=999999, notes="x", actor=LEAD)
    assert step.value.code == BreachError.STEP_NOT_FOUND


def test_the_notice_reads_in_chinese_and_in_english():
    from django.utils import translation

    incident = _open()
    render = breach.breach_messages_load([{"incident_id": incident.pk}])
    with translation.override("zh-hans"):
        subject_zh, body_zh = render(breach.NOTICE_TEMPLATE, {"incident_id": incident.pk}, "sms")
    with translation.override("en"):
        subject_en, body_en = render(breach.NOTICE_TEMPLATE, {"incident_id": incident.pk}, "sms")
    assert subject_zh == "关于您个人信息的通知" and subject_en == "Notice about your personal data"
    assert "联系方式：400-800-1234" in body_zh and "Contact: 400-800-1234" in body_en


def test_a_preview_counts_what_would_be_added_and_stores_nothing():
    incident, members = _with_members(1)
    other = MemberFactory()
    preview = breach.breach_affected_preview(
        incident_id=incident.pk, member_ids=[members[0].pk, other.pk], actor=LEAD
    )
    assert (preview.matched, preview.new) == (2, 1)
    assert [s["member_id"] for s in preview.samples] == [other.pk] and "*" in preview.samples[0]["phone"]
    assert BreachAffected.objects.count() == 1
    assert not AuditEntry.objects.filter(action="breach.affected_add").exclude(after__affected=1).exists()


def test_a_step_of_another_incident_is_not_found_under_this_one():
    first, second = _open(), _open()
    with pytest.raises(DomainError) as refused:
        breach.breach_step_done(incident_id=second.pk, step_id=first.steps.first().pk, notes="x", actor=LEAD)
    assert refused.value.code == BreachError.STEP_NOT_FOUND


def test_steps_timed_from_the_opening_before_the_fix_are_re_timed_from_the_discovery():
    from importlib import import_module

    from django.apps import apps

    retime = import_module("yunying.privacy.migrations.0006_breach_clocks_from_discovery").retime
    # given: an incident found two days before it was opened, its steps timed the old way (from opening)
    discovered = timezone.now() - timedelta(days=2)
    incident = _open(discovered_at=discovered)
    for step in incident.steps.all():
        BreachStep.objects.filter(pk=step.pk).update(due_at=incident.opened_at + breach.DEADLINES[step.kind])
    investigate = incident.steps.get(kind=StepKind.INVESTIGATE)
    BreachStep.objects.filter(pk=investigate.pk).update(done_at=timezone.now(), notes="done")
    assert not BreachStep.objects.get(pk=investigate.pk).late  # "done in time", the defect
    # when
    retime(apps, None)
    # then
    due = {s.kind: s.due_at - discovered for s in incident.steps.all()}
    assert due == {kind: breach.DEADLINES[kind] for kind in breach.STEP_ORDER}
    assert BreachStep.objects.get(pk=investigate.pk).late


def test_what_investigators_write_is_stored_without_phones_ids_or_e_mails():
    """Attacker review: a description naming a member's phone sat in a database dump in clear. The
    company's own contact line, which the notice gives members, is kept as written."""
    said = "会员 13911112222 陈美玲，身份证11010119900307001X，邮箱 chen@qq.com"
    incident = _open(description=said, scope=said)
    breach.breach_update(incident_id=incident.pk, facts={"cause": said, "measures": said}, actor=LEAD)
    step = incident.steps.order_by("position").first()
    breach.breach_step_done(step_id=step.pk, notes=said, actor=LEAD, incident_id=incident.pk)
    incident.refresh_from_db()
    step.refresh_from_db()
    stored = [incident.description, incident.scope, incident.cause, incident.measures, step.notes]
    assert all("[phone]" in text and "[id]" in text and "[email]" in text for text in stored)
    assert incident.contact == "400-800-1234"
