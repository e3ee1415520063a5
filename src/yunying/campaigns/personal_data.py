"""The personal data campaigns holds about a member (sign-ups, their answers, attendance), for the
member's export and erasure (PIPL arts. 45, 47). Registered in CampaignsConfig.ready()."""

from __future__ import annotations

from django.db.models import QuerySet

from yunying.campaigns.exports import answers_in_words
from yunying.campaigns.models import Campaign, Signup, SignupEvent, SignupRefusal, SignupStatus
from yunying.campaigns.questions import form_parse
from yunying.campaigns.services.admission import answers_read
from yunying.campaigns.services.events import signups_end
from yunying.core.errors import message_for
from yunying.core.permissions import SYSTEM

# What still waits for a person or a seat when the account is deleted: it ends (withdrawn).
ENDS_AT_ERASURE = (SignupStatus.PENDING_REVIEW, SignupStatus.WAITLISTED)
ERASED_REASON = "account deleted"


def member_refusals(member_id: int) -> QuerySet[SignupRefusal]:
    """The member's refused sign-up attempts, newest first (kept CLIENT_DATA_RETENTION_DAYS)."""
    return SignupRefusal.objects.filter(member_id=member_id).order_by("-id")


def refusal_view(refusals: list[SignupRefusal]) -> list[dict]:
    """Refusals as the member reads them: the campaign's title, the refusal and each reason in words
    (one query for the titles)."""
    titles = dict(
        Campaign.objects.filter(pk__in={r.campaign_id for r in refusals}).values_list("pk", "title")
    )
    return [
        {
            "at": r.at,
            "campaign": titles.get(r.campaign_id, ""),
            "refusal": message_for(r.code),
            "reasons": [message_for(code) for code in r.reasons.split(",") if code],
        }
        for r in refusals
    ]


def signups_export(member_id: int) -> dict:
    refusals = refusal_view(list(member_refusals(member_id)))
    return {"signups": _signups(member_id), "refused": [r | {"at": r["at"].isoformat()} for r in refusals]}


def _signups(member_id: int) -> list[dict]:
    signups = list(Signup.objects.filter(member_id=member_id).select_related("campaign").order_by("id"))
    forms = {s.campaign_id: form_parse(s.campaign.form) for s in signups}  # each campaign's questions once
    return [
        {
            "signup": signup.public_id,
            "campaign": signup.campaign.title,
            "status": signup.status,
            # the questions' titles and the options' labels: the member reads what they answered
            "answers": answers_in_words(forms[signup.campaign_id], answers_read(signup)),
            "channel": signup.channel,
            "status_reason": signup.status_reason,
            "attended_at": signup.attended_at.isoformat() if signup.attended_at else None,
            "created_at": signup.created_at.isoformat(),
        }
        for signup in signups
    ]


def signups_erase(member_id: int) -> dict[str, int]:
    """Keep each sign-up as an anonymous fact (its status, campaign, channel and attendance keep the
    campaign's counts right) and clear what describes the person: the answers, client signals and
    the free-text reasons and notes."""
    # Operators' notes and reasons are free text about the person.
    SignupEvent.objects.filter(signup__member_id=member_id).update(note="", reason="")
    # A deleted account can neither be approved nor promoted into a seat: what still waits ends here.
    waiting = list(
        Signup.objects.filter(member_id=member_id, status__in=ENDS_AT_ERASURE)
        .order_by("campaign_id", "id")
        .values_list("campaign_id", "pk", "status", "member_id")
    )
    for campaign_id in sorted({row[0] for row in waiting}):
        signups_end(
            campaign_id=campaign_id, ended=[(pk, status, m) for c, pk, status, m in waiting if c == campaign_id],
            to=SignupStatus.WITHDRAWN, actor=SYSTEM, reason=ERASED_REASON,
        )  # fmt: skip
    changed = Signup.objects.filter(member_id=member_id).update(
        answers_encrypted="", client_ip_hash="", device_id_hash="", user_agent="",
        status_reason="", status_note="", utm_source="", utm_medium="", utm_campaign="",
    )  # fmt: skip
    unlinked = SignupRefusal.objects.filter(member_id=member_id).update(member_id=None)
    return {"signups": changed, "refusals_unlinked": unlinked, "signups_ended": len(waiting)}


def signups_lock(member_id: int) -> None:
    """The member's sign-ups, locked before the member's row: confirming one locks it and then
    earns points on the member (PersonalDataHolding.lock)."""
    list(
        Signup.objects.select_for_update()
        .filter(member_id=member_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def holdings_register() -> None:
    """Declare what campaigns holds (CampaignsConfig.ready)."""
    from django.conf import settings
    from django.utils.translation import gettext_lazy as _

    from yunying.core.registry import PersonalDataHolding, personal_data_register

    personal_data_register(PersonalDataHolding(
        key="campaigns.signups", label=_("Your event sign-ups, the answers on their forms, and your attendance"),
        purpose=_("To run the events you signed up for: seats, lotteries, check-in and prizes"),
        retention=_("Your device and network signals are cleared after %(days)s days; the sign-ups stay while you are a member, and as anonymous counts after you delete your account") % {"days": settings.CLIENT_DATA_RETENTION_DAYS},
        shared_with=(_("Courier (when a prize you won is sent to you)"),
                     _("SMS provider")),
        export=signups_export, erase=signups_erase, lock=signups_lock,
    ))  # fmt: skip
