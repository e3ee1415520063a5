"""What approving or rejecting a risk case does to its subject — a pending sign-up confirmed, a held
reward granted — registered by the app that owns the subject (risk control knows none of them).
Light on imports: apps register from AppConfig.ready(), before the metrics set-up of `serve`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# handler(decision, approve, actor) -> what it did, in a few words, for the case
CaseOutcome = Callable[[Any, bool, Any], str]
_outcomes: dict[str, CaseOutcome] = {}


def case_outcome_register(subject_type: str, handler: CaseOutcome) -> None:
    _outcomes[subject_type] = handler


def case_outcome(subject_type: str) -> CaseOutcome | None:
    return _outcomes.get(subject_type)
