"""Why personal data is revealed (PIPL purpose limitation, S4): a purpose from a fixed list, plus an
optional note, written to the access log the member can see.

A free-text purpose ended up as "." — the list makes every reveal say something a member and an
auditor can read, and lets the auditor count reveals by purpose. Revealing one member's data (a
sign-up, a look-up) needs pii.reveal; revealing many at once (a list, an export in clear) needs
pii.reveal_bulk (strategy only) and raises the alert `pii.bulk_reveal`.
"""

from __future__ import annotations

import time
from enum import StrEnum

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yunying.core.alerts import alert_raise
from yunying.core.errors import CoreError, DomainError, FieldError, ValidationFailed
from yunying.core.people import actor_person
from yunying.core.permissions import Actor, Perm
from yunying.core.ratelimit import ratelimit_count
from yunying.core.scrub import scrub_personal


class Purpose(StrEnum):
    CUSTOMER_SERVICE = "customer_service"  # the member called or wrote and asked for help
    EVENT_CHECK_IN = "event_check_in"  # checking members in at the venue
    PRIZE_DELIVERY = "prize_delivery"  # sending what the member won
    DATA_SUBJECT_REQUEST = "data_subject_request"  # the member asked for their data (PIPL art. 45)
    LEGAL_REQUEST = "legal_request"  # a court, police or regulator's request
    FRAUD_INVESTIGATION = "fraud_investigation"  # risk control looking into abuse


MAX_NOTE = 200

# Each purpose as people read it: the reveal forms offer these, and the access logs show them.
PURPOSE_LABELS = {
    Purpose.CUSTOMER_SERVICE: gettext_lazy("Customer service: the member asked for help"),
    Purpose.EVENT_CHECK_IN: gettext_lazy("Event check-in"),
    Purpose.PRIZE_DELIVERY: gettext_lazy("Prize delivery"),
    Purpose.DATA_SUBJECT_REQUEST: gettext_lazy("The member asked for their data"),
    Purpose.LEGAL_REQUEST: gettext_lazy("Legal request (court, police, regulator)"),
    Purpose.FRAUD_INVESTIGATION: gettext_lazy("Fraud investigation"),
}
# The personal data fields an access-log row names, as people read them.
FIELD_LABELS = {
    "phone": gettext_lazy("Phone"),
    "name": gettext_lazy("Name"),
    "email": gettext_lazy("E-mail"),
    "birth_date": gettext_lazy("Birth date"),
    "answers": gettext_lazy("Answers"),
}


def purpose_text(stored: str) -> str:
    """An access-log purpose ("customer_service: 工单 1024", as reveal_authorize states it) in words."""
    code, _sep, note = (stored or "").partition(": ")
    label = PURPOSE_LABELS.get(code)
    text = str(label) if label is not None else code
    return f"{text}: {note}" if note else text


def fields_text(fields) -> str:
    """An access-log row's fields in words, in the list separator of the language."""
    return ", ".join(str(FIELD_LABELS.get(field, field)) for field in fields or [])


REVEAL_WINDOW_SECONDS = 3600


def _caller(actor: Actor) -> str:
    """Limits and alerts count people, not keys: one operator's several keys share one count."""
    return actor_person(actor) or f"{actor.kind}:{actor.id}"


def _one_at_a_time(actor: Actor, purpose: str) -> None:
    """One member per request must not become everyone by a loop (S3): single reveals are counted per
    caller per hour; past the limit they are refused, and reaching it raises an alert once.

    Raises: core.rate_limited."""
    caller, limit = _caller(actor), settings.RATE_LIMITS["pii_reveal_hour"]
    count = ratelimit_count(scope="pii_reveal", key=caller, window_seconds=REVEAL_WINDOW_SECONDS)
    if count == limit + 1:
        alert_raise(
            "pii.reveal_burst", actor=caller, actor_label=actor.label, role=str(actor.role or ""),
            purpose=purpose, limit_per_hour=limit,
        )  # fmt: skip
    if count > limit:
        retry_after = REVEAL_WINDOW_SECONDS - int(time.time() % REVEAL_WINDOW_SECONDS)
        raise DomainError(CoreError.RATE_LIMITED, retry_after=max(retry_after, 1))


def reveal_volume_record(actor: Actor, members: int) -> None:
    """Count the members an operator saw in clear this hour, whatever the path (one reveal, a list
    page, an export in clear: called with every access-log write); crossing
    RATE_LIMITS["pii_reveal_members_hour"] raises the alert pii.reveal_burst once per hour. Counts
    members, not requests: one export of 5,000 members is 5,000. Alerts, never refuses (an approved
    export must complete)."""
    if members <= 0 or actor.kind in ("system", "member"):
        return
    caller, limit = _caller(actor), settings.RATE_LIMITS["pii_reveal_members_hour"]
    after = ratelimit_count(
        scope="pii_reveal_members", key=caller, window_seconds=REVEAL_WINDOW_SECONDS, amount=members
    )
    if after - members <= limit < after:
        alert_raise(
            "pii.reveal_burst", actor=caller, actor_label=actor.label, role=str(actor.role or ""),
            members_this_hour=after, limit_members_per_hour=limit,
        )  # fmt: skip


def reveal_authorize(
    actor: Actor, *, purpose: str | None, note: str = "", bulk: bool = False, **what: object
) -> str:
    """Check a reveal may happen and return the purpose as the access log states it.

    `bulk`: many members at once (a list, an export); then `what` (campaign, format, …) goes into
    the alert. Raises: core.permission_denied, core.invalid (no purpose)."""
    actor.require(Perm.PII_REVEAL_BULK if bulk else Perm.PII_REVEAL)
    if not purpose:
        raise ValidationFailed([FieldError("purpose", CoreError.INVALID, _("State why the data is needed."))])
    stated = str(Purpose(purpose))
    # the note goes into the append-only access log the member reads: never a phone or e-mail in clear
    note = scrub_personal(note.strip())[:MAX_NOTE]
    if not bulk:
        _one_at_a_time(actor, stated)
    if bulk:
        alert_raise(
            "pii.bulk_reveal",
            actor=f"{actor.kind}:{actor.id}",
            actor_label=actor.label,
            role=str(actor.role or ""),
            purpose=stated,
            **what,
        )
    return f"{stated}: {note}" if note else stated
