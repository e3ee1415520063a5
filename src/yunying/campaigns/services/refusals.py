"""Refused sign-up attempts that operators watch (issue 9: the live monitor's and the dashboard's
exceptions): ineligible by reason, duplicates, previously refused, rate-limited.

Before this, a refusal left a Prometheus sample (process-local, not per campaign) and nothing else.
The record is written by the outermost caller of the admission (the API handler, the member pages)
after the refused work has ended: inside it, the rollback would take the row with it.

Under an attack, refusals must not become a write per request on the database (on SQLite the one
write lock): at most RECORD_PER_MINUTE rows per campaign per minute are written; the rest are only
counted in the metrics the admission timer keeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from yunying.campaigns.errors import SignupError
from yunying.campaigns.models import SignupRefusal
from yunying.core.errors import CoreError, DomainError
from yunying.core.ratelimit import ratelimit_count

RECORDED = frozenset(
    {SignupError.INELIGIBLE, SignupError.DUPLICATE, SignupError.PREVIOUSLY_REFUSED, CoreError.RATE_LIMITED}
)
RECORD_PER_MINUTE = 600


def refusal_reasons(refusal: DomainError) -> list[str]:
    """The eligibility reason codes behind a refusal: the ones the service judged (it may tell the
    caller less, e.g. `eligibility.not_met`, and keeps the real ones on the error for this record)."""
    judged = getattr(refusal, "judged_reasons", None)
    if judged is not None:
        return list(judged)
    return [str(r.get("code", "")) for r in refusal.data.get("reasons", []) if isinstance(r, dict)]


def signup_refusal_record(
    *, campaign_id: int | None, refusal: DomainError, channel: str = "", member_id: int | None = None
) -> bool:
    """Record one refused attempt if operators watch its code; True when a row was written.
    Call it outside any transaction that may roll back (after the refused work has ended)."""
    if campaign_id is None or refusal.code not in RECORDED:
        return False
    if ratelimit_count(scope="signup_refusal_record", key=str(campaign_id)) > RECORD_PER_MINUTE:
        return False
    SignupRefusal.objects.create(
        campaign_id=campaign_id,
        code=refusal.code,
        reasons=",".join(sorted(set(refusal_reasons(refusal))))[:300],
        channel=(channel or "")[:20],
        member_id=member_id,
    )
    return True


@contextmanager
def refusals_recorded(
    *, campaign_id: int | None, channel: str = "", member_id: int | None = None
) -> Iterator[None]:
    """Wrap a sign-up attempt (rate limits + signup_create), outermost: a refusal is recorded, then
    re-raised unchanged."""
    try:
        yield
    except DomainError as refusal:
        signup_refusal_record(campaign_id=campaign_id, refusal=refusal, channel=channel, member_id=member_id)
        raise
