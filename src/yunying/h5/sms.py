"""Delivering a sign-in code through notify's SMS channel (settings.NOTIFY_CHANNELS["sms"]).

Sent at once, not through the outbox: the outbox stores what it sends, and a code must never be
stored in clear. In development the SMS channel is the file channel: the code lands as one JSON line
in NOTIFY_FILE_DIR/sms.jsonl (var/outbox/sms.jsonl under `make run`), readable by the user running it.
"""

from __future__ import annotations

from django.utils.translation import gettext

from yunying.members.signin import CODE_VALID
from yunying.notify.channels import RenderedMessage, channel_get


def sms_code_deliver(e164: str, code: str) -> None:
    """Send `code` to `e164` in the current language. Raises whatever the channel raises."""
    minutes = int(CODE_VALID.total_seconds() // 60)
    body = gettext("Yunying sign-in code: %(code)s, valid for %(minutes)s minutes. Do not share it.") % {
        "code": code,
        "minutes": minutes,
    }
    message = RenderedMessage(
        message_id=0, channel="sms", address=e164, subject=gettext("Sign-in code"), body=body
    )
    channel_get("sms").send(message)
