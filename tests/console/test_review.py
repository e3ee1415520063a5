"""The review queue: pending sign-ups across campaigns, approved / rejected one by one and in bulk."""

from __future__ import annotations

import pytest

from tests.campaigns.factories import CampaignFactory
from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.models import Signup, SignupEvent
from yunying.core.models import AuditEntry
from yunying.core.permissions import Role

URL = "/console/review/"


@pytest.fixture
def manual(db):
    return CampaignFactory(status="published", review_mode="manual", capacity=5)


def _pending(campaign, n: int, start: int = 0) -> list[Signup]:
    return [sign_up(campaign, mobile(start + i)) for i in range(n)]


def test_the_queue_lists_pending_sign_ups_masked(console_as, manual):
    # given
    signup = _pending(manual, 1)[0]
    # when
    response = console_as(Role.EXECUTION).get(URL)
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert f"#{signup.pk}" in page and manual.title in page
    assert "138****0000" in page and "13800000000" not in page


def test_the_queue_filters_by_campaign(console_as, manual):
    other = CampaignFactory(status="published", review_mode="manual", title="另一个活动")
    mine, theirs = _pending(manual, 1)[0], _pending(other, 1, start=10)[0]
    page = console_as(Role.EXECUTION).get(URL, {"campaign": other.pk}).content.decode()
    assert f"#{theirs.pk}" in page and f"#{mine.pk}<" not in page


def test_one_approval_carries_the_reason_and_the_note(console_as, manual):
    # given
    signup = _pending(manual, 1)[0]
    # when
    response = console_as(Role.EXECUTION).post(
        URL, {"single": f"approve:{manual.pk}-{signup.pk}", "reason": "欢迎参加", "note": "老会员"}
    )
    # then
    assert response.status_code == 302
    signup.refresh_from_db()
    assert (signup.status, signup.status_reason, signup.status_note) == ("confirmed", "欢迎参加", "老会员")
    assert AuditEntry.objects.filter(action="signup.confirm", object_id=str(signup.pk)).count() == 1


def test_a_rejection_needs_a_reason_and_changes_nothing_without(console_as, manual):
    signup = _pending(manual, 1)[0]
    response = console_as(Role.EXECUTION).post(URL, {"single": f"reject:{manual.pk}-{signup.pk}"})
    assert response.status_code == 200
    assert "rejection needs a reason" in response.content.decode() or "拒绝" in response.content.decode()
    signup.refresh_from_db()
    assert signup.status == "pending_review"


def test_a_bulk_rejection_keeps_the_member_reason_apart_from_the_note(console_as, manual):
    # given
    signups = _pending(manual, 3)
    ids = [f"{manual.pk}-{s.pk}" for s in signups]
    # when
    client = console_as(Role.EXECUTION)
    response = client.post(URL, {"action": "reject", "ids": ids, "reason": "资料不全", "note": "疑似刷单"})
    # then
    assert response.status_code == 302
    rows = Signup.objects.filter(pk__in=[s.pk for s in signups])
    assert {(s.status, s.status_reason, s.status_note) for s in rows} == {
        ("rejected", "资料不全", "疑似刷单")
    }
    events = SignupEvent.objects.filter(to_status="rejected")
    assert events.count() == 3 and {e.note for e in events} == {"疑似刷单"}


def test_a_bulk_approval_reports_the_rows_that_failed(console_as, db):
    # given: two seats, three waiting, no waiting list
    campaign = CampaignFactory(status="published", review_mode="manual", capacity=2)
    signups = _pending(campaign, 3)
    ids = [f"{campaign.pk}-{s.pk}" for s in signups]
    # when
    client = console_as(Role.EXECUTION)
    response = client.post(URL, {"action": "approve", "ids": ids}, follow=True)
    # then
    page = response.content.decode()
    assert Signup.objects.filter(campaign=campaign, status="confirmed").count() == 2
    assert f"{signups[2].pk}" in page
    assert "已满" in page or "full" in page
    signups[2].refresh_from_db()
    assert signups[2].status == "pending_review"


@pytest.mark.parametrize(
    "data",
    [
        {"action": "approve"},
        {"action": "explode", "ids": ["1-1"]},
        {"action": "approve", "ids": ["1-99999999999999999999999"]},
        {"action": "approve", "ids": ["x-y"]},
        {"single": "approve:"},
        {"action": "reject", "ids": ["1-1"], "reason": "x" * 10_000},
        {"action": "approve", "ids": [f"1-{n}" for n in range(1, 300)]},
    ],
    ids=[
        "nothing-ticked",
        "unknown-action",
        "id-past-2^63",
        "not-ids",
        "blank-single",
        "huge-reason",
        "too-many",
    ],
)
def test_bad_input_is_a_clear_refusal_never_a_500(console_as, manual, data):
    response = console_as(Role.EXECUTION).post(URL, data)
    assert response.status_code == 200
    assert not Signup.objects.exclude(status="pending_review").exists()


def test_unknown_sign_ups_are_reported_not_a_500(console_as, manual):
    response = console_as(Role.EXECUTION).post(
        URL, {"action": "approve", "ids": [f"{manual.pk}-424242"]}, follow=True
    )
    assert response.status_code == 200
    assert "424242" in response.content.decode()


@pytest.mark.parametrize("page", ["10" + "0" * 18, "abc", "-1", "9" * 5000])
def test_any_page_number_renders(console_as, manual, page):
    _pending(manual, 1)
    assert (
        console_as(Role.EXECUTION).get(URL, {"page": page, "campaign": "99999999999999999999999"}).status_code
        == 200
    )


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.AUDITOR])
def test_roles_without_review_get_403_and_no_link(console_as, role, manual):
    client = console_as(role)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"action": "approve", "ids": ["1-1"]}).status_code == 403
    assert 'href="/console/review/"' not in client.get("/console/security/").content.decode()


def test_the_queue_reads_in_a_fixed_number_of_queries(console_as, manual, django_assert_num_queries):
    client = console_as(Role.EXECUTION)
    _pending(manual, 2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    _pending(manual, 4, start=10)
    with django_assert_num_queries(len(few)):
        client.get(URL)


def test_the_queue_reads_in_english_too(console_as, manual):
    client = console_as(Role.EXECUTION)
    _pending(manual, 1)
    assert "Review queue" in client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_queue_shows_questions_and_choices_by_their_labels(console_as, db):
    """Reviewers read what the member saw: question and option labels, not their keys."""
    form = [
        {"key": "session", "label": "场次", "type": "single_choice", "required": True,
         "options": [{"value": "am", "label": "上午场"}, {"value": "pm", "label": "下午场"}]},
    ]  # fmt: skip
    campaign = CampaignFactory(status="published", review_mode="manual", form=form)
    sign_up(campaign, mobile(1), answers={"session": "pm"})
    page = console_as(Role.EXECUTION).get(URL).content.decode()
    assert "场次" in page and "下午场" in page
    assert "session:" not in page and ">pm<" not in page
