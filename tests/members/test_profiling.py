"""Progressive profiling (M2) as rule tables: a question without a purpose is refused; nothing is
asked twice (answered, declined, already known, known through another question); a question is asked
only of members who granted its purpose; answers land in the profile (Member fields filled, attributes
encrypted)."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.members.factories import mobile
from yunying.core.audit import AuditEntry
from yunying.core.errors import DomainError, ValidationFailed
from yunying.core.permissions import Actor, Role
from yunying.members.consent import consent_change, consent_record
from yunying.members.models import Gender, Member, ProfileAnswer, Questionnaire
from yunying.members.profiling import (
    QuestionSpec,
    answers_submit,
    profile_attributes,
    questionnaire_save,
    questions_pending,
)
from yunying.members.services import member_resolve

pytestmark = pytest.mark.django_db

OPERATOR = Actor(kind="user", id=7, label="运营", role=Role.EXECUTION)
AFTER_SIGNUP = "after_signup"


@pytest.fixture(autouse=True)
def notice(settings):
    settings.PRIVACY_POLICY_VERSION = "v1"


def spec(**overrides) -> QuestionSpec:
    values = {"kind": "text", "prompt": "您喜欢什么咖啡？", "target": "attr:coffee", "purpose": "marketing",
              "why": "为您推荐口味", "choices": []}  # fmt: skip
    return QuestionSpec(**{**values, **overrides})


def blank_member(n: int = 1, *, marketing: bool = True) -> Member:
    """A member who registered with a phone only (M1): no profile facts yet."""
    member = member_resolve(phone=mobile(n), external_id=None, channel="h5")
    consent_record(member=member, version="v1", marketing=marketing, sensitive=False, client_ip=None)
    return member


def save(*questions: QuestionSpec, moment: str = AFTER_SIGNUP, active: bool = True):
    return questionnaire_save(
        actor=OPERATOR, name="新会员", moment=moment, active=active, questions=list(questions)
    )


# --- defining a questionnaire ---


@pytest.mark.parametrize(
    ("question", "field"),
    [
        (spec(purpose=""), "questions.0.purpose"),
        (spec(purpose="resale"), "questions.0.purpose"),
        (spec(why="  "), "questions.0.why"),
        (spec(prompt=""), "questions.0.prompt"),
        (spec(kind="essay"), "questions.0.kind"),
        (spec(target="phone"), "questions.0.target"),
        (spec(target="attr:Bad Key"), "questions.0.target"),
        (spec(target="birth_date", kind="text"), "questions.0.target"),
        (spec(kind="choice", choices=["only one"]), "questions.0.choices"),
    ],
    ids=[
        "no-purpose",
        "unknown-purpose",
        "no-why",
        "no-prompt",
        "unknown-kind",
        "not-a-profile-field",
        "bad-attribute-key",
        "field-with-wrong-kind",
        "choice-with-one-option",
    ],
)
def test_a_question_that_breaks_a_rule_is_refused_naming_its_field(question, field):
    with pytest.raises(ValidationFailed) as refused:
        save(question)
    assert field in {e["field"] for e in refused.value.errors}
    assert not AuditEntry.objects.filter(action__startswith="questionnaire.").exists()


@pytest.mark.parametrize(
    "questions",
    [[], [spec(target=f"attr:k{i}") for i in range(11)], [spec(), spec()]],
    ids=["none", "more-than-ten", "same-target-twice"],
)
def test_a_questionnaire_must_be_short_and_fill_each_field_once(questions):
    with pytest.raises(ValidationFailed):
        save(*questions)


def test_only_operators_allowed_to_edit_profiling_define_questionnaires():
    support = Actor(kind="user", id=8, label="客服", role=Role.SUPPORT)
    with pytest.raises(DomainError) as refused:
        questionnaire_save(actor=support, name="x", moment=AFTER_SIGNUP, active=True, questions=[spec()])
    assert refused.value.code == "core.permission_denied"


def test_saving_is_audited_and_an_edit_keeps_answered_questions_answered():
    questionnaire = save(spec(), spec(kind="choice", target="gender", purpose="service", choices=[]))
    member = blank_member()
    coffee = questionnaire.questions.get(target="attr:coffee")
    answers_submit(member=member, moment=AFTER_SIGNUP, answers={coffee.pk: "拿铁"})
    # when: the operator rewords the question and keeps it (by id)
    questionnaire_save(
        actor=OPERATOR, questionnaire_id=questionnaire.pk, name="新会员（二）", moment=AFTER_SIGNUP, active=True,
        questions=[spec(id=coffee.pk, prompt="最爱的咖啡？")],
    )  # fmt: skip
    # then
    assert questions_pending(member, AFTER_SIGNUP) == []
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["questionnaire.create", "questionnaire.update"]


# --- asking: never twice, never without its purpose ---


def _pending_targets(member: Member, moment: str = AFTER_SIGNUP) -> list[str]:
    return [q.target for q in questions_pending(member, moment)]


@pytest.mark.parametrize(
    ("setup", "asked"),
    [
        ("nothing", ["attr:coffee", "gender", "birth_date", "region_code"]),
        ("answered_coffee", ["gender", "birth_date", "region_code"]),
        ("declined_all", []),
        ("gender_known", ["attr:coffee", "birth_date", "region_code"]),
        ("no_marketing_consent", ["gender", "birth_date", "region_code"]),
        ("marketing_withdrawn", ["gender", "birth_date", "region_code"]),
        ("coffee_known_from_another_questionnaire", ["gender", "birth_date", "region_code"]),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_what_is_asked(setup, asked):
    # given
    questionnaire = save(
        spec(),
        spec(kind="choice", target="gender", purpose="service", prompt="性别"),
        spec(kind="date", target="birth_date", purpose="service", prompt="生日"),
        spec(kind="region", target="region_code", purpose="service", prompt="地区"),
    )
    member = blank_member(marketing=setup != "no_marketing_consent")
    questions = {q.target: q for q in questionnaire.questions.all()}
    # when
    if setup == "answered_coffee":
        answers_submit(member=member, moment=AFTER_SIGNUP, answers={questions["attr:coffee"].pk: "美式"})
    elif setup == "declined_all":
        answers_submit(
            member=member, moment=AFTER_SIGNUP, answers={}, declined={q.pk for q in questions.values()}
        )
    elif setup == "gender_known":
        Member.objects.filter(pk=member.pk).update(gender=Gender.FEMALE)
        member.refresh_from_db()
    elif setup == "marketing_withdrawn":
        consent_change(member=member, purpose="marketing", granted=False, channel="h5", client_ip=None)
    elif setup == "coffee_known_from_another_questionnaire":
        other = save(spec(prompt="咖啡口味？"), moment="member_centre")
        answers_submit(member=member, moment="member_centre", answers={other.questions.get().pk: "摩卡"})
    # then
    assert _pending_targets(member) == asked


def test_inactive_questionnaires_and_other_moments_ask_nothing():
    save(spec(), active=False)
    save(spec(target="attr:tea"), moment="after_first_order")
    member = blank_member()
    assert _pending_targets(member) == []
    assert _pending_targets(member, "after_first_order") == ["attr:tea"]


# --- answers land in the profile ---


def test_answers_fill_member_fields_and_encrypted_attributes():
    questionnaire = save(
        spec(),
        spec(kind="choice", target="gender", purpose="service", prompt="性别"),
        spec(kind="date", target="birth_date", purpose="service", prompt="生日"),
        spec(kind="region", target="region_code", purpose="service", prompt="地区"),
        spec(kind="choice", target="attr:size", prompt="尺码", choices=["S", "M", "L"]),
    )
    member = blank_member()
    q = {q.target: q.pk for q in questionnaire.questions.all()}
    recorded = answers_submit(
        member=member, moment=AFTER_SIGNUP,
        answers={q["attr:coffee"]: "拿铁", q["gender"]: "female", q["birth_date"]: "1990-05-20",
                 q["region_code"]: "330100", q["attr:size"]: "M"},
    )  # fmt: skip
    assert recorded == 5
    member.refresh_from_db()
    assert (member.gender, member.birth_date, member.region_code) == ("female", date(1990, 5, 20), "330100")
    assert profile_attributes(member) == {"coffee": "拿铁", "size": "M"}
    stored = ProfileAnswer.objects.get(member=member, target="attr:coffee").value_encrypted
    assert stored and "拿铁" not in stored
    assert questions_pending(member, AFTER_SIGNUP) == []


def test_a_known_field_is_never_overwritten_by_a_late_answer():
    questionnaire = save(spec(kind="date", target="birth_date", purpose="service", prompt="生日"))
    member = blank_member()
    question = questionnaire.questions.get()
    Member.objects.filter(pk=member.pk).update(birth_date=date(1985, 1, 1))  # known meanwhile (another tab)
    assert answers_submit(member=member, moment=AFTER_SIGNUP, answers={question.pk: "1990-05-20"}) == 0
    member.refresh_from_db()
    assert member.birth_date == date(1985, 1, 1)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        (spec(kind="choice", target="attr:size", choices=["S", "M"]), "XL"),
        (spec(kind="choice", target="gender", purpose="service"), "unknown"),
        (spec(kind="date", target="birth_date", purpose="service"), "2999-01-01"),
        (spec(kind="date", target="attr:anniversary"), "not a date"),
        (spec(kind="region", target="region_code", purpose="service"), "999999"),
        (spec(), "x" * 201),
        (spec(), "   "),
    ],
    ids=[
        "choice-not-offered",
        "gender-unknown",
        "birth-date-in-future",
        "not-a-date",
        "unknown-region",
        "text-too-long",
        "blank",
    ],
)
def test_invalid_answers_are_refused_and_nothing_is_stored(question, answer):
    questionnaire = save(question)
    member = blank_member()
    with pytest.raises(ValidationFailed) as refused:
        answers_submit(member=member, moment=AFTER_SIGNUP, answers={questionnaire.questions.get().pk: answer})
    assert refused.value.errors[0]["field"] == f"q{questionnaire.questions.get().pk}"
    assert not ProfileAnswer.objects.exists()


TARGETS = ["attr:a", "attr:b", "attr:c", "gender", "region_code"]
ANSWER = {"gender": "male", "region_code": "440300"}
_examples = iter(range(100, 10_000))


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rounds=st.lists(st.lists(st.sampled_from(TARGETS), unique=True), min_size=1, max_size=4))
def test_property_whatever_is_answered_in_whatever_order_is_never_asked_again(rounds):
    # given: one questionnaire over every target (made by the first example; the database persists
    # across examples) and a new member per example
    if not Questionnaire.objects.exists():
        kinds = {"gender": "choice", "region_code": "region"}
        save(*[spec(target=t, kind=kinds.get(t, "text"), purpose="service", prompt=t) for t in TARGETS])
    member = blank_member(next(_examples))
    answered: set[str] = set()
    for chosen in rounds:
        # when: the member answers some of what is pending
        pending = {q.target: q.pk for q in questions_pending(member, AFTER_SIGNUP, limit=10)}
        answers = {pending[t]: ANSWER.get(t, "答") for t in chosen if t in pending}
        answers_submit(member=member, moment=AFTER_SIGNUP, answers=answers)
        answered |= set(chosen)
        # then: exactly the rest is still asked
        member.refresh_from_db()
        still = {q.target for q in questions_pending(member, AFTER_SIGNUP, limit=10)}
        assert still == set(TARGETS) - answered


@pytest.mark.parametrize(
    ("target", "answer", "message"),
    [
        ("attr:anniversary", "1800-01-01", "Give a date between 1900-01-01 and 2100-12-31."),
        ("birth_date", "1800-01-01", "Give a date between 1900-01-01 and 2100-12-31."),
        ("birth_date", "2999-01-01", "A birth date cannot be in the future."),
        ("attr:anniversary", "1990/05/20", "Give a date like 1990-05-20."),
    ],
)
def test_a_refused_date_says_what_was_wrong_with_it(target, answer, message):
    """A well-formed date out of range was told to use "a date like 1990-05-20" (new-user review)."""
    questionnaire = save(spec(kind="date", target=target, purpose="service"))
    with translation.override("en"), pytest.raises(ValidationFailed) as refused:
        answers_submit(
            member=blank_member(), moment=AFTER_SIGNUP, answers={questionnaire.questions.get().pk: answer}
        )
    assert refused.value.errors[0]["message"] == message
