"""Console questionnaires (M2): list, create, edit; a question without a purpose refused on its row;
audited as the operator; only roles that may edit profiling reach the pages."""

from __future__ import annotations

import pytest

from yunying.core.audit import AuditEntry
from yunying.core.permissions import Role
from yunying.members.models import Question, Questionnaire

pytestmark = pytest.mark.django_db


def _post(rows: list[dict], **head) -> dict:
    data = {"name": "新会员问卷", "moment": "after_signup", "active": "on", **head,
            "q-TOTAL_FORMS": str(len(rows)), "q-INITIAL_FORMS": "0"}  # fmt: skip
    for i, row in enumerate(rows):
        values = {"kind": "text", "target": "attr", "prompt": "", "attribute": "", "purpose": "", "why": "",
                  "choices": "", **row}  # fmt: skip
        data.update({f"q-{i}-{k}": v for k, v in values.items()})
    return data


COFFEE = {"prompt": "喜欢的咖啡？", "attribute": "coffee", "purpose": "marketing", "why": "为您推荐口味"}
GENDER = {"prompt": "性别", "kind": "choice", "target": "gender", "purpose": "service", "why": "称呼您"}


def test_an_operator_creates_a_questionnaire_and_sees_it_listed(console_as):
    client = console_as(Role.EXECUTION)
    assert client.get("/console/questionnaires/new/").status_code == 200
    response = client.post("/console/questionnaires/new/", _post([COFFEE, GENDER, {}]))
    assert response.status_code == 302
    questionnaire = Questionnaire.objects.get()
    assert [(q.target, q.purpose) for q in questionnaire.questions.all()] == [
        ("attr:coffee", "marketing"), ("gender", "service"),
    ]  # fmt: skip
    entry = AuditEntry.objects.get(action="questionnaire.create")
    assert entry.actor_label == client.user.username
    page = client.get("/console/questionnaires/").content.decode()
    assert "新会员问卷" in page


def test_a_question_without_a_purpose_is_refused_on_its_row(console_as):
    client = console_as(Role.EXECUTION)
    response = client.post("/console/questionnaires/new/", _post([COFFEE, {**GENDER, "purpose": ""}]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_q-1-purpose"' in page and "is-invalid" in page
    assert not Questionnaire.objects.exists()


def test_an_edit_keeps_questions_by_id_and_removes_the_ones_marked(console_as):
    client = console_as(Role.EXECUTION)
    client.post("/console/questionnaires/new/", _post([COFFEE, GENDER]))
    questionnaire = Questionnaire.objects.get()
    coffee, gender = questionnaire.questions.all()
    page = client.get(f"/console/questionnaires/{questionnaire.pk}/").content.decode()
    assert "喜欢的咖啡？" in page
    data = _post(
        [
            {**COFFEE, "id": str(coffee.pk), "prompt": "最爱的咖啡？"},
            {**GENDER, "id": str(gender.pk), "DELETE": "on"},
        ],
        active="",
    )
    assert client.post(f"/console/questionnaires/{questionnaire.pk}/", data).status_code == 302
    assert list(Question.objects.values_list("pk", "prompt")) == [(coffee.pk, "最爱的咖啡？")]
    questionnaire.refresh_from_db()
    assert questionnaire.active is False
    assert AuditEntry.objects.filter(action="questionnaire.update").count() == 1


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.AUDITOR], ids=["support", "auditor"])
def test_roles_without_profiling_edit_are_refused(console_as, role):
    client = console_as(role)
    assert client.get("/console/questionnaires/").status_code == 403
    assert client.post("/console/questionnaires/new/", _post([COFFEE])).status_code == 403
    assert not Questionnaire.objects.exists()


def test_an_unknown_questionnaire_goes_back_to_the_list(console_as):
    client = console_as(Role.STRATEGY)
    assert client.get("/console/questionnaires/999999/").status_code == 302
    assert client.get(f"/console/questionnaires/{2**70}/").status_code in (302, 404)


def test_the_member_look_up_shows_where_the_member_came_from(console_as):
    from tests.members.factories import MemberFactory, mobile
    from yunying.members.services import Acquisition, member_resolve

    inviter = MemberFactory(phone=mobile(1))
    member_resolve(
        phone=mobile(2), external_id=None, channel="h5",
        acquisition=Acquisition(utm_source="wechat", utm_campaign="spring", invite_code=inviter.invite_code),
    )  # fmt: skip
    client = console_as(Role.SUPPORT)
    page = client.post("/console/members/", {"phone": mobile(2)}).content.decode()
    assert "data-acquisition" in page and "wechat" in page and "spring" in page
    assert f"Member {inviter.pk}" in page or f"会员 {inviter.pk}" in page
