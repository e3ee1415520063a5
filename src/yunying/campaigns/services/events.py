"""The append-only sign-up history; written in the same transaction as every state change."""

from __future__ import annotations

from django.utils import timezone

from yunying.campaigns.models import Signup, SignupEvent
from yunying.core.activity import Activity, ActivityKind, activity_publish
from yunying.core.permissions import Actor
from yunying.core.rows import row_insert


def event_record(
    signup: Signup, *, from_status: str, to_status: str, actor: Actor, reason: str = "", note: str = ""
) -> None:
    """`reason` is member-facing (it is what the member is told); `note` is internal, for operators."""
    event = SignupEvent(
        signup=signup,
        campaign_id=signup.campaign_id,
        from_status=from_status,
        to_status=to_status,
        reason=reason[:500],
        note=note[:1000],
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label[:150],
    )
    row_insert(event)  # on every sign-up: a prepared statement, not the ORM (core.rows)


def signup_announce(signup: Signup, kind: ActivityKind) -> None:
    """Tell the apps that reward it (loyalty) that a sign-up was confirmed or attended; inside the
    transaction that made it so. The key names the sign-up (campaign, member, sign-up): a confirmed
    sign-up that is withdrawn or rejected announces SIGNUP_LEFT under the same key and its points are
    taken back, so signing up and withdrawing over and over nets nothing."""
    activity_publish(
        Activity(
            kind=kind,
            member_id=signup.member_id,
            key=f"{signup.campaign_id}:{signup.member_id}:{signup.pk}",
            at=timezone.now(),
            data={"campaign_id": signup.campaign_id},
        )
    )


BATCH = 500  # rows per statement: well inside SQLite's bound-parameter limit, whatever the campaign size


def signups_end(
    *, campaign_id: int, ended: list[tuple[int, str, int]], to: str, actor: Actor, reason: str
) -> None:
    """Move many sign-ups (id, current status, member id — read under lock by the caller) to a final
    status, each with its event, in statements of BATCH rows."""
    for start in range(0, len(ended), BATCH):
        chunk = ended[start : start + BATCH]
        Signup.objects.filter(pk__in=[signup_id for signup_id, _, _ in chunk]).update(
            status=to, status_reason=reason[:500], updated_at=timezone.now()
        )
    SignupEvent.objects.bulk_create(
        [
            SignupEvent(
                signup_id=signup_id,
                campaign_id=campaign_id,
                from_status=status,
                to_status=to,
                reason=reason[:500],
                actor_kind=actor.kind,
                actor_id=actor.id,
                actor_label=actor.label[:150],
            )
            for signup_id, status, _ in ended
        ],
        batch_size=BATCH,
    )
