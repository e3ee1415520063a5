"""Progressive profiling (M2): short questionnaires an operator attaches to a moment (after sign-up,
after the first order, in the member centre); members answer them on the member pages.

Rules, each enforced here (the only writer of Questionnaire, Question and ProfileAnswer):
- nothing collected that no purpose needs: every question names the consent purpose its answer
  serves and says why to the member; one without either is refused; a question is asked only of a
  member who granted its purpose (service always is);
- nothing asked twice: a question the member answered or declined is not asked again, nor one whose
  target is already known (a Member field set, an attribute answered through another question);
- answers land in the profile: gender, birth date and region on the Member (filling blanks only,
  through members.services), anything else as an attribute encrypted to the member's row.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yunying.core import crypto
from yunying.core.activity import Activity, ActivityKind, activity_publish
from yunying.core.audit import audit_record
from yunying.core.errors import CoreError, DomainError, FieldError, ValidationFailed
from yunying.core.permissions import Actor, Perm
from yunying.members.consent import consent_state
from yunying.members.errors import ProfilingError
from yunying.members.models import (
    ConsentPurpose,
    Gender,
    Member,
    ProfileAnswer,
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireMoment,
)
from yunying.members.regions import is_valid_region
from yunying.members.services import EARLIEST_BIRTH_DATE, Profile, member_profile_fill

MAX_QUESTIONS = 10  # "short": a longer form is a survey, not progressive profiling
MAX_CHOICES = 12
MAX_TEXT = 200
ATTR_PREFIX = "attr:"
_ATTR_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_ATTR = "member.attr"
# The Member fields a question may fill, and the one kind that can fill each.
FIELD_KINDS = {
    "gender": QuestionKind.CHOICE,
    "birth_date": QuestionKind.DATE,
    "region_code": QuestionKind.REGION,
}


@dataclass
class QuestionSpec:
    """A question as an operator wrote it (a new one without `id`)."""

    kind: str
    prompt: str
    target: str
    purpose: str
    why: str
    choices: list[str] = field(default_factory=list)
    id: int | None = None


def _clean(text: str) -> str:
    """Printable text, trimmed. Not NFKC: a Chinese question keeps its full-width punctuation."""
    return "".join(ch for ch in unicodedata.normalize("NFC", text or "") if ch.isprintable()).strip()


def _spec_errors(index: int, spec: QuestionSpec) -> list[FieldError]:
    where = f"questions.{index}"
    errors = []
    if not spec.purpose:
        errors.append(
            FieldError(f"{where}.purpose", CoreError.INVALID, _("Say which purpose needs this answer."))
        )
    elif spec.purpose not in ConsentPurpose.values:
        errors.append(FieldError(f"{where}.purpose", CoreError.INVALID, _("Choose a purpose from the list.")))
    if not spec.why:
        errors.append(
            FieldError(f"{where}.why", CoreError.INVALID, _("Tell the member what the answer is used for."))
        )
    if not spec.prompt:
        errors.append(FieldError(f"{where}.prompt", CoreError.INVALID, _("Write the question.")))
    if spec.kind not in QuestionKind.values:
        errors.append(FieldError(f"{where}.kind", CoreError.INVALID, _("Choose a question type.")))
    if spec.target in FIELD_KINDS:
        if spec.kind in QuestionKind.values and FIELD_KINDS[spec.target] != spec.kind:
            errors.append(
                FieldError(
                    f"{where}.target",
                    CoreError.INVALID,
                    _("This profile field is filled by a %(kind)s question.")
                    % {"kind": QuestionKind(FIELD_KINDS[spec.target]).label},
                )
            )
    elif not (spec.target.startswith(ATTR_PREFIX) and _ATTR_KEY.match(spec.target[len(ATTR_PREFIX) :])):
        errors.append(
            FieldError(
                f"{where}.target",
                CoreError.INVALID,
                _("Fill a profile field, or an attribute named in lower-case letters, digits and _."),
            )
        )
    if (
        spec.kind == QuestionKind.CHOICE
        and spec.target != "gender"
        and not 2 <= len(spec.choices) <= MAX_CHOICES
    ):
        errors.append(
            FieldError(f"{where}.choices", CoreError.INVALID, _("Give between 2 and 12 options, one a line."))
        )
    return errors


def questionnaire_save(
    *,
    actor: Actor,
    name: str,
    moment: str,
    active: bool,
    questions: list[QuestionSpec],
    questionnaire_id: int | None = None,
) -> Questionnaire:
    """Create a questionnaire, or replace an existing one's settings and questions (questions kept by
    id keep their answers, so an edit does not ask members again). Audited.

    Raises: core.permission_denied, core.invalid (every failing field), profiling.questionnaire_not_found."""
    actor.require(Perm.PROFILING_EDIT)
    name = _clean(name)[:80]
    for spec in questions:
        spec.prompt, spec.why = _clean(spec.prompt)[:200], _clean(spec.why)[:200]
        spec.target = unicodedata.normalize("NFKC", _clean(spec.target))
        spec.choices = [c for c in (_clean(c)[:60] for c in spec.choices) if c]
        if spec.target == "gender":
            spec.choices = []  # the Member's own choices (members.models.Gender)
    errors = []
    if not name:
        errors.append(FieldError("name", CoreError.INVALID, _("Give the questionnaire a name.")))
    if moment not in QuestionnaireMoment.values:
        errors.append(FieldError("moment", CoreError.INVALID, _("Choose when it is asked.")))
    if not 1 <= len(questions) <= MAX_QUESTIONS:
        errors.append(FieldError("questions", CoreError.INVALID, _("Ask between 1 and 10 questions.")))
    targets = [s.target for s in questions]
    if len(set(targets)) != len(targets):
        errors.append(FieldError("questions", CoreError.INVALID, _("Two questions fill the same field.")))
    for index, spec in enumerate(questions):
        errors += _spec_errors(index, spec)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        if questionnaire_id is None:
            questionnaire = Questionnaire.objects.create(name=name, moment=moment, active=active)
            before: dict = {}
        else:
            questionnaire = Questionnaire.objects.select_for_update().filter(pk=questionnaire_id).first()
            if questionnaire is None:
                raise DomainError(ProfilingError.QUESTIONNAIRE_NOT_FOUND, id=questionnaire_id)
            before = _snapshot(questionnaire)
            questionnaire.name, questionnaire.moment, questionnaire.active = name, moment, active
            questionnaire.save()
        kept = {q.pk: q for q in questionnaire.questions.all()}
        keep_ids = {s.id for s in questions if s.id in kept}
        questionnaire.questions.exclude(pk__in=keep_ids).delete()
        for position, spec in enumerate(questions):
            values = {
                "position": position, "kind": spec.kind, "prompt": spec.prompt, "choices": spec.choices,
                "target": spec.target, "purpose": spec.purpose, "why": spec.why,
            }  # fmt: skip
            if spec.id in kept:
                Question.objects.filter(pk=spec.id).update(**values)
            else:
                Question.objects.create(questionnaire=questionnaire, **values)
        audit_record(
            actor=actor,
            action="questionnaire.create" if questionnaire_id is None else "questionnaire.update",
            object_type="questionnaire",
            object_id=questionnaire.pk,
            before=before,
            after=_snapshot(questionnaire),
        )
    return questionnaire


def _snapshot(questionnaire: Questionnaire) -> dict:
    return {
        "name": questionnaire.name,
        "moment": questionnaire.moment,
        "active": questionnaire.active,
        "questions": [
            f"{q.kind} {q.target} ({q.purpose}): {q.prompt}"
            for q in questionnaire.questions.order_by("position")
        ],
    }


def questionnaire_list() -> list[Questionnaire]:
    return list(Questionnaire.objects.order_by("-id").prefetch_related("questions"))


def questionnaire_get(questionnaire_id: int) -> Questionnaire:
    """Raises: profiling.questionnaire_not_found."""
    found = Questionnaire.objects.filter(pk=questionnaire_id).prefetch_related("questions").first()
    if found is None:
        raise DomainError(ProfilingError.QUESTIONNAIRE_NOT_FOUND, id=questionnaire_id)
    return found


# --- the member's side ------------------------------------------------------------------------------


def _field_known(member: Member, target: str) -> bool:
    if target == "gender":
        return member.gender != Gender.UNKNOWN
    if target == "birth_date":
        return member.birth_date is not None
    if target == "region_code":
        return bool(member.region_code)
    return False


def questions_pending(member: Member, moment: str, *, limit: int = 5) -> list[Question]:
    """The questions of `moment` to ask `member` now, at most `limit` (a short card, not a survey):
    active questionnaires, purpose granted, not answered or declined, target not already known, each
    target once."""
    granted = {purpose for purpose, on in consent_state(member).items() if on} | {ConsentPurpose.SERVICE}
    answers = list(
        ProfileAnswer.objects.filter(member=member).values_list("question_id", "target", "declined")
    )
    asked = {question_id for question_id, _target, _declined in answers}
    known = {target for _question, target, declined in answers if not declined}
    pending, targets = [], set()
    candidates = Question.objects.filter(
        questionnaire__moment=moment, questionnaire__active=True, purpose__in=granted
    ).order_by("questionnaire_id", "position", "id")
    for question in candidates:
        if question.pk in asked or question.target in known or question.target in targets:
            continue
        if _field_known(member, question.target):
            continue
        pending.append(question)
        targets.add(question.target)
        if len(pending) >= limit:
            break
    return pending


def _parse(question: Question, raw: str):
    """The answer as stored, or raise core.invalid for the question's field."""
    value = _clean(raw)
    if question.kind in (QuestionKind.DATE, QuestionKind.REGION):
        value = unicodedata.normalize("NFKC", value)  # full-width digits typed on a phone keyboard
    where = f"q{question.pk}"
    if not value:
        raise ValidationFailed([FieldError(where, CoreError.INVALID, _("Answer the question, or skip it."))])
    if question.kind == QuestionKind.TEXT:
        if len(value) > MAX_TEXT:
            raise ValidationFailed([FieldError(where, CoreError.INVALID, _("At most 200 characters."))])
        return value
    if question.kind == QuestionKind.CHOICE:
        allowed = [Gender.MALE, Gender.FEMALE] if question.target == "gender" else question.choices
        if value not in allowed:
            raise ValidationFailed([FieldError(where, CoreError.INVALID, _("Choose one of the options."))])
        return value
    if question.kind == QuestionKind.DATE:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
        if day is None:
            raise ValidationFailed([FieldError(where, CoreError.INVALID, _("Give a date like 1990-05-20."))])
        if question.target == "birth_date" and day > timezone.localdate():
            raise ValidationFailed(
                [FieldError(where, CoreError.INVALID, _("A birth date cannot be in the future."))]
            )
        if not EARLIEST_BIRTH_DATE <= day <= date(2100, 12, 31):
            # A well-formed date out of range is not a format mistake: say which dates are taken.
            raise ValidationFailed(
                [FieldError(where, CoreError.INVALID, _("Give a date between 1900-01-01 and 2100-12-31."))]
            )
        return day
    if not is_valid_region(value):
        raise ValidationFailed([FieldError(where, CoreError.INVALID, _("Choose a region from the list."))])
    return value


def answers_submit(
    *, member: Member, moment: str, answers: dict[int, str], declined: set[int] = frozenset()
) -> int:
    """Store the member's answers to pending questions of `moment` (and their declines); returns how
    many were recorded. An answer to a question no longer pending (answered in another tab, target
    known meanwhile) is ignored: nothing is overwritten.

    Raises: core.invalid (every failing answer)."""
    member.refresh_from_db()  # what is known now, not when the page was drawn (fill_blanks is the guard)
    pending = {q.pk: q for q in questions_pending(member, moment, limit=MAX_QUESTIONS)}
    parsed, errors = {}, []
    for question_id, raw in answers.items():
        question = pending.get(question_id)
        if question is None or question_id in declined:
            continue
        try:
            parsed[question_id] = _parse(question, raw)
        except ValidationFailed as failed:
            errors += failed.errors
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    rows = []
    profile: dict = {}
    for question_id, value in parsed.items():
        question = pending[question_id]
        sealed = ""
        if question.target in FIELD_KINDS:
            profile[question.target] = value
        else:
            sealed = crypto.encrypt(str(value), context=_ATTR, row=member.row_token)
        rows.append(
            ProfileAnswer(
                member=member,
                question=question,
                target=question.target,
                value_encrypted=sealed,
                answered_at=now,
            )
        )
    for question_id in declined & pending.keys():
        rows.append(
            ProfileAnswer(
                member=member, question=pending[question_id], target=pending[question_id].target,
                declined=True, answered_at=now,
            )
        )  # fmt: skip
    with transaction.atomic():
        if profile:
            member_profile_fill(member_id=member.pk, profile=Profile(**profile))
        # The unique (member, question) pair: a double submit records each answer once.
        ProfileAnswer.objects.bulk_create(rows, ignore_conflicts=True)
        _announce_completed(member, {pending[qid].questionnaire_id for qid in parsed}, now)
    return len(rows)


def _announce_completed(member: Member, questionnaire_ids: set[int], now) -> None:
    """PROFILE_COMPLETED for each questionnaire whose every question the member has now answered (or
    whose target was already known); its key names member and questionnaire, so once each."""
    if not questionnaire_ids:
        return
    member.refresh_from_db()
    answered = set(
        ProfileAnswer.objects.filter(member=member, declined=False, question__isnull=False).values_list(
            "question_id", flat=True
        )
    )
    for questionnaire in Questionnaire.objects.filter(pk__in=questionnaire_ids).prefetch_related("questions"):
        questions = list(questionnaire.questions.all())
        if questions and all(q.pk in answered or _field_known(member, q.target) for q in questions):
            activity_publish(
                Activity(
                    kind=ActivityKind.PROFILE_COMPLETED,
                    member_id=member.pk,
                    key=f"{member.pk}:{questionnaire.pk}",
                    at=now,
                    data={"questionnaire_id": questionnaire.pk},
                )
            )


def profile_attributes(member: Member) -> dict[str, str]:
    """The member's attribute answers in clear ({key: value}); callers showing them to an operator
    mask them or log the access."""
    values = {}
    for target, sealed in (
        ProfileAnswer.objects.filter(member=member, declined=False, target__startswith=ATTR_PREFIX)
        .order_by("id")
        .values_list("target", "value_encrypted")
    ):
        values[target[len(ATTR_PREFIX) :]] = crypto.decrypt(sealed, context=_ATTR, row=member.row_token)
    return values
