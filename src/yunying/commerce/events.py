"""Order events other apps react to (loyalty points, segments): "recorded", "refunded", "cancelled".

Apps subscribe from their AppConfig.ready() (commerce imports no app above it). Handlers run inside
the transaction that records the fact, so a ledger row they write (points) commits or rolls back with
it; anything that leaves the database (a message, a cache) belongs in transaction.on_commit. A replay
(the same order or refund sent again) records nothing and calls no handler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class OrderFactKind(StrEnum):
    RECORDED = "recorded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class OrderFact:
    kind: OrderFactKind
    order_id: int
    member_id: int
    amount_fen: int  # recorded: the order's total; refunded: this refund; cancelled: the total
    at: datetime  # paid_at for recorded, occurred_at for the others
    event_id: int | None = None  # the OrderEvent, for refunds and cancellations
    source: str = "api"  # api | import: an imported history file is not a live order (risk control skips it)


OrderHandler = Callable[[OrderFact], None]

_handlers: dict[str, OrderHandler] = {}


def order_subscribe(name: str, handler: OrderHandler) -> None:
    """Call `handler(fact)` for every new order fact; subscribing twice under one name replaces."""
    _handlers[name] = handler


def order_unsubscribe(name: str) -> None:
    _handlers.pop(name, None)


def order_publish(fact: OrderFact) -> None:
    """Called by commerce.services inside the recording transaction."""
    for handler in list(_handlers.values()):
        handler(fact)
