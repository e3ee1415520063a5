"""Stand-ins for external providers, plugged in through settings.NOTIFY_CHANNELS (never our own code)."""

from __future__ import annotations

from yunying.notify.channels import Channel, DeliveryError, FileChannel, RenderedMessage
from yunying.notify.models import OutboxMessage
from yunying.notify.services import outbox_cancel, outbox_enqueue

HERE = "tests.notify.helpers"


class DownChannel(Channel):
    """A provider that times out on every call: worth retrying."""

    def send(self, message: RenderedMessage) -> str:
        raise DeliveryError("provider timed out")


class BrokenChannel(Channel):
    """A provider SDK raising its own exception type instead of DeliveryError."""

    def send(self, message: RenderedMessage) -> str:
        raise ConnectionResetError("connection reset by peer")


class WorkerKilled(BaseException):
    """The worker process dies mid-send (SIGKILL, OOM): nothing after the provider call runs."""


class DyingChannel(Channel):
    def send(self, message: RenderedMessage) -> str:
        raise WorkerKilled


class CancellingChannel(FileChannel):
    """While the provider call is in flight, the message's sign-up is withdrawn (its messages cancelled)."""

    def send(self, message: RenderedMessage) -> str:
        ref = OutboxMessage.objects.values_list("ref", flat=True).get(pk=message.message_id)
        outbox_cancel(refs=[ref])
        return super().send(message)


def queue(
    member_id: int, *, channels=("sms",), template="signup_confirmed", ref="signup:1", **kwargs
) -> None:
    """Enqueue one message the way the campaign services do."""
    kwargs.setdefault("context", {"campaign": "春季新品试用会", "event_start": "2030-05-01 14:00"})
    outbox_enqueue(member_id=member_id, channels=list(channels), template=template, ref=ref, **kwargs)
