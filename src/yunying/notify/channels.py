"""Delivery channels (N1). A channel sends one rendered message and returns the provider's id.

Raise DeliveryError for a failure: `permanent=True` when retrying cannot help (no address), else the
worker retries with backoff. SMS and push ship as a file channel (JSON lines) to stand in for a
provider; a deployment plugs its own class in through settings.NOTIFY_CHANNELS.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class RenderedMessage:
    message_id: int
    channel: str
    address: str | None  # phone (E.164), e-mail or device token; resolved at delivery time
    subject: str
    body: str


class DeliveryError(Exception):
    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Channel:
    name: str = ""

    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, message: RenderedMessage) -> str:
        raise NotImplementedError


class EmailChannel(Channel):
    def send(self, message: RenderedMessage) -> str:
        if not message.address:
            raise DeliveryError("member has no e-mail address", permanent=True)
        provider_id = f"<{uuid.uuid4()}@yunying>"
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            to=[a.strip() for a in message.address.split(",")],  # the operations team: several
            headers={"Message-ID": provider_id},
        )
        email.send(fail_silently=False)
        return provider_id


class FileChannel(Channel):
    """Appends each message as a JSON line to NOTIFY_FILE_DIR/<channel>.jsonl."""

    def send(self, message: RenderedMessage) -> str:
        if not message.address:
            raise DeliveryError(f"member has no {self.name} address", permanent=True)
        directory = Path(settings.NOTIFY_FILE_DIR)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        provider_id = str(uuid.uuid4())
        # 0600 whatever the umask: each line holds a phone number and a message to it.
        descriptor = os.open(directory / f"{self.name}.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"provider_id": provider_id, **asdict(message)}, ensure_ascii=False) + "\n")
        return provider_id


def channel_get(name: str) -> Channel:
    path = settings.NOTIFY_CHANNELS.get(name)
    if path is None:
        raise DeliveryError(f"no channel configured for {name!r}", permanent=True)
    return import_string(path)(name)
