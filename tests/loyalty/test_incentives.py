"""Check-in, task lists and referral rewards (L3)."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.commerce.helpers import cancel, ingest, order_payload
from yunying.core.activity import Activity, ActivityKind, activity_publish
from yunying.core.audit import AuditEntry
from yunying.core.errors import DomainError
from yunying.core.permissions import SYSTEM, Actor, Role
from yunying.loyalty.checkin import (
    checkin_calendar,
    checkin_rule_save,
    checkin_status,
    checkin_today,
    next_streak,
)
from yunying.loyalty.ledger import ledger_reconcile
from yunying.loyalty.models import (
    Checkin,
    CheckinRule,
    MissedDayPolicy,
    PointAccount,
    PointPosting,
    Referral,
    ReferralStatus,
    TaskKind,
)
from yunying.loyalty.referrals import referral_decide, referral_rule_save, referrals_settle_due
from yunying.loyalty.tasks import TaskSpec, task_list_save, task_progress
from yunying.members.models import ConsentEvent, Member

SH = ZoneInfo("Asia/Shanghai")
OPERATOR = Actor(kind="user", id=1, label="op", role=Role.STRATEGY)


def at(day: int, hour: int = 10, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SH)


def balance(member) -> int:
    account = PointAccount.objects.filter(member=member).first()
    return account.balance + account.pending if account else 0


def rule(**kwargs):
    values = dict(
        rewards=[5, 5, 5, 5, 5, 5, 30],
        missed_policy=MissedDayPolicy.RESET,
        grace_days=0,
        cycle_days=0,
        points_expire_days=365,
        enabled=True,
        actor=OPERATOR,
    )
    values.update(kwargs)
    return checkin_rule_save(**values)


# ---------------------------------------------------------------------------------------------------
# Check-in


@pytest.mark.django_db
def test_seven_days_pay_the_table_and_day_eight_starts_a_new_cycle():
    rule()
    member = Member.objects.create(external_id="m")
    streaks = [checkin_today(member_id=member.pk, now=at(d)).checkin for d in range(1, 9)]
    assert [c.streak for c in streaks] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [c.points for c in streaks] == [5, 5, 5, 5, 5, 5, 30, 5]
    assert balance(member) == 65
    assert ledger_reconcile() == []


@pytest.mark.django_db
def test_a_second_check_in_the_same_local_day_pays_nothing():
    rule()
    member = Member.objects.create(external_id="m")
    first = checkin_today(member_id=member.pk, now=at(3, 0))  # 00:00 Shanghai = 16:00 UTC the day before
    again = checkin_today(member_id=member.pk, now=at(3, 23))
    assert not first.replayed and again.replayed
    assert first.checkin.day == date(2026, 12, 3)
    assert Checkin.objects.count() == 1 and balance(member) == 5


@pytest.mark.django_db
def test_the_day_is_the_operators_zone_not_utc():
    rule()
    member = Member.objects.create(external_id="m")
    # 23:30 UTC on Dec 2 is 07:30 on Dec 3 in Shanghai
    result = checkin_today(member_id=member.pk, now=datetime(2026, 12, 2, 23, 30, tzinfo=ZoneInfo("UTC")))
    assert result.checkin.day == date(2026, 12, 3)


@pytest.mark.django_db
def test_a_missed_day_resets_the_streak():
    rule()
    member = Member.objects.create(external_id="m")
    checkin_today(member_id=member.pk, now=at(1))
    checkin_today(member_id=member.pk, now=at(2))
    assert checkin_today(member_id=member.pk, now=at(4)).checkin.streak == 1


@pytest.mark.django_db
def test_grace_days_keep_the_streak_over_missed_days():
    rule(missed_policy=MissedDayPolicy.GRACE, grace_days=2)
    member = Member.objects.create(external_id="m")
    checkin_today(member_id=member.pk, now=at(1))
    assert checkin_today(member_id=member.pk, now=at(4)).checkin.streak == 2  # missed 2, 3
    assert checkin_today(member_id=member.pk, now=at(8)).checkin.streak == 1  # missed 3 days


@pytest.mark.parametrize(
    ("policy", "grace", "gap", "expected"),
    [
        ("reset", 0, 1, 4),
        ("reset", 0, 2, 1),
        ("grace", 1, 2, 4),
        ("grace", 1, 3, 1),
        ("grace", 3, 4, 4),
        ("grace", 3, 5, 1),
    ],
)
def test_next_streak_table(policy, grace, gap, expected):
    r = CheckinRule(rewards=[1], missed_policy=policy, grace_days=grace)
    prev = Checkin(day=date(2026, 12, 1), streak=3)
    assert next_streak(r, prev, date(2026, 12, 1) + timedelta(days=gap)) == expected


@given(st.lists(st.booleans(), min_size=1, max_size=40), st.integers(0, 3))
@settings(max_examples=60, deadline=None)
def test_streak_never_exceeds_consecutive_days_plus_grace(days, grace):
    """A streak is at most the span since the first check-in, and at least 1."""
    r = CheckinRule(rewards=[1], missed_policy="grace", grace_days=grace)
    prev = None
    start = date(2026, 1, 1)
    first = None
    for offset, checked in enumerate(days):
        if not checked:
            continue
        today = start + timedelta(days=offset)
        streak = next_streak(r, prev, today)
        first = first if first and streak > 1 else today
        assert 1 <= streak <= (today - first).days + 1
        prev = Checkin(day=today, streak=streak)


@pytest.mark.django_db
def test_closed_and_bad_rules_are_refused_with_codes():
    member = Member.objects.create(external_id="m")
    with pytest.raises(DomainError) as closed:
        checkin_today(member_id=member.pk)
    assert closed.value.code == "loyalty.checkin_closed"
    with pytest.raises(DomainError) as bad:
        rule(rewards=[])
    assert bad.value.code == "loyalty.checkin_rule_invalid"
    with pytest.raises(DomainError) as denied:
        rule(actor=Actor(kind="user", id=2, label="viewer", role=Role.AUDITOR))
    assert denied.value.code == "core.permission_denied"


@pytest.mark.django_db
def test_rule_edits_are_audited():
    rule()
    assert AuditEntry.objects.filter(action="loyalty.checkin_rule_save").count() == 1


@pytest.mark.django_db
def test_status_and_calendar():
    rule()
    member = Member.objects.create(external_id="m")
    checkin_today(member_id=member.pk, now=at(1))
    status = checkin_status(member.pk, now=at(2))
    assert (status.checked_in_today, status.streak, status.next_streak, status.today_points) == (
        False,
        1,
        2,
        5,
    )
    weeks = checkin_calendar(member.pk, year=2026, month=12, now=at(2))
    days = [d for w in weeks for d in w if d.day]
    assert len(days) == 31 and days[0].checked and not days[1].checked and days[1].is_today
    assert all(len(w) == 7 for w in weeks)


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("rush")
def test_concurrent_double_taps_credit_once():
    rule()
    member = Member.objects.create(external_id="m")
    threads = 8
    barrier = threading.Barrier(threads)

    def tap(_):
        try:
            barrier.wait(timeout=30)
            return checkin_today(member_id=member.pk).replayed
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = Counter(pool.map(tap, range(threads)))
    assert outcomes == {False: 1, True: threads - 1}
    assert Checkin.objects.count() == 1
    assert PointPosting.objects.filter(source="checkin").count() == 1
    assert balance(member) == 5


# ---------------------------------------------------------------------------------------------------
# Tasks


def newbie_list(**kwargs):
    return task_list_save(
        name="新人任务",
        tasks=[
            TaskSpec(TaskKind.PROFILE_COMPLETED, points=10),
            TaskSpec(TaskKind.FIRST_SIGNUP, points=10),
            TaskSpec(TaskKind.FIRST_ORDER, points=20),
            TaskSpec(TaskKind.CHECKINS, points=5, target=2),
        ],
        required=3,
        reward_points=100,
        actor=OPERATOR,
        **kwargs,
    )


def publish(kind, member, key, **data):
    activity_publish(Activity(kind=kind, member_id=member.pk, key=key, at=at(1), data=data))


@pytest.mark.django_db
def test_three_tasks_unlock_the_list_reward_once_and_replays_pay_nothing():
    newbie_list()
    rule()
    member = Member.objects.create(external_id="m", invite_code="X1")
    publish(ActivityKind.PROFILE_COMPLETED, member, "q1")
    publish(ActivityKind.SIGNUP_CONFIRMED, member, "s1", campaign_id=1)
    publish(ActivityKind.SIGNUP_CONFIRMED, member, "s2", campaign_id=2)  # a second sign-up: no more
    assert balance(member) == 20
    checkin_today(member_id=member.pk, now=at(1))
    checkin_today(member_id=member.pk, now=at(2))  # 2 check-ins: the third task, the list is done
    assert balance(member) == 20 + 5 + 5 + 5 + 100
    for _ in range(2):  # replays
        publish(ActivityKind.PROFILE_COMPLETED, member, "q1")
        publish(ActivityKind.SIGNUP_CONFIRMED, member, "s1", campaign_id=1)
    assert balance(member) == 135
    [progress] = task_progress(member.pk)
    assert (progress.done, progress.required, progress.rewarded, progress.percent) == (3, 3, True, 100)
    assert ledger_reconcile() == []


@pytest.mark.django_db
def test_a_first_order_completes_its_task_past_the_return_window_and_an_invite_when_the_referral_pays():
    from yunying.loyalty.tasks import first_orders_due

    referral_rules()
    task_list_save(
        name="邀请",
        tasks=[TaskSpec(TaskKind.INVITED_FRIEND, points=7), TaskSpec(TaskKind.FIRST_ORDER, points=3)],
        required=0,
        reward_points=0,
        actor=OPERATOR,
    )
    buyer = Member.objects.create(external_id="buyer")
    first_order(buyer, 1)
    assert balance(buyer) == 0  # an order can still be returned
    assert first_orders_due(now=at(20)) == {"first_order_tasks": 1}
    assert balance(buyer) == 3
    friend = invite(buyer, 2)
    assert balance(buyer) == 3  # a registration alone pays nothing
    first_order(friend, 2)
    referrals_settle_due(now=at(20))
    assert balance(buyer) == 3 + 500 + 7


@pytest.mark.django_db
def test_bad_task_lists_are_refused():
    for bad in (
        dict(name="", tasks=[TaskSpec(TaskKind.FIRST_ORDER)], required=1, reward_points=0),
        dict(name="x", tasks=[], required=0, reward_points=0),
        dict(name="x", tasks=[TaskSpec("nope")], required=0, reward_points=0),
        dict(name="x", tasks=[TaskSpec(TaskKind.FIRST_ORDER)], required=2, reward_points=0),
        dict(name="x", tasks=[TaskSpec(TaskKind.FIRST_ORDER, points=-1)], required=0, reward_points=0),
    ):
        with pytest.raises(DomainError) as err:
            task_list_save(actor=OPERATOR, **bad)
        assert err.value.code == "loyalty.task_list_invalid"


# ---------------------------------------------------------------------------------------------------
# Referrals


def referral_rules(**kwargs):
    values = dict(
        inviter_points=500, invitee_points=100, monthly_cap=5, return_window_days=7, same_signal_limit=2
    )
    values.update(kwargs)
    return referral_rule_save(actor=OPERATOR, **values)


def invite(inviter, n: int, *, ip_hash: str = "") -> Member:
    friend = Member.objects.create(external_id=f"friend-{n}", invited_by=inviter)
    if ip_hash:
        ConsentEvent.objects.create(
            member=friend,
            purpose="service",
            granted=True,
            policy_version="1",
            channel="h5",
            ip_hash=ip_hash,
            at=at(1),
        )
    publish(ActivityKind.MEMBER_REGISTERED, friend, str(friend.pk), inviter_id=inviter.pk)
    return friend


def first_order(friend, n: int, **overrides):
    """The friend's order, paid now (after the referral opened)."""
    from django.utils import timezone

    overrides.setdefault("paid_at", timezone.now().isoformat())
    return ingest(order_payload(f"SO-{n}", member={"external_id": friend.external_id}, **overrides))


@pytest.mark.django_db
def test_the_inviter_is_paid_after_the_first_orders_return_window():
    referral_rules()
    inviter = Member.objects.create(external_id="inv")
    friend = invite(inviter, 1)
    first_order(friend, 1)
    paid_at = Referral.objects.get().order_paid_at
    assert referrals_settle_due(now=paid_at + timedelta(days=6)) == {}
    assert balance(inviter) == 0
    assert referrals_settle_due(now=paid_at + timedelta(days=7, seconds=1)) == {"paid": 1}
    assert referrals_settle_due(now=paid_at + timedelta(days=8)) == {}  # run again: nothing
    assert balance(inviter) == 500 and balance(friend) == 100
    assert Referral.objects.get().status == ReferralStatus.PAID


@pytest.mark.django_db
def test_a_cancelled_first_order_pays_nothing():
    referral_rules()
    inviter = Member.objects.create(external_id="inv")
    friend = invite(inviter, 1)
    first_order(friend, 1)
    cancel("SO-1", reason="changed mind")
    assert Referral.objects.get().status == ReferralStatus.VOID
    referrals_settle_due(now=at(28))
    assert balance(inviter) == 0


@pytest.mark.django_db
def test_self_and_circular_referrals_are_refused():
    referral_rules()
    a = Member.objects.create(external_id="a")
    publish(ActivityKind.MEMBER_REGISTERED, a, "a", inviter_id=a.pk)
    b = Member.objects.create(external_id="b", invited_by=a)
    publish(ActivityKind.MEMBER_REGISTERED, b, "b", inviter_id=a.pk)
    Member.objects.filter(pk=a.pk).update(invited_by=b)
    c = Member.objects.create(external_id="c", invited_by=b)
    # a claims to be invited by c, who was invited by b, who was invited by a: a circle
    publish(ActivityKind.MEMBER_REGISTERED, a, "a2", inviter_id=c.pk)
    assert list(Referral.objects.values_list("inviter__external_id", "invitee__external_id")) == [("a", "b")]


@pytest.mark.django_db
def test_the_monthly_cap_stops_paying():
    referral_rules(monthly_cap=2, same_signal_limit=100)
    inviter = Member.objects.create(external_id="inv")
    for n in range(3):
        first_order(invite(inviter, n), n)
    counts = referrals_settle_due(now=at(20))
    assert counts == {"paid": 2, "capped": 1}
    assert balance(inviter) == 1000


@pytest.mark.django_db
def test_many_invitees_from_one_device_go_to_review_and_an_operator_decides():
    referral_rules(same_signal_limit=2)
    inviter = Member.objects.create(external_id="inv")
    for n in range(4):
        first_order(invite(inviter, n, ip_hash="same"), n)
    assert referrals_settle_due(now=at(20)) == {"paid": 2, "review": 2}
    held = list(Referral.objects.filter(status=ReferralStatus.REVIEW).order_by("id"))
    referral_decide(referral_id=held[0].pk, approve=True, actor=OPERATOR, reason="known family")
    referral_decide(referral_id=held[1].pk, approve=False, actor=OPERATOR, reason="farm")
    assert balance(inviter) == 1500
    assert (
        AuditEntry.objects.filter(action__startswith="loyalty.referral_")
        .exclude(action="loyalty.referral_rule_save")
        .count()
        == 2
    )
    with pytest.raises(DomainError) as again:
        referral_decide(referral_id=held[0].pk, approve=True, actor=OPERATOR)
    assert again.value.code == "loyalty.referral_not_in_review"
    assert ledger_reconcile() == []


@pytest.mark.django_db
def test_only_operators_with_the_permission_decide():
    with pytest.raises(DomainError) as denied:
        referral_decide(
            referral_id=1, approve=True, actor=Actor(kind="user", id=3, label="a", role=Role.AUDITOR)
        )
    assert denied.value.code == "core.permission_denied"
    assert SYSTEM.can("loyalty.configure")


@pytest.mark.django_db
def test_answering_a_whole_questionnaire_completes_the_profile_task_once(settings):
    from tests.members.test_profiling import blank_member, save, spec
    from yunying.members.profiling import answers_submit, questions_pending

    settings.PRIVACY_POLICY_VERSION = "v1"
    task_list_save(
        name="资料", tasks=[TaskSpec(TaskKind.PROFILE_COMPLETED, points=15)], required=0, reward_points=0,
        actor=OPERATOR,
    )  # fmt: skip
    save(spec(), spec(target="attr:tea", prompt="茶?"))
    member = blank_member()
    first, second = questions_pending(member, "after_signup")
    answers_submit(member=member, moment="after_signup", answers={first.pk: "拿铁"})
    assert balance(member) == 0  # half answered
    answers_submit(member=member, moment="after_signup", answers={second.pk: "绿茶"})
    assert balance(member) == 15


EVENTS = [
    (ActivityKind.PROFILE_COMPLETED, TaskKind.PROFILE_COMPLETED),
    (ActivityKind.SIGNUP_CONFIRMED, TaskKind.FIRST_SIGNUP),
    (ActivityKind.SIGNUP_ATTENDED, TaskKind.FIRST_ATTENDANCE),
]
POINTS = {TaskKind.PROFILE_COMPLETED: 10, TaskKind.FIRST_SIGNUP: 20, TaskKind.FIRST_ATTENDANCE: 40}


@pytest.mark.django_db
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3)), max_size=15))
@settings(max_examples=40, deadline=None)
def test_any_sequence_of_events_and_replays_pays_each_task_and_the_list_once(events):
    """Against a reference model: each kind done pays its points once; two kinds unlock 100 once."""
    from yunying.loyalty.models import TaskCompletion, TaskList, TaskListReward

    TaskListReward.objects.all().delete()
    TaskCompletion.objects.all().delete()
    TaskList.objects.all().delete()
    task_list_save(
        name="h", tasks=[TaskSpec(kind, points=p) for kind, p in POINTS.items()], required=2, reward_points=100,
        actor=OPERATOR,
    )  # fmt: skip
    member = Member.objects.create(external_id=f"h-{Member.objects.count()}")
    done = set()
    for event, key in events:
        activity, kind = EVENTS[event]
        publish(activity, member, f"k{key}", campaign_id=key)
        done.add(kind)
    expected = sum(POINTS[k] for k in done) + (100 if len(done) >= 2 else 0)
    assert balance(member) == expected
    assert ledger_reconcile([member.pk]) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("rush")
def test_the_settling_job_run_by_several_workers_at_once_pays_once():
    referral_rules()
    inviter = Member.objects.create(external_id="inv")
    for n in range(3):
        first_order(invite(inviter, n), n)
    threads = 4
    barrier = threading.Barrier(threads)

    def run(_):
        try:
            barrier.wait(timeout=30)
            return referrals_settle_due(now=at(20)).get("paid", 0)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        paid = sum(pool.map(run, range(threads)))
    assert paid == 3
    assert Referral.objects.filter(status=ReferralStatus.PAID).count() == 3
    assert balance(inviter) == 1500
    assert ledger_reconcile() == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("rush")
def test_concurrent_workers_never_pay_past_the_monthly_cap():
    referral_rules(monthly_cap=2, same_signal_limit=100)
    inviter = Member.objects.create(external_id="inv")
    for n in range(5):
        first_order(invite(inviter, n), n)
    threads = 5
    barrier = threading.Barrier(threads)

    def run(_):
        try:
            barrier.wait(timeout=30)
            referrals_settle_due(now=at(20))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(run, range(threads)))
    assert Referral.objects.filter(status=ReferralStatus.PAID).count() == 2
    assert balance(inviter) == 1000


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"paid_at": "2026-11-01T10:00:00+08:00"},  # paid before the friend was invited (backdated)
        {
            "lines": [{"sku": "X", "category": "x", "unit_price_fen": 0, "quantity": 1, "paid_fen": 0}]
        },  # 0 fen
    ],
    ids=["backdated", "zero-fen"],
)
def test_an_order_that_is_no_first_purchase_never_pays_a_referral(overrides):
    """Attacker review: a backdated, 0-fen or imported order paid the referral at once."""
    referral_rules()
    inviter = Member.objects.create(external_id="inv")
    friend = invite(inviter, 1)
    first_order(friend, 1, **overrides)
    assert Referral.objects.get().status == ReferralStatus.WAITING
    assert referrals_settle_due(now=at(28)) == {}
    assert balance(inviter) == 0


@pytest.mark.django_db
def test_the_return_window_runs_from_when_the_order_arrived():
    referral_rules()
    inviter = Member.objects.create(external_id="inv")
    friend = invite(inviter, 1)
    from django.utils import timezone

    first_order(friend, 1, paid_at=(timezone.now() - timedelta(minutes=1)).isoformat())
    assert referrals_settle_due(now=timezone.now() + timedelta(days=1)) == {}
    assert balance(inviter) == 0


@pytest.mark.django_db
def test_approving_a_held_referral_never_pays_past_the_cap():
    referral_rules(same_signal_limit=1, monthly_cap=2)
    inviter = Member.objects.create(external_id="inv")
    for n in range(4):
        first_order(invite(inviter, n, ip_hash="same"), n)
    referrals_settle_due(now=at(20))
    for held in Referral.objects.filter(status=ReferralStatus.REVIEW):
        referral_decide(referral_id=held.pk, approve=True, actor=OPERATOR)
    assert Referral.objects.filter(status=ReferralStatus.PAID).count() == 2
    assert balance(inviter) == 1000


@pytest.mark.django_db
def test_imported_or_cancelled_orders_never_complete_the_first_order_task():
    from tests.commerce.helpers import cancel
    from yunying.commerce.models import Order
    from yunying.loyalty.tasks import first_orders_due

    task_list_save(
        name="首单", tasks=[TaskSpec(TaskKind.FIRST_ORDER, points=50)], required=0, reward_points=0, actor=OPERATOR
    )  # fmt: skip
    cancelled = Member.objects.create(external_id="c1")
    first_order(cancelled, 1)
    cancel("SO-1", reason="x")
    imported = Member.objects.create(external_id="c2")
    first_order(imported, 2)
    Order.objects.filter(external_id="SO-2").update(source="import")
    assert first_orders_due(now=at(28)) == {}
    assert balance(cancelled) == 0 and balance(imported) == 0


@pytest.mark.django_db
def test_a_withdrawn_sign_up_undoes_the_first_sign_up_task():
    from tests.campaigns.factories import CampaignFactory
    from tests.campaigns.helpers import sign_up
    from tests.members.factories import mobile
    from yunying.campaigns.services.admission import signup_withdraw

    task_list_save(
        name="报名", tasks=[TaskSpec(TaskKind.FIRST_SIGNUP, points=20)], required=0, reward_points=0, actor=OPERATOR
    )  # fmt: skip
    campaign = CampaignFactory(status="published", capacity=5)
    signup = sign_up(campaign, mobile(77))
    assert balance(signup.member) == 20
    signup_withdraw(campaign_id=campaign.pk, signup_id=signup.pk, actor=SYSTEM, reason="x")
    assert balance(signup.member) == 0
    again = sign_up(CampaignFactory(status="published", capacity=5), mobile(77))
    assert balance(again.member) == 20  # a later sign-up completes it again
    assert ledger_reconcile() == []
