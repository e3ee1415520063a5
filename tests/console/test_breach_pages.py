"""The 数据泄露应急 console section: strategy runs it; every other role gets 403 on every page and
action; the incident page renders the clock server-side and shows only masked samples; refusals come
back as messages, not 500s."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.members.factories import MemberFactory
from yunying.console.views import breach as views
from yunying.core.models import AuditEntry
from yunying.core.permissions import ROLE_PERMISSIONS, Actor, Role
from yunying.members.services import member_phone
from yunying.privacy import breach
from yunying.privacy.models import BreachIncident, StepKind

pytestmark = pytest.mark.django_db
OPERATOR_ROLES = [Role.STRATEGY, Role.EXECUTION, Role.SUPPORT, Role.AUDITOR]
LEAD = Actor(kind="user", id=None, label="lead", role=Role.STRATEGY)


def _url(pattern) -> str:
    return "/console/" + str(pattern.pattern).replace("<int:incident_id>", "1").replace("<int:step_id>", "1")


CASES = [
    pytest.param(pattern, role, id=f"{pattern.name}-{role}")
    for pattern in views.urlpatterns
    for role in OPERATOR_ROLES
    if pattern.callback.console_perm not in ROLE_PERMISSIONS[role]
]


def test_every_view_declares_its_permission_and_only_strategy_holds_them():
    assert all(pattern.callback.console_perm is not None for pattern in views.urlpatterns)
    assert {role for role in Role if "breach.manage" in ROLE_PERMISSIONS[role]} == {Role.STRATEGY}


@pytest.mark.parametrize(("pattern", "role"), CASES)
def test_a_role_without_the_permission_gets_403(console_as, pattern, role):
    client = console_as(role)
    assert client.get(_url(pattern)).status_code == 403
    assert client.post(_url(pattern), {"title": "x"}).status_code == 403
    assert not BreachIncident.objects.exists()


def _incident(**fields):
    values = {
        "title": "Leak",
        "discovered_at": timezone.now() - timedelta(minutes=5),
        "data_kinds": ["phone"],
        "is_drill": True,
        "actor": LEAD,
    }
    return breach.breach_open(**{**values, **fields})


def test_opening_from_the_list_starts_the_clock(console_as):
    client = console_as(Role.STRATEGY)
    when = timezone.localtime() - timedelta(minutes=10)
    response = client.post(
        "/console/breach/",
        {"title": "Export on a shared drive", "discovered_at": when.strftime("%Y-%m-%dT%H:%M"),
         "data_kinds": ["phone", "address"], "is_drill": "on", "contact": "400-1"},
    )  # fmt: skip
    incident = BreachIncident.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/breach/{incident.pk}/")
    page = client.get(response["Location"]).content.decode()
    # investigate: 1 h from the discovery 10 minutes ago, rendered server-side
    assert 'data-due="' in page and ("剩余 49 分钟" in page or "剩余 50 分钟" in page)
    assert 'id="runbook-basis"' in page and when.strftime("%Y-%m-%d %H:%M") in page
    assert AuditEntry.objects.filter(action="breach.open", actor_label=client.user.username).exists()


def test_opening_with_bad_input_says_why_with_422(console_as):
    client = console_as(Role.STRATEGY)
    response = client.post("/console/breach/", {"title": "", "discovered_at": "x"})
    assert response.status_code == 422
    assert not BreachIncident.objects.exists()


def test_the_incident_page_shows_masked_samples_and_never_a_phone(console_as):
    client = console_as(Role.STRATEGY)
    incident = _incident()
    member = MemberFactory()
    breach.breach_affected_add(incident_id=incident.pk, member_ids=[member.pk], actor=LEAD)
    page = client.get(f"/console/breach/{incident.pk}/").content.decode()
    phone = member_phone(member)
    assert phone[-8:] not in page and phone[-4:] in page


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        pytest.param("1800-01-01T00:00", "请输入 2000 至 2100 年之间的日期", id="1800"),
        pytest.param("2006-01-01T00:00", "发现时间早于一年前", id="2006-for-2026"),
        pytest.param("１８００-０１-０１T００:００", "请用半角数字 0-9 填写时间", id="full-width"),
        pytest.param(
            (timezone.localtime() - timedelta(minutes=5))
            .strftime("%Y-%m-%dT%H:%M")
            .translate(str.maketrans("0123456789", "０１２３４５６７８９")),
            "请用半角数字 0-9 填写时间",
            id="full-width-recent",
        ),
    ],
)
def test_an_implausible_discovery_time_is_refused_on_its_field(console_as, typed, said):
    client = console_as(Role.STRATEGY)
    response = client.post(
        "/console/breach/", {"title": "Leak", "discovered_at": typed, "data_kinds": ["phone"]}
    )
    assert response.status_code == 422 and said in response.content.decode()
    assert not BreachIncident.objects.exists()


def test_a_step_done_after_the_discovery_deadline_shows_late(console_as):
    # given: discovered two days ago, opened now
    client = console_as(Role.STRATEGY)
    incident = _incident(discovered_at=timezone.now() - timedelta(days=2))
    step = incident.steps.get(kind=StepKind.INVESTIGATE)
    assert "已超时 1 天 23 小时" in client.get(f"/console/breach/{incident.pk}/").content.decode()
    # when done now
    response = client.post(
        f"/console/breach/{incident.pk}/steps/{step.pk}/done/", {f"s{step.pk}-notes": "found"}, follow=True
    )
    # then it is late, not in time
    page = response.content.decode()
    assert "超时完成" in page and "按时完成" not in page


def test_the_close_button_says_what_is_missing_and_closing_is_refused(console_as):
    client = console_as(Role.STRATEGY)
    incident = _incident()
    page = client.get(f"/console/breach/{incident.pk}/").content.decode()
    assert 'id="close-blockers"' in page and "向监管部门报告" in page and "已采取的措施" in page
    response = client.post(f"/console/breach/{incident.pk}/close/", follow=True)
    assert "关闭前须完成全部步骤" in response.content.decode()
    assert BreachIncident.objects.get().status == "open"
    # once everything is done, the page shows no blocker and the incident closes
    breach.breach_update(incident_id=incident.pk, facts={"cause": "c", "measures": "m"}, actor=LEAD)
    for step in incident.steps.all():
        breach.breach_step_done(step_id=step.pk, notes="done", actor=LEAD)
    assert 'id="close-blockers"' not in client.get(f"/console/breach/{incident.pk}/").content.decode()
    client.post(f"/console/breach/{incident.pk}/close/")
    assert BreachIncident.objects.get().status == "closed"


def test_an_access_window_ending_before_it_starts_is_a_field_error(console_as):
    client = console_as(Role.STRATEGY)
    incident = _incident()
    member = MemberFactory()
    from yunying.core.audit import pii_access_record

    pii_access_record(actor=LEAD, member_ids=[member.pk], fields=["phone"], purpose="x")
    now = timezone.localtime()
    response = client.post(
        f"/console/breach/{incident.pk}/affected/",
        {"since": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
         "until": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )  # fmt: skip
    page = response.content.decode()
    assert "结束时间须晚于开始时间" in page and "已添加会员" not in page
    assert not incident.affected.exists()


def test_adding_an_erased_member_says_how_many_were_skipped_and_why(console_as):
    from yunying.members.personal_data import profile_erase

    client = console_as(Role.STRATEGY)
    incident = _incident()
    live, erased = MemberFactory(), MemberFactory()
    profile_erase(erased.pk)
    response = client.post(
        f"/console/breach/{incident.pk}/affected/", {"member_ids": f"{live.pk} {erased.pk}"}, follow=True
    )
    page = response.content.decode()
    assert "已跳过 1 人：其个人信息已应本人要求删除" in page
    assert list(incident.affected.values_list("member_id", flat=True)) == [live.pk]


def test_an_overdue_step_says_overdue(console_as):
    client = console_as(Role.STRATEGY)
    opened = timezone.now() - timedelta(hours=3)
    incident = _incident(now=opened, discovered_at=opened)
    page = client.get(f"/console/breach/{incident.pk}/").content.decode()
    assert "已超时 2 小时 00 分钟" in page


def test_a_refusal_comes_back_as_a_message(console_as):
    client = console_as(Role.STRATEGY)
    incident = _incident()
    response = client.post(f"/console/breach/{incident.pk}/notice/send/", follow=True)
    assert response.status_code == 200
    assert (
        "No affected members yet" in response.content.decode()
        or "尚无受影响会员" in response.content.decode()
    )


def test_a_step_is_assigned_and_done_through_the_page(console_as):
    client = console_as(Role.STRATEGY)
    incident = _incident()
    step = incident.steps.get(kind=StepKind.INVESTIGATE)
    client.post(f"/console/breach/{incident.pk}/steps/{step.pk}/assign/", {"assignee": client.user.pk})
    client.post(f"/console/breach/{incident.pk}/steps/{step.pk}/done/", {f"s{step.pk}-notes": "found it"})
    step.refresh_from_db()
    assert step.assignee_id == client.user.pk and step.notes == "found it" and step.done_at is not None


def test_the_report_downloads_as_text(console_as):
    client = console_as(Role.STRATEGY)
    incident = _incident(contact="400-800-1234")
    response = client.get(f"/console/breach/{incident.pk}/report/?format=text")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert "400-800-1234" in response.content.decode()
    client.post(f"/console/breach/{incident.pk}/report/", {"text": "Filed version"})
    assert BreachIncident.objects.get().report_text == "Filed version"
    assert (
        client.get(f"/console/breach/{incident.pk}/report/?format=text").content.decode() == "Filed version"
    )


def test_an_unknown_incident_is_404(console_as):
    client = console_as(Role.STRATEGY)
    assert client.get("/console/breach/999/").status_code == 404


def test_the_preview_shows_a_count_and_keeps_the_form(console_as):
    client = console_as(Role.STRATEGY)
    incident = _incident()
    member = MemberFactory()
    response = client.post(
        f"/console/breach/{incident.pk}/affected/", {"member_ids": str(member.pk), "preview": "1"}
    )
    page = response.content.decode()
    assert response.status_code == 200 and 'id="affected-preview"' in page
    assert "共找到 1 名会员，其中 1 名尚未添加" in page and f"{member.pk}</textarea>" in page
    assert not incident.affected.exists()


def test_the_list_costs_the_same_queries_for_one_incident_and_for_three(
    console_as, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = console_as(Role.STRATEGY)
    _incident()
    with CaptureQueriesContext(connection) as one:
        assert client.get("/console/breach/").status_code == 200
    _incident(), _incident()
    with CaptureQueriesContext(connection) as three:
        assert client.get("/console/breach/").status_code == 200
    assert len(three) == len(one)


@pytest.mark.parametrize("preview", [False, True], ids=["add", "preview"])
@pytest.mark.parametrize("end", ["since", "until"])
@pytest.mark.parametrize("typed", ["0001-01-01T00:00", "9999-12-31T23:59"], ids=["year-1", "year-9999"])
def test_an_access_window_at_the_edge_of_the_calendar_is_a_field_error_not_a_500(
    console_as, preview, end, typed
):
    """New-user review: year 1 in Beijing time is before year 1 in UTC: OverflowError in the query."""
    client = console_as(Role.STRATEGY)
    incident = _incident()
    data = {"access_actor": client.user.username, end: typed, **({"preview": "1"} if preview else {})}
    response = client.post(f"/console/breach/{incident.pk}/affected/", data)
    page = response.content.decode()
    assert response.status_code == 422 and "请输入 2000 至 2100 年之间的日期" in page
    assert f'id="id_{end}"' in page and "is-invalid" in page
    assert not incident.affected.exists()


def test_full_width_digits_are_refused_in_the_affected_form(console_as, open_campaign):
    """New-user review: campaign_id=１ added a campaign's 167 members (docs/breach.md: ASCII digits only)."""
    from tests.campaigns.helpers import sign_up

    client = console_as(Role.STRATEGY)
    incident = _incident()
    signup = sign_up(open_campaign, "13800138001")
    response = client.post(
        f"/console/breach/{incident.pk}/affected/", {"campaign_id": _full_width(open_campaign.pk)}
    )
    assert response.status_code == 422 and "请用半角数字" in response.content.decode()
    assert not incident.affected.exists()
    # the same id in ASCII digits adds the member
    client.post(f"/console/breach/{incident.pk}/affected/", {"campaign_id": str(open_campaign.pk)})
    assert list(incident.affected.values_list("member_id", flat=True)) == [signup.member_id]


def _full_width(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def test_full_width_digits_are_refused_in_the_compensation_plan(console_as):
    client = console_as(Role.STRATEGY)
    incident = _incident()
    response = client.post(
        f"/console/breach/{incident.pk}/compensation/", {"kind": "extension", "days": "３０"}, follow=True
    )
    assert "请用半角数字" in response.content.decode()
    assert BreachIncident.objects.get().compensation_days is None


@pytest.mark.parametrize(
    ("data", "said"),
    [
        pytest.param({"campaign_id": "999999"}, "没有这个编号的活动", id="unknown-campaign"),
        pytest.param({"access_actor": "nobody"}, "没有这个名称的操作员", id="unknown-actor"),
        pytest.param({"access_actor": "user:999999"}, "没有这个名称的操作员", id="unknown-user-id"),
    ],
)
@pytest.mark.parametrize("preview", [False, True], ids=["add", "preview"])
def test_a_criterion_that_names_nobody_is_refused_on_its_field(console_as, data, said, preview):
    """New-user review: a typo said "已添加会员：0 人", as if nobody had been affected."""
    client = console_as(Role.STRATEGY)
    incident = _incident()
    response = client.post(
        f"/console/breach/{incident.pk}/affected/", {**data, **({"preview": "1"} if preview else {})}
    )
    page = response.content.decode()
    assert response.status_code == 422 and said in page and "已添加会员" not in page
    assert 'id="affected-preview"' not in page
    assert not incident.affected.exists()


def test_an_operator_who_read_nothing_is_known_and_adds_nobody(console_as):
    client = console_as(Role.STRATEGY)
    incident = _incident()
    response = client.post(
        f"/console/breach/{incident.pk}/affected/", {"access_actor": client.user.username}, follow=True
    )
    assert "已添加会员：0 人" in response.content.decode()


def test_a_drills_report_says_its_notices_were_only_generated_and_nothing_was_issued(console_as):
    """New-user review: a drill's report said "已通知会员：289 人", "会员通知已发出" and "已发放 289 人"."""
    from yunying.privacy import breach_compensation as compensation

    # given: a drill run to the end
    client = console_as(Role.STRATEGY)
    incident = _incident()
    members = [MemberFactory(), MemberFactory()]
    breach.breach_affected_add(incident_id=incident.pk, member_ids=[m.pk for m in members], actor=LEAD)
    breach.breach_notice_send(incident_id=incident.pk, actor=LEAD)
    compensation.breach_compensation_plan(incident_id=incident.pk, kind="extension", days=30, actor=LEAD)
    compensation.breach_compensate(incident_id=incident.pk, actor=LEAD)
    # when
    page = client.get(f"/console/breach/{incident.pk}/report/").content.decode()
    text = client.get(f"/console/breach/{incident.pk}/report/?format=text").content.decode()
    # then
    for said in (page, text):
        assert "演练：已生成 2 条通知，未实际发送" in said and "演练：2 人，未实际发放" in said
        assert "演练通知已生成（未实际发送）" in said
        assert "会员通知已发出" not in said and "已发放" not in said and "已通知会员" not in said
    # and the incident's own page counts the same way
    detail = client.get(f"/console/breach/{incident.pk}/").content.decode()
    assert "演练：已生成 2 条通知，未实际发送" in detail and "演练：2 人，未实际发放" in detail
    assert "人已通知" not in detail and "人已补偿" not in detail


def test_a_real_incidents_report_says_who_was_notified_and_given(console_as):
    client = console_as(Role.STRATEGY)
    incident = _incident(is_drill=False)
    breach.breach_affected_add(incident_id=incident.pk, member_ids=[MemberFactory().pk], actor=LEAD)
    breach.breach_notice_send(incident_id=incident.pk, actor=LEAD)
    text = client.get(f"/console/breach/{incident.pk}/report/?format=text").content.decode()
    assert "已通知会员：1 人" in text and "会员通知已发出" in text and "已发放 0 人" in text


def test_the_drafted_notice_names_each_part_once(console_as):
    """New-user review: "涉及哪些数据：涉及的数据：手机号" — the draft repeated the part's label."""
    client = console_as(Role.STRATEGY)
    incident = _incident(data_kinds=["phone", "name"])
    page = client.get(f"/console/breach/{incident.pk}/").content.decode()
    _subject, body = breach.breach_notice_text(BreachIncident.objects.get())
    assert "涉及哪些数据：相关会员的手机号、姓名。" in body and "涉及的数据" not in body
    assert "涉及的数据" not in page
