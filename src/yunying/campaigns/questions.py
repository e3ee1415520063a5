"""Sign-up form: typed questions and the validation of a member's answers (C2).

A form is a list of questions stored on the campaign as JSON; `form_parse` checks the definition,
`answers_validate` checks answers against it and reports every failing question at once.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from yunying.campaigns.errors import FormError
from yunying.core.errors import DomainError, FieldError, ValidationFailed
from yunying.members.regions import is_valid_region
from yunying.members.services import phone_normalize

QuestionType = Literal["text", "single_choice", "multi_choice", "phone", "address", "date", "consent"]
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
MAX_ADDRESS_DETAIL = 200


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Annotated[str, Field(min_length=1, max_length=64)]
    label: Annotated[str, Field(min_length=1, max_length=200)]


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[str, Field(pattern=KEY_PATTERN)]
    label: Annotated[str, Field(min_length=1, max_length=300)]
    type: QuestionType
    required: bool = False
    help_text: Annotated[str, Field(max_length=500)] = ""
    options: list[Option] = []
    max_length: Annotated[int, Field(ge=1, le=5000)] = 500
    min_choices: Annotated[int, Field(ge=0)] = 0
    max_choices: Annotated[int | None, Field(ge=1)] = None
    min_date: date | None = None
    max_date: date | None = None

    @model_validator(mode="after")
    def _check(self) -> Question:
        choice = self.type in ("single_choice", "multi_choice")
        if choice and not self.options:
            raise ValueError("choice questions need options")
        if not choice and self.options:
            raise ValueError("only choice questions have options")
        if len({o.value for o in self.options}) != len(self.options):
            raise ValueError("option values must be unique")
        if choice and self.min_choices > len(self.options):
            raise ValueError("min_choices is more than there are options")
        if self.max_choices is not None and self.max_choices < self.min_choices:
            raise ValueError("max_choices must be at least min_choices")
        if self.min_date and self.max_date and self.max_date < self.min_date:
            raise ValueError("max_date must not be before min_date")
        return self


def _loc(prefix: str, loc: tuple) -> str:
    return ".".join([prefix, *(str(part) for part in loc)])


def form_problems(raw: Any) -> tuple[list[Question], list[FieldError]]:
    """The questions that parse, and one FieldError (field "form.<n>.<attr>") per problem."""
    if not isinstance(raw, list):
        return [], [FieldError("form", FormError.DEFINITION_INVALID, "the form is a list of questions")]
    questions: list[Question] = []
    errors: list[FieldError] = []
    for n, item in enumerate(raw):
        try:
            questions.append(Question.model_validate(item))
        except ValidationError as exc:
            errors += [
                FieldError(_loc(f"form.{n}", e["loc"]), FormError.DEFINITION_INVALID, e["msg"])
                for e in exc.errors(include_url=False)
            ]
    seen: set[str] = set()
    for n, question in enumerate(questions):
        if question.key in seen:
            errors.append(FieldError(f"form.{n}.key", FormError.DEFINITION_INVALID, "duplicate key"))
        seen.add(question.key)
    return questions, errors


def form_parse(raw: list[dict[str, Any]]) -> list[Question]:
    """Raises: form.definition_invalid (every problem in `errors`)."""
    questions, errors = form_problems(raw)
    if errors:
        raise DomainError(FormError.DEFINITION_INVALID, errors=errors)
    return questions


def _blank(value: Any) -> bool:
    # Whitespace only is no answer: a required text question must not pass as "".
    if isinstance(value, str):
        return not value.strip()
    return value is None or value == [] or value == {} or value is False


def _clean_one(question: Question, value: Any) -> tuple[Any, str | None]:
    """The cleaned value and None, or (None, error code)."""
    kind = question.type
    if kind == "text":
        if not isinstance(value, str):
            return None, FormError.INVALID_TYPE
        value = value.strip()
        return (None, FormError.TOO_LONG) if len(value) > question.max_length else (value, None)
    if kind == "single_choice":
        if not isinstance(value, str):
            return None, FormError.INVALID_TYPE
        ok = value in {o.value for o in question.options}
        return (value, None) if ok else (None, FormError.INVALID_CHOICE)
    if kind == "multi_choice":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None, FormError.INVALID_TYPE
        chosen = list(dict.fromkeys(value))
        if not set(chosen) <= {o.value for o in question.options}:
            return None, FormError.INVALID_CHOICE
        if len(chosen) < question.min_choices:
            return None, FormError.TOO_FEW_CHOICES
        if question.max_choices is not None and len(chosen) > question.max_choices:
            return None, FormError.TOO_MANY_CHOICES
        return chosen, None
    if kind == "phone":
        if not isinstance(value, str):
            return None, FormError.INVALID_TYPE
        try:
            return phone_normalize(value), None
        except DomainError:
            return None, FormError.INVALID_PHONE
    if kind == "address":
        if not isinstance(value, dict) or not isinstance(value.get("region_code"), str):
            return None, FormError.INVALID_TYPE
        detail = value.get("detail", "")
        if not isinstance(detail, str):
            return None, FormError.INVALID_TYPE
        if not is_valid_region(value["region_code"]):
            return None, FormError.INVALID_REGION
        if len(detail.strip()) > MAX_ADDRESS_DETAIL:
            return None, FormError.TOO_LONG
        return {"region_code": value["region_code"], "detail": detail.strip()}, None
    if kind == "date":
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return None, FormError.INVALID_DATE
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None, FormError.INVALID_DATE
        if (question.min_date and day < question.min_date) or (question.max_date and day > question.max_date):
            return None, FormError.DATE_OUT_OF_RANGE
        return day.isoformat(), None
    # consent
    if not isinstance(value, bool):
        return None, FormError.INVALID_TYPE
    return value, None


def answers_validate(questions: list[Question], answers: dict[str, Any]) -> dict[str, Any]:
    """Cleaned answers (phones in E.164, dates ISO, choices de-duplicated).

    Raises: core.invalid with one FieldError per failing question (field "answers.<key>")."""
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    known = {q.key for q in questions}
    for key in answers:
        if key not in known:
            errors.append(FieldError(f"answers.{key}", FormError.UNKNOWN_QUESTION))
    for question in questions:
        value = answers.get(question.key)
        if question.type == "consent" and question.required and value is False:
            errors.append(FieldError(f"answers.{question.key}", FormError.CONSENT_REQUIRED))
            continue
        if _blank(value):
            if question.required:
                code = FormError.CONSENT_REQUIRED if question.type == "consent" else FormError.REQUIRED
                errors.append(FieldError(f"answers.{question.key}", code))
            continue
        value, code = _clean_one(question, value)
        if code:
            errors.append(FieldError(f"answers.{question.key}", code))
        else:
            cleaned[question.key] = value
    if errors:
        raise ValidationFailed(errors)
    return cleaned
