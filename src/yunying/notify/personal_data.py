"""The messages notify sent (or will send) to a member, for the member's export and erasure (PIPL
arts. 45, 47). The recipient address is never stored here (resolved at delivery time); a message's
context may carry the member's name or a campaign's detail, so an erasure clears it."""

from __future__ import annotations

from yunying.notify.models import OutboxMessage, OutboxStatus


def messages_export(member_id: int) -> list[dict]:
    return [
        {"template": m.template, "channel": m.channel, "status": m.status,
         "created_at": m.created_at.isoformat(), "sent_at": m.sent_at.isoformat() if m.sent_at else None}
        for m in OutboxMessage.objects.filter(member_id=member_id).order_by("id")
    ]  # fmt: skip


def messages_erase(member_id: int) -> dict[str, int]:
    """Messages not yet sent are cancelled (nobody to send them to); every message's context goes."""
    mine = OutboxMessage.objects.filter(member_id=member_id)
    cancelled = mine.filter(status=OutboxStatus.PENDING).update(status=OutboxStatus.CANCELLED)
    cleared = mine.update(context={}, last_error="")
    return {"messages_cancelled": cancelled, "messages_cleared": cleared}


def holdings_register() -> None:
    """Declare what notify holds (NotifyConfig.ready)."""
    from django.utils.translation import gettext_lazy as _

    from yunying.core.registry import PersonalDataHolding, personal_data_register

    personal_data_register(PersonalDataHolding(
        key="notify.messages", label=_("Messages we sent you (SMS, e-mail)"),
        purpose=_("To tell you about your sign-ups, orders, points and, if you agreed, offers"),
        retention=_("As long as you are a member; their content is cleared when you delete your account"),
        shared_with=(_("SMS provider"), _("E-mail provider")),
        export=messages_export, erase=messages_erase,
    ))  # fmt: skip
