"""Risk control's writes raced (SQLite and PostgreSQL; threads with their own connections, released
together by a Barrier): events that merge graph components at once, two operators deciding one case,
one challenge token passed twice. None fails into the engine-unavailable fallback, none acts twice."""

from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from tests.rush import at_once
from yunying.core.errors import DomainError
from yunying.core.permissions import Actor
from yunying.risk.defaults import BUILT_IN
from yunying.risk.models import Case, ListEntry, Node, RuleVersion
from yunying.risk.services import (
    case_decide,
    challenge_pass,
    list_entry_add,
    risk_assess,
    rule_version_create,
    rule_version_set_state,
)
from yunying.risk.signals import RiskInput

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("rush")]

THREADS = 8
OPERATOR = Actor(kind="user", id=1, label="审核员")


def _at_once(work):
    return at_once([functools.partial(work, n) for n in range(THREADS)])


def test_events_merging_components_at_once_all_decide_and_end_in_one_component():
    # given eight members each on a device of their own, then each judged with the shared one too
    for n in range(THREADS):
        risk_assess(RiskInput(entry="signup.create", subject_type="signup", subject_ref=f"a{n}", member_ref=f"m{n}", device_id=f"device-own-{n:04d}", ip=f"114.80.{n}.1"))  # fmt: skip

    def judge(n):
        return risk_assess(RiskInput(entry="signup.create", subject_type="signup", subject_ref=f"b{n}", member_ref=f"m{n}", device_id="device-shared-0001", ip=f"114.80.{n}.1"))  # fmt: skip

    verdicts = _at_once(judge)
    # then no event fell back to "engine unavailable", and the graph is one component of eight
    assert not any(verdict.fallback for verdict in verdicts)
    members = Node.objects.filter(key__startswith="m:")
    assert members.count() == THREADS and members.values("component_id").distinct().count() == 1


def test_two_operators_deciding_one_case_decide_it_once():
    verdict = risk_assess(RiskInput(entry="signup.create", subject_type="signup", subject_ref="c1", member_ref="m1", user_agent="python-requests/2.31", ip="47.92.1.1", device_id="device-000001"))  # fmt: skip
    case = Case.objects.get(decision_id=verdict.decision_id)

    def decide(n):
        try:
            case_decide(case_id=case.pk, approve=n % 2 == 0, note=f"operator {n}", actor=OPERATOR)
            return "decided"
        except DomainError as refused:
            return refused.code

    outcomes = _at_once(decide)
    assert outcomes.count("decided") == 1 and outcomes.count("risk.case_decided") == THREADS - 1
    case.refresh_from_db()
    assert case.status in ("approved", "rejected")


def test_a_challenge_passed_by_many_at_once_is_passed_once():
    now = timezone.now()
    verdict = risk_assess(RiskInput(entry="signup.create", subject_type="signup", subject_ref="d1", member_ref="m1", at=now, phone="17012345678", ip="114.80.1.1", form_fill_ms=20_000))  # fmt: skip
    assert verdict.challenge

    def passing(n):
        try:
            challenge_pass(token=verdict.challenge, actor=OPERATOR)
            return "passed"
        except DomainError as refused:
            return refused.code

    outcomes = _at_once(passing)
    assert outcomes.count("passed") == 1
    assert all(outcome == "risk.challenge_invalid" for outcome in outcomes if outcome != "passed")
    assert now - timedelta(minutes=1) < timezone.now()


def test_one_value_added_to_a_list_at_once_is_one_entry():
    def add(n):
        list_entry_add(kind="phone", value="13800138000", verdict="block" if n % 2 else "allow", note=f"n{n}", actor=OPERATOR)  # fmt: skip

    _at_once(add)  # none raises (two creates at once failed on the unique key: a 500)
    assert ListEntry.objects.count() == 1


def test_versions_put_live_at_once_leave_exactly_one_live():
    versions = [rule_version_create(rules=BUILT_IN, reason=f"v{n}", based_on=None, actor=OPERATOR) for n in range(THREADS)]  # fmt: skip

    def go_live(n):
        rule_version_set_state(number=versions[n].number, state="live", actor=OPERATOR)

    _at_once(go_live)  # none raises (the second failed on the one-live constraint)
    assert RuleVersion.objects.filter(state="live").count() == 1


def _decided_in_queue_and_confirmed_on_page_at_once(campaign, n: int) -> list[str]:
    """One sign-up held for review; an operator decides its case in the queue as another confirms it
    on the campaign page, released together. Returns each side's outcome."""
    from tests.members.factories import mobile
    from yunying.campaigns.services.admission import MemberIdentity, Source, signup_confirm, signup_create
    from yunying.core.permissions import Role
    from yunying.members.services import Profile

    storefront = Actor(kind="api_key", id=99, label="storefront", role=Role.INTEGRATION)
    script = Source(
        channel="h5", client_ip=f"47.92.{n}.1", user_agent="python-requests/2.31.0", form_fill_ms=20_000
    )
    signup = signup_create(
        campaign_id=campaign.pk,
        identity=MemberIdentity(phone=mobile(n), profile=Profile(birth_date=None)),
        answers={},
        source=script,
        actor=storefront,
    )
    case = Case.objects.get(decision__subject_ref=signup.public_id)
    barrier = threading.Barrier(2)

    def decide_in_queue():
        case_decide(case_id=case.pk, approve=True, note="", actor=OPERATOR)

    def confirm_on_page():
        signup_confirm(campaign_id=campaign.pk, signup_id=signup.pk, actor=OPERATOR)

    def run(work):
        try:
            barrier.wait(timeout=30)
            work()
            return "done"
        except DomainError as refused:
            return refused.code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(run, [decide_in_queue, confirm_on_page]))
    signup.refresh_from_db()
    case.refresh_from_db()
    return [*outcomes, signup.status, case.status]


def test_a_case_decided_while_its_sign_up_is_confirmed_on_the_campaign_page_never_deadlocks():
    from tests.campaigns.factories import CampaignFactory

    campaign = CampaignFactory(status="published", capacity=50)
    # a third account from data centres within the hour is blocked outright: two rounds
    for n in (1, 2):
        # when an operator decides the case in the queue as another confirms the sign-up on its page
        *outcomes, signup_status, case_status = _decided_in_queue_and_confirmed_on_page_at_once(campaign, n)
        # then one of them did it and the other was told it was done (never a deadlock or 503
        # core.busy), and the sign-up holds one seat with its case closed as approved
        assert "done" in outcomes and set(outcomes) <= {
            "done",
            "risk.case_decided",
            "signup.invalid_transition",
        }, outcomes
        assert (signup_status, case_status) == ("confirmed", "approved")
    campaign.refresh_from_db()
    assert campaign.seats_taken == 2
