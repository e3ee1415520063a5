"""How a sign-up is shown to an API caller or in an export: personal data masked unless revealed.

Revealing is allowed only after the caller checked pii.reveal, and every reveal writes one access-log
row per member shown (S1, S3)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from yunying.campaigns.models import Signup
from yunying.campaigns.questions import form_parse
from yunying.campaigns.selectors import waitlist_position
from yunying.campaigns.services.admission import answers_read
from yunying.core.audit import audit_record, pii_access_record
from yunying.core.masking import mask_text
from yunying.core.permissions import Actor
from yunying.members.services import member_contact, phone_display, phone_mask

PII_FIELDS = ["phone", "name", "answers"]


def _question_types(campaign) -> dict[str, str]:
    return _question_types_of(json.dumps(campaign.form, sort_keys=True))


@lru_cache(maxsize=256)
def _question_types_of(form_json: str) -> dict[str, str]:
    # Keyed by the form itself, so always right; a page of 50 sign-ups parses its form once.
    return {q.key: q.type for q in form_parse(json.loads(form_json))}


def _answers(signup: Signup, *, reveal: bool) -> dict[str, Any]:
    answers = answers_read(signup)
    types = _question_types(signup.campaign)
    if reveal:
        return {
            k: phone_display(v) if types.get(k) == "phone" and isinstance(v, str) else v
            for k, v in answers.items()
        }
    return {key: _masked(types.get(key), value) for key, value in answers.items()}


def _masked(kind: str | None, value: Any) -> Any:
    """Total over what is stored: a value whose shape does not fit its question is hidden whole."""
    if kind == "phone":
        return phone_mask(value) if isinstance(value, str) else "****"
    if kind == "address":
        if not isinstance(value, dict):
            return "****"
        return {
            "region_code": str(value.get("region_code", "")),
            "detail": mask_text(str(value.get("detail", ""))),
        }
    if kind == "text" or kind is None:
        # free text may name or locate the member; so may an answer to a question no longer asked
        return mask_text(value) if isinstance(value, str) else "****"
    return value


def _waitlist_position(signup: Signup) -> int | None:
    # Lists come annotated by the selector (no query per row); a single sign-up is counted here.
    if hasattr(signup, "waitlist_position"):
        return signup.waitlist_position
    return waitlist_position(signup)


def signup_present(
    signup: Signup, *, reveal: bool, internal: bool = False, personal: bool = True
) -> dict[str, Any]:
    """`internal`: the caller is an operator (signup.view) and sees the internal note. `personal`:
    the caller may see personal data at all (signup.view); without it no member block and no answers,
    masked or not — a mask still narrows a phone down to ten thousand numbers (S3)."""
    presented = {
        "id": signup.pk,
        "public_id": signup.public_id,
        "campaign_id": signup.campaign_id,
        "status": signup.status,
        "status_reason": signup.status_reason,
        "status_note": signup.status_note if internal else None,
        "channel": signup.channel,
        "utm_source": signup.utm_source,
        "utm_medium": signup.utm_medium,
        "utm_campaign": signup.utm_campaign,
        "waitlist_rank": signup.waitlist_rank,
        "waitlist_position": _waitlist_position(signup),
        "created_at": signup.created_at,
        "updated_at": signup.updated_at,
    }
    if personal:
        member = signup.member
        presented["member"] = {
            "id": member.pk,
            **member_contact(member, reveal=reveal),
            "gender": member.gender,
            "region_code": member.region_code,
        }
        presented["answers"] = _answers(signup, reveal=reveal)
    return presented


def signups_present(
    signups: Iterable[Signup],
    *,
    reveal: bool,
    actor: Actor | None = None,
    purpose: str = "",
    audited: bool = True,
) -> list[dict[str, Any]]:
    """Present a batch; when revealing, log one access row per member (actor required) and, unless
    the caller audits the whole action itself (an export), one audit row for this reveal."""
    signups = list(signups)
    if reveal:
        if actor is None:
            raise ValueError("revealing personal data needs the actor for the access log")
        member_ids = sorted({s.member_id for s in signups})
        with transaction.atomic():
            pii_access_record(actor=actor, member_ids=member_ids, fields=PII_FIELDS, purpose=purpose)
            if audited and signups:
                audit_record(
                    actor=actor, action="pii.reveal", object_type="campaign",
                    object_id=signups[0].campaign_id, reason=purpose,
                    after={"fields": PII_FIELDS, "member_ids": member_ids, "signup_ids": [s.pk for s in signups]},
                )  # fmt: skip
    return [signup_present(s, reveal=reveal, internal=True) for s in signups]


class PresentedPage:
    """A queryset the paginator slices; each slice comes back presented (and logged if revealed)."""

    def __init__(self, rows: QuerySet[Signup], *, reveal: bool, actor: Actor, purpose: str) -> None:
        self.rows = rows.select_related("member", "campaign")
        self.reveal, self.actor, self.purpose = reveal, actor, purpose

    def __len__(self) -> int:
        return self.rows.count()

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        return signups_present(self.rows[window], reveal=self.reveal, actor=self.actor, purpose=self.purpose)
