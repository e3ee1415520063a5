"""Order ingest as risk control sees it (order brushing, 刷单): every live order the storefront reports
is judged — a ring of accounts sharing payers and addresses, chains of tiny first orders. Orders are
facts, so nothing is refused: a suspicious one is recorded, queued for a person and labelled.
Imported history is skipped (it is not a member acting now, and an import of 100,000 rows must
stay fast)."""

from __future__ import annotations

from yunying.commerce.events import OrderFact, OrderFactKind
from yunying.members.services import member_risk_refs


def on_order_fact(fact: OrderFact) -> None:
    """Runs inside the transaction that records the order (commerce.events); risk_assess uses a
    savepoint and never raises, so judging an order can never refuse or roll it back."""
    if fact.kind != OrderFactKind.RECORDED or fact.source != "api":
        return
    from yunying.risk.services import risk_assess  # the services bring the metrics: imported late
    from yunying.risk.signals import Entry, RiskInput

    member_ref = member_risk_refs([fact.member_id]).get(fact.member_id, "")
    risk_assess(
        RiskInput(
            entry=Entry.ORDER_INGEST,
            subject_type="order",
            subject_ref=str(fact.order_id),
            member_ref=member_ref,
            amount_fen=fact.amount_fen,
            at=None,
        )
    )
