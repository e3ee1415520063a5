"""Coupons handed out on events (P1): registration, first order, a confirmed campaign sign-up, a tier
upgrade. Each template that lists the event gives the member one coupon, once per member and event
(its source_ref), inside the transaction that records the event — a rolled-back sign-up takes its
coupon with it. A template out of coupons, or a member holding their limit, is skipped, never a
reason to refuse the event itself."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from yunying.commerce.events import OrderFact, OrderFactKind
from yunying.commerce.models import Order, OrderStatus
from yunying.core.activity import Activity, ActivityKind
from yunying.core.errors import DomainError
from yunying.core.permissions import Actor
from yunying.promotions.event_templates import event_templates
from yunying.promotions.models import CouponSource, IssueEvent
from yunying.promotions.services import coupon_issue

logger = logging.getLogger(__name__)
SYSTEM = Actor(kind="system", id=None, label="promotions.issuing")

_EVENT_OF = {
    ActivityKind.MEMBER_REGISTERED: IssueEvent.REGISTRATION,
    ActivityKind.SIGNUP_CONFIRMED: IssueEvent.SIGNUP,
    ActivityKind.TIER_UPGRADED: IssueEvent.TIER_UPGRADE,
}


def on_activity(activity: Activity) -> None:
    event = _EVENT_OF.get(activity.kind)
    if event is None:
        return
    campaign_id = activity.data.get("campaign_id")
    ref = f"event:{event}"
    if event == IssueEvent.SIGNUP:
        ref = f"event:signup:{campaign_id}"  # one per campaign signed up for
    elif event == IssueEvent.TIER_UPGRADE:
        ref = f"event:tier:{activity.data.get('rank')}"  # one per level reached
    issue_on_event(event, activity.member_id, ref=ref, campaign_id=campaign_id)


def on_order(fact: OrderFact) -> None:
    """A member's first order (not counting cancelled ones) gives the first-order coupons."""
    if fact.kind != OrderFactKind.RECORDED:
        return
    orders = Order.objects.filter(member_id=fact.member_id).exclude(status=OrderStatus.CANCELLED).count()
    if orders == 1:
        issue_on_event(IssueEvent.FIRST_ORDER, fact.member_id, ref="event:first_order")


def issue_on_event(event: str, member_id: int, *, ref: str, campaign_id: int | None = None) -> int:
    """Issue every running template that lists `event`; returns how many coupons were issued."""
    now = timezone.now()
    templates = [
        template["pk"]
        for template in event_templates()
        if event in template["issue_on"]
        and template["starts_at"] <= now
        and (template["ends_at"] is None or now < template["ends_at"])
        and (event != IssueEvent.SIGNUP or template["campaign_id"] in (None, campaign_id))
    ]
    issued = 0
    for template_id in templates:
        try:
            with transaction.atomic():
                result = coupon_issue(
                    promotion_id=template_id,
                    member_id=member_id,
                    source=CouponSource.EVENT,
                    source_ref=ref,
                    actor=SYSTEM,
                    now=now,
                )
        except DomainError as error:
            logger.info("coupon not issued on %s: %s", event, error.code, extra={"promotion_id": template_id})
            continue
        issued += 0 if result.replayed else 1
    return issued
