"""Quote a cart for a member now (P7): load what could apply, run the pure engine, sign the result.

A quote writes nothing and locks nothing. It reads in a fixed number of queries whatever the cart
and the number of promotions: the live promotions, the member's usable coupons, the budgets they
spend from, the member's level. The answer carries a signed token (django.core.signing, salted,
time-stamped) of what it applied; the order that follows sends it back (POST /orders `quote`) and
promotions.redemption takes exactly that — or refuses the order when a limit or budget ran out since.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db.models import F, Q
from django.utils import timezone

from yunying.promotions import engine
from yunying.promotions.models import (
    COUPON_KINDS,
    Budget,
    BudgetScope,
    Coupon,
    CouponState,
    Promotion,
    PromotionState,
)
from yunying.promotions.terms import offer_of

QUOTE_SALT = "yunying.promotions.quote"
TOKEN_VERSION = 1


@dataclass(frozen=True)
class QuoteLine:
    sku: str
    category: str
    unit_price_fen: int
    quantity: int


@dataclass(frozen=True)
class QuoteResult:
    quote: engine.Quote
    token: str
    member_id: int | None
    quoted_at: datetime
    expires_at: datetime
    promotions: dict[int, Promotion]  # every promotion named in the quote, for names and kinds
    unavailable: tuple[int, ...]  # chosen coupon ids that are not the member's usable coupons


def live_promotions(now: datetime):
    """Automatic promotions running now (coupon templates apply through coupons)."""
    return (
        Promotion.objects.filter(state=PromotionState.ACTIVE, starts_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .exclude(kind__in=COUPON_KINDS)
        .order_by("pk")
    )


def usable_coupons(member_id: int, now: datetime):
    """The member's coupons usable now, the one ending first first (the suggestion's tie rule)."""
    return (
        Coupon.objects.filter(member_id=member_id, state=CouponState.AVAILABLE, valid_from__lte=now)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .select_related("promotion")
        .order_by(F("valid_until").asc(nulls_last=True), "pk")
    )


def budgets_for(promotions: Sequence[Promotion], channel: str) -> list[Budget]:
    """The budgets these promotions spend from: their own, their campaigns', the channel's."""
    campaign_ids = {p.campaign_id for p in promotions if p.campaign_id}
    query = Q(scope=BudgetScope.PROMOTION, promotion_id__in=[p.pk for p in promotions])
    if campaign_ids:
        query |= Q(scope=BudgetScope.CAMPAIGN, campaign_id__in=campaign_ids)
    if channel:
        query |= Q(scope=BudgetScope.CHANNEL, channel=channel)
    return list(Budget.objects.filter(query))


def budget_keys_of(promotion: Promotion, channel: str) -> tuple[str, ...]:
    keys = [f"promotion:{promotion.pk}"]
    if promotion.campaign_id:
        keys.append(f"campaign:{promotion.campaign_id}")
    if channel:
        keys.append(f"channel:{channel}")
    return tuple(keys)


def _level(member_id: int | None) -> tuple[int, int]:
    """(tier rank, level discount permille) of the member; a guest is rank 0 at full price."""
    if member_id is None:
        return 0, 1000
    from yunying.loyalty.tiers import member_level

    level = member_level(member_id)
    return level.rank, level.discount_permille or 1000


def quote_cart(
    *,
    member_id: int | None,
    lines: Sequence[QuoteLine],
    channel: str = "",
    coupon_ids: Sequence[int] = (),
    shipping_fen: int = 0,
    now: datetime | None = None,
) -> QuoteResult:
    """What the cart costs this member now, and why; `coupon_ids` are the coupons the member chose
    (none: the best are suggested). Lines are numbered 1.. in the order given."""
    now = now or timezone.now()
    promotions = list(live_promotions(now))
    coupons = list(usable_coupons(member_id, now)) if member_id is not None else []
    everything = promotions + [coupon.promotion for coupon in coupons]
    budgets = budgets_for(everything, channel)
    rank, level_permille = _level(member_id)
    cart = engine.Cart(
        lines=tuple(
            engine.CartLine(number, line.sku, line.category, line.unit_price_fen, line.quantity)
            for number, line in enumerate(lines, start=1)
        ),
        channel=channel,
        tier_rank=rank,
        shipping_fen=shipping_fen,
        budgets_left={budget.key: budget.left_fen for budget in budgets},
    )
    offers = [
        offer_of(p, budget_keys=budget_keys_of(p, channel), level_permille=level_permille) for p in promotions
    ]
    by_id = {coupon.pk: coupon for coupon in coupons}
    chosen_ids = list(dict.fromkeys(coupon_ids))  # repeats count once
    coupon_offers = {
        coupon.pk: offer_of(
            coupon.promotion,
            budget_keys=budget_keys_of(coupon.promotion, channel),
            coupon_id=coupon.pk,
            level_permille=level_permille,
        )
        for coupon in coupons
    }
    chosen = [coupon_offers[pk] for pk in chosen_ids if pk in by_id]
    candidates = [] if chosen_ids else list(coupon_offers.values())
    result = engine.quote(cart, offers, chosen, candidates)
    expires_at = now + timedelta(seconds=settings.PROMOTIONS_QUOTE_TTL)
    return QuoteResult(
        quote=result,
        token=_sign(result, cart, member_id, now),
        member_id=member_id,
        quoted_at=now,
        expires_at=expires_at,
        promotions={p.pk: p for p in everything},
        unavailable=tuple(pk for pk in chosen_ids if pk not in by_id),
    )


# -- the token --------------------------------------------------------------------------------------
def _sign(result: engine.Quote, cart: engine.Cart, member_id: int | None, now: datetime) -> str:
    paid = {line.line_no: line.paid_fen for line in result.lines}
    payload = {
        "v": TOKEN_VERSION,
        "m": member_id,
        "ch": cart.channel,
        "at": int(now.timestamp()),
        "l": [
            [line.sku, line.category, line.unit_price_fen, line.quantity, paid[line.line_no]]
            for line in cart.lines
        ],
        "a": [
            [
                applied.key,
                applied.promotion_id,
                applied.coupon_id,
                applied.amount_fen,
                applied.shipping_fen,
                [list(pair) for pair in applied.lines],
                applied.gift_sku,
                applied.gift_quantity,
            ]
            for applied in result.applied
        ],
    }
    return signing.dumps(payload, salt=QUOTE_SALT, compress=True)


@dataclass(frozen=True)
class SignedApplied:
    key: str
    promotion_id: int
    coupon_id: int | None
    amount_fen: int
    shipping_fen: int
    lines: tuple[tuple[int, int], ...]
    gift_sku: str
    gift_quantity: int


@dataclass(frozen=True)
class SignedQuote:
    member_id: int | None
    channel: str
    quoted_at: datetime
    lines: tuple[tuple[str, str, int, int, int], ...]  # sku, category, unit, quantity, paid
    applied: tuple[SignedApplied, ...]


class TokenExpired(Exception):
    pass


class TokenInvalid(Exception):
    pass


def token_read(token: str) -> SignedQuote:
    """The quote a token carries. Raises TokenExpired, TokenInvalid (not ours, or tampered)."""
    try:
        payload = signing.loads(token, salt=QUOTE_SALT, max_age=settings.PROMOTIONS_QUOTE_TTL)
    except signing.SignatureExpired as error:
        raise TokenExpired from error
    except signing.BadSignature as error:
        raise TokenInvalid from error
    if not isinstance(payload, dict) or payload.get("v") != TOKEN_VERSION:
        raise TokenInvalid
    return SignedQuote(
        member_id=payload["m"],
        channel=payload["ch"],
        quoted_at=datetime.fromtimestamp(payload["at"], tz=UTC),
        lines=tuple(tuple(line) for line in payload["l"]),
        applied=tuple(
            SignedApplied(key, pid, cid, amount, shipping, tuple(tuple(p) for p in lines), gift, qty)
            for key, pid, cid, amount, shipping, lines, gift, qty in payload["a"]
        ),
    )


def quote_preview(
    *,
    promotion: Promotion,
    lines: Sequence[QuoteLine],
    channel: str = "",
    tier_rank: int = 0,
    level_permille: int = 1000,
    now: datetime | None = None,
) -> engine.Quote:
    """The console editor's live preview: a sample cart priced with the running promotions and the
    one being edited (saved or not, any state) in place of its saved version; a coupon template as
    if the member had chosen one of its coupons. Reads the live promotions and budgets; writes nothing."""
    now = now or timezone.now()
    running = [p for p in live_promotions(now) if p.pk != promotion.pk]
    budgets = budgets_for([*running, promotion] if promotion.pk else running, channel)
    cart = engine.Cart(
        lines=tuple(
            engine.CartLine(number, line.sku, line.category, line.unit_price_fen, line.quantity)
            for number, line in enumerate(lines, start=1)
        ),
        channel=channel,
        tier_rank=tier_rank,
        budgets_left={budget.key: budget.left_fen for budget in budgets},
    )
    offers = [
        offer_of(p, budget_keys=budget_keys_of(p, channel), level_permille=level_permille) for p in running
    ]
    draft = offer_of(
        promotion,
        budget_keys=budget_keys_of(promotion, channel) if promotion.pk else (),
        coupon_id=0 if promotion.is_coupon else None,
        level_permille=level_permille,
    )
    if promotion.is_coupon:
        return engine.quote(cart, offers, [draft])
    return engine.quote(cart, [*offers, draft])
