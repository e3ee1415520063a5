"""Sign-up forms (C2): question definitions, answer validation per type, cleaned values."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yunying.campaigns.errors import FormError
from yunying.campaigns.questions import answers_validate, form_parse
from yunying.core.errors import DomainError, ValidationFailed

MISSING = object()  # the question is not answered at all


def question(key="q", type="text", **extra) -> dict:
    return {"key": key, "label": f"问题 {key}", "type": type, **extra}


def options(*values) -> list[dict]:
    return [{"value": v, "label": f"选项 {v}"} for v in values]


TEXT = question(max_length=10)
SINGLE = question(type="single_choice", options=options("S", "M", "L"))
MULTI = question(type="multi_choice", options=options("a", "b", "c", "d"), max_choices=2)
MULTI_MIN_2 = question(type="multi_choice", options=options("a", "b", "c"), min_choices=2)
PHONE = question(type="phone")
ADDRESS = question(type="address")
DATE = question(type="date", min_date="2024-07-01", max_date="2024-07-31")
CONSENT = question(type="consent", required=True)


def validate(definition: dict, answer) -> dict:
    answers = {} if answer is MISSING else {"q": answer}
    return answers_validate(form_parse([definition]), answers)


@pytest.mark.parametrize(
    ("definition", "answer", "cleaned"),
    [
        pytest.param(TEXT, "  张三  ", "张三", id="text-stripped"),
        pytest.param(TEXT, "一二三四五六七八九十", "一二三四五六七八九十", id="text-at-max-length"),
        pytest.param(TEXT, "  一二三四五六七八九十  ", "一二三四五六七八九十", id="text-length-after-strip"),
        pytest.param(SINGLE, "M", "M", id="single-choice"),
        pytest.param(MULTI, ["a"], ["a"], id="multi-one"),
        pytest.param(MULTI, ["b", "a"], ["b", "a"], id="multi-keeps-order"),
        pytest.param(MULTI, ["a", "b", "a", "b"], ["a", "b"], id="multi-deduplicated"),
        pytest.param(MULTI_MIN_2, ["a", "c"], ["a", "c"], id="multi-at-min"),
        pytest.param(PHONE, "138 0013 8000", "+8613800138000", id="phone-spaces"),
        pytest.param(PHONE, "+86-138-0013-8000", "+8613800138000", id="phone-plus86-dashes"),
        pytest.param(PHONE, "0086 13800138000", "+8613800138000", id="phone-0086"),
        pytest.param(PHONE, "+8613800138000", "+8613800138000", id="phone-e164"),
        pytest.param(
            ADDRESS,
            {"region_code": "440305", "detail": "  科技园南区 1 栋  "},
            {"region_code": "440305", "detail": "科技园南区 1 栋"},
            id="address-detail-stripped",
        ),
        pytest.param(
            ADDRESS,
            {"region_code": "110000"},
            {"region_code": "110000", "detail": ""},
            id="address-no-detail",
        ),
        pytest.param(
            ADDRESS,
            {"region_code": "440305", "detail": "路" * 200},
            {"region_code": "440305", "detail": "路" * 200},
            id="address-detail-at-max",
        ),
        pytest.param(DATE, "2024-07-01", "2024-07-01", id="date-at-min"),
        pytest.param(DATE, "2024-07-31", "2024-07-31", id="date-at-max"),
        pytest.param(question(type="date"), "2000-02-29", "2000-02-29", id="date-leap-day-unbounded"),
        pytest.param(CONSENT, True, True, id="consent-given"),
        pytest.param(question(type="consent"), True, True, id="optional-consent-given"),
    ],
)
def test_valid_answers_are_cleaned(definition, answer, cleaned):
    # when
    result = validate(definition, answer)
    # then
    assert result == {"q": cleaned}


@pytest.mark.parametrize(
    ("definition", "answer", "code"),
    [
        # text
        pytest.param(TEXT, "一二三四五六七八九十一", FormError.TOO_LONG, id="text-too-long"),
        pytest.param(TEXT, 123, FormError.INVALID_TYPE, id="text-number"),
        pytest.param(TEXT, ["张三"], FormError.INVALID_TYPE, id="text-list"),
        pytest.param(question(required=True), MISSING, FormError.REQUIRED, id="text-required-missing"),
        pytest.param(question(required=True), "", FormError.REQUIRED, id="text-required-empty"),
        pytest.param(question(required=True), "   ", FormError.REQUIRED, id="text-required-whitespace"),
        pytest.param(question(required=True), None, FormError.REQUIRED, id="text-required-null"),
        # single choice
        pytest.param(SINGLE, "XL", FormError.INVALID_CHOICE, id="single-not-an-option"),
        pytest.param(SINGLE, "m", FormError.INVALID_CHOICE, id="single-wrong-case"),
        pytest.param(SINGLE, ["M"], FormError.INVALID_TYPE, id="single-list"),
        pytest.param({**SINGLE, "required": True}, MISSING, FormError.REQUIRED, id="single-required-missing"),
        # multi choice
        pytest.param(MULTI, ["a", "z"], FormError.INVALID_CHOICE, id="multi-not-an-option"),
        pytest.param(MULTI, "a", FormError.INVALID_TYPE, id="multi-string"),
        pytest.param(MULTI, ["a", 1], FormError.INVALID_TYPE, id="multi-number-inside"),
        pytest.param(MULTI, ["a", "b", "c"], FormError.TOO_MANY_CHOICES, id="multi-too-many"),
        pytest.param(MULTI_MIN_2, ["a"], FormError.TOO_FEW_CHOICES, id="multi-too-few"),
        pytest.param(MULTI_MIN_2, ["a", "a"], FormError.TOO_FEW_CHOICES, id="multi-duplicates-count-once"),
        pytest.param({**MULTI, "required": True}, [], FormError.REQUIRED, id="multi-required-empty"),
        # phone
        pytest.param(PHONE, "12345", FormError.INVALID_PHONE, id="phone-short"),
        pytest.param(PHONE, "1380013800", FormError.INVALID_PHONE, id="phone-ten-digits"),
        pytest.param(PHONE, "手机号", FormError.INVALID_PHONE, id="phone-not-digits"),
        pytest.param(PHONE, 13800138000, FormError.INVALID_TYPE, id="phone-number-type"),
        pytest.param({**PHONE, "required": True}, "  ", FormError.REQUIRED, id="phone-required-blank"),
        # address
        pytest.param(ADDRESS, {"region_code": "990000"}, FormError.INVALID_REGION, id="address-bad-province"),
        pytest.param(ADDRESS, {"region_code": "44030"}, FormError.INVALID_REGION, id="address-five-digits"),
        pytest.param(
            ADDRESS, {"region_code": "44０３００"}, FormError.INVALID_REGION, id="address-full-width-digits"
        ),
        pytest.param(ADDRESS, {"region_code": 440305}, FormError.INVALID_TYPE, id="address-code-number"),
        pytest.param(ADDRESS, {"detail": "科技园"}, FormError.INVALID_TYPE, id="address-no-code"),
        pytest.param(ADDRESS, "440305", FormError.INVALID_TYPE, id="address-string"),
        pytest.param(
            ADDRESS,
            {"region_code": "440305", "detail": 12},
            FormError.INVALID_TYPE,
            id="address-detail-number",
        ),
        pytest.param(
            ADDRESS,
            {"region_code": "440305", "detail": "路" * 201},
            FormError.TOO_LONG,
            id="address-detail-too-long",
        ),
        # date
        pytest.param(DATE, "2024/07/01", FormError.INVALID_DATE, id="date-slashes"),
        pytest.param(DATE, "2024-7-1", FormError.INVALID_DATE, id="date-no-padding"),
        pytest.param(DATE, "2024-02-30", FormError.INVALID_DATE, id="date-impossible"),
        pytest.param(DATE, "２０２４-０７-０１", FormError.INVALID_DATE, id="date-full-width"),
        pytest.param(DATE, "2024-07-01T10:00", FormError.INVALID_DATE, id="date-with-time"),
        pytest.param(DATE, 20240701, FormError.INVALID_DATE, id="date-number"),
        pytest.param(DATE, "2024-06-30", FormError.DATE_OUT_OF_RANGE, id="date-before-min"),
        pytest.param(DATE, "2024-08-01", FormError.DATE_OUT_OF_RANGE, id="date-after-max"),
        # consent
        pytest.param(CONSENT, False, FormError.CONSENT_REQUIRED, id="consent-refused"),
        pytest.param(CONSENT, MISSING, FormError.CONSENT_REQUIRED, id="consent-missing"),
        pytest.param(CONSENT, None, FormError.CONSENT_REQUIRED, id="consent-null"),
        pytest.param(CONSENT, "true", FormError.INVALID_TYPE, id="consent-string"),
        pytest.param(CONSENT, 1, FormError.INVALID_TYPE, id="consent-number"),
    ],
)
def test_invalid_answers_name_the_question_and_the_code(definition, answer, code):
    # when
    with pytest.raises(ValidationFailed) as failed:
        validate(definition, answer)
    # then
    assert failed.value.code == "core.invalid"
    assert [(e["field"], e["code"]) for e in failed.value.errors] == [("answers.q", code)]
    assert failed.value.errors[0]["message"] != code
    assert failed.value.data["errors"] == failed.value.errors


@pytest.mark.parametrize(
    "blank",
    [
        pytest.param(MISSING, id="missing"),
        pytest.param(None, id="null"),
        pytest.param("", id="empty-string"),
        pytest.param("  ", id="whitespace"),
        pytest.param([], id="empty-list"),
        pytest.param({}, id="empty-dict"),
        pytest.param(False, id="false"),
    ],
)
@pytest.mark.parametrize(
    "definition",
    [
        pytest.param(TEXT, id="text"),
        pytest.param(MULTI_MIN_2, id="multi"),
        pytest.param(PHONE, id="phone"),
        pytest.param(ADDRESS, id="address"),
        pytest.param(DATE, id="date"),
        pytest.param(question(type="consent"), id="consent"),
    ],
)
def test_optional_questions_left_blank_are_left_out(definition, blank):
    # when
    result = validate(definition, blank)
    # then
    assert result == {}


def test_unknown_answers_are_refused():
    # given
    form = form_parse([question(key="name")])
    # when
    with pytest.raises(ValidationFailed) as failed:
        answers_validate(form, {"name": "张三", "nickname": "小张"})
    # then
    assert [(e["field"], e["code"]) for e in failed.value.errors] == [
        ("answers.nickname", FormError.UNKNOWN_QUESTION)
    ]


def test_every_failing_question_is_reported_at_once():
    # given
    form = form_parse(
        [
            question(key="name", required=True),
            question(key="size", type="single_choice", options=options("S", "M")),
            question(key="mobile", type="phone"),
            question(key="city", type="address"),
            question(key="day", type="date", max_date="2024-12-31"),
            question(key="ok_text", max_length=20),
            question(key="agree", type="consent", required=True),
        ]
    )
    answers = {
        "zzz": 1,
        "size": "XL",
        "mobile": "12345",
        "city": {"region_code": "000000"},
        "day": "2025-01-01",
        "ok_text": "没问题",
        "agree": False,
    }
    # when
    with pytest.raises(ValidationFailed) as failed:
        answers_validate(form, answers)
    # then: unknown keys first, then the form's own order; the valid answer is not reported
    assert [(e["field"], e["code"]) for e in failed.value.errors] == [
        ("answers.zzz", FormError.UNKNOWN_QUESTION),
        ("answers.name", FormError.REQUIRED),
        ("answers.size", FormError.INVALID_CHOICE),
        ("answers.mobile", FormError.INVALID_PHONE),
        ("answers.city", FormError.INVALID_REGION),
        ("answers.day", FormError.DATE_OUT_OF_RANGE),
        ("answers.agree", FormError.CONSENT_REQUIRED),
    ]


def test_a_whole_form_is_cleaned():
    # given
    form = form_parse(
        [
            question(key="name", required=True),
            question(key="sizes", type="multi_choice", options=options("S", "M", "L")),
            question(key="mobile", type="phone", required=True),
            question(key="visit", type="date"),
            question(key="remark"),
            question(key="agree", type="consent", required=True),
        ]
    )
    answers = {"name": " 李雷 ", "sizes": ["M", "M", "S"], "mobile": "138-0013-8000", "visit": "2024-07-05"}
    # when
    cleaned = answers_validate(form, {**answers, "agree": True})
    # then
    assert cleaned == {
        "name": "李雷",
        "sizes": ["M", "S"],
        "mobile": "+8613800138000",
        "visit": "2024-07-05",
        "agree": True,
    }


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param([question(type="single_choice")], id="choice-without-options"),
        pytest.param([question(type="multi_choice", options=[])], id="multi-empty-options"),
        pytest.param([question(options=options("a"))], id="text-with-options"),
        pytest.param([question(type="single_choice", options=options("a", "a"))], id="duplicate-option"),
        pytest.param(
            [question(type="multi_choice", options=options("a", "b"), min_choices=2, max_choices=1)],
            id="max-choices-below-min",
        ),
        pytest.param(
            [question(type="date", min_date="2024-07-02", max_date="2024-07-01")], id="dates-reversed"
        ),
        pytest.param([question(type="date", min_date="2024-02-30")], id="impossible-min-date"),
        pytest.param([question(key="Name")], id="key-uppercase"),
        pytest.param([question(key="1st")], id="key-starts-with-digit"),
        pytest.param([question(key="")], id="key-empty"),
        pytest.param([question(key="a" * 41)], id="key-too-long"),
        pytest.param([question(key="姓名")], id="key-not-ascii"),
        pytest.param([question(type="number")], id="unknown-type"),
        pytest.param([question(placeholder="…")], id="unknown-field"),
        pytest.param([{"key": "q", "type": "text"}], id="no-label"),
        pytest.param([question(label="")], id="empty-label"),
        pytest.param([question(max_length=0)], id="max-length-zero"),
        pytest.param(
            [question(type="single_choice", options=[{"value": "", "label": "空"}])], id="empty-option"
        ),
        pytest.param([question(key="q"), question(key="q", type="phone")], id="duplicate-key"),
        pytest.param(["q"], id="not-an-object"),
    ],
)
def test_invalid_form_definitions_are_refused(raw):
    # when
    with pytest.raises(DomainError) as refused:
        form_parse(raw)
    # then
    assert refused.value.code == "form.definition_invalid"
    assert refused.value.data["errors"]


def test_a_valid_definition_keeps_its_order_and_defaults():
    # when
    form = form_parse([question(key="b"), question(key="a", type="consent")])
    # then
    assert [(q.key, q.type, q.required, q.max_length) for q in form] == [
        ("b", "text", False, 500),
        ("a", "consent", False, 500),
    ]
    assert form_parse([]) == []


# --- properties ---------------------------------------------------------------------------------

FORM = form_parse(
    [
        question(key="name", required=True, max_length=20),
        question(key="size", type="single_choice", options=options("S", "M", "L")),
        question(
            key="tags", type="multi_choice", options=options("a", "b", "c"), min_choices=1, max_choices=2
        ),
        question(key="mobile", type="phone"),
        question(key="home", type="address"),
        question(key="day", type="date", min_date="2000-01-01", max_date="2030-12-31"),
        question(key="agree", type="consent", required=True),
    ]
)
KEYS = [q.key for q in FORM]
CODES = {str(code) for code in FormError}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=30)
    | st.sampled_from(["S", "a", "b", "138 0013 8000", "2024-07-01", "440305", "+8613800138000"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["region_code", "detail", "x"]) | st.text(max_size=5), children, max_size=3
        )
    ),
    max_leaves=10,
)
json_answers = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), json_values, max_size=9)


@given(answers=json_answers)
def test_property_arbitrary_answers_are_cleaned_or_refused_never_crash(answers):
    # when
    try:
        cleaned = answers_validate(FORM, answers)
    except ValidationFailed as failed:
        # then: refused with only form codes on answer fields
        assert failed.errors
        assert all(e["field"].startswith("answers.") and e["code"] in CODES for e in failed.errors)
        return
    # then: cleaned, with every required question and nothing off the form
    assert isinstance(cleaned, dict)
    assert set(cleaned) <= set(KEYS)
    assert {"name", "agree"} <= set(cleaned)


good_answers = st.fixed_dictionaries(
    {"name": st.text(min_size=1, max_size=20).filter(str.strip), "agree": st.just(True)},
    optional={
        "size": st.sampled_from(["S", "M", "L"]),
        "tags": st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2),
        "mobile": st.sampled_from(
            ["138 0013 8000", "+86 139-1234-5678", "0086 13511112222", "010 1234 5678"]
        ),
        "home": st.fixed_dictionaries(
            {"region_code": st.sampled_from(["440305", "110105", "310000"]), "detail": st.text(max_size=50)}
        ),
        "day": st.dates(date(2000, 1, 1), date(2030, 12, 31)).map(date.isoformat),
    },
)


@given(answers=good_answers)
def test_property_cleaning_is_idempotent(answers):
    # given
    cleaned = answers_validate(FORM, answers)
    # when
    again = answers_validate(FORM, cleaned)
    # then
    assert again == cleaned


def test_a_choice_question_nobody_can_answer_is_refused():
    with pytest.raises(DomainError) as refused:
        form_parse(
            [
                {
                    "key": "pick",
                    "label": "选",
                    "type": "multi_choice",
                    "min_choices": 3,
                    "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
                }
            ]
        )
    assert refused.value.code == "form.definition_invalid"
