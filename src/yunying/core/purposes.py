"""Why personal data is revealed (PIPL purpose limitation, S4): a purpose from a fixed list, plus an
optional note, written to the access log the member can see.

A free-text purpose ended up as "." — the list makes every reveal say something a member and an
auditor can read, and lets the auditor count reveals by purpose. Revealing one member's data (a
sign-up, a look-up) needs pii.reveal; revealing many at once (a list, an export in clear) needs
pii.reveal_bulk (strategy only) and raises the alert `pii.bulk_reveal`.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext as _

from yunying.core.alerts import alert_raise
from yunying.core.errors import CoreError, FieldError, ValidationFailed
from yunying.core.permissions import Actor, Perm


class Purpose(StrEnum):
    CUSTOMER_SERVICE = "customer_service"  # the member called or wrote and asked for help
    EVENT_CHECK_IN = "event_check_in"  # checking members in at the venue
    PRIZE_DELIVERY = "prize_delivery"  # sending what the member won
    DATA_SUBJECT_REQUEST = "data_subject_request"  # the member asked for their data (PIPL art. 45)
    LEGAL_REQUEST = "legal_request"  # a court, police or regulator's request
    FRAUD_INVESTIGATION = "fraud_investigation"  # risk control looking into abuse


MAX_NOTE = 200


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
    note = note.strip()[:MAX_NOTE]
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
