"""The personal data campaigns holds about a member (sign-ups, their answers, attendance), for the
member's export and erasure (PIPL arts. 45, 47). Registered in CampaignsConfig.ready()."""

from __future__ import annotations

from yunying.campaigns.models import Signup
from yunying.campaigns.services.admission import answers_read


def signups_export(member_id: int) -> list[dict]:
    return [
        {
            "signup": signup.public_id,
            "campaign": signup.campaign.title,
            "status": signup.status,
            "answers": answers_read(signup),
            "channel": signup.channel,
            "status_reason": signup.status_reason,
            "attended_at": signup.attended_at.isoformat() if signup.attended_at else None,
            "created_at": signup.created_at.isoformat(),
        }
        for signup in Signup.objects.filter(member_id=member_id).select_related("campaign").order_by("id")
    ]


def signups_erase(member_id: int) -> dict[str, int]:
    """Keep each sign-up as an anonymous fact (its status, campaign, channel and attendance keep the
    campaign's counts right) and clear what describes the person: the answers, client signals and
    the free-text reasons and notes."""
    changed = Signup.objects.filter(member_id=member_id).update(
        answers_encrypted="", client_ip_hash="", device_id_hash="", user_agent="",
        status_reason="", status_note="", utm_source="", utm_medium="", utm_campaign="",
    )  # fmt: skip
    return {"signups": changed}


def holdings_register() -> None:
    """Declare what campaigns holds (CampaignsConfig.ready)."""
    from django.conf import settings
    from django.utils.translation import gettext_lazy as _

    from yunying.core.registry import PersonalDataHolding, personal_data_register

    personal_data_register(PersonalDataHolding(
        key="campaigns.signups", label=_("Your event sign-ups, the answers on their forms, and your attendance"),
        purpose=_("To run the events you signed up for: seats, lotteries, check-in and prizes"),
        retention=_("Your device and network signals are cleared after %(days)s days; the sign-ups stay while you are a member, and as anonymous counts after you delete your account") % {"days": settings.CLIENT_DATA_RETENTION_DAYS},
        shared_with=(_("Courier (name, phone and address, when a prize you won is sent to you)"),
                     _("SMS provider (notices about your sign-up)")),
        export=signups_export, erase=signups_erase,
    ))  # fmt: skip
