"""What a promotion may say, checked before it is saved, and how it becomes an engine Offer.

`promotion_validate(raw)` takes the console's (or a test's) values — numbers as ints or ASCII-digit
text, money in fen — and returns a PromotionSpec or every failing field with a message that says what
is wrong. Pure: no database. `yuan_to_fen` reads money as operators type it ("199.5" → 19950).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from django.utils.translation import gettext_lazy as _

from yunying.core.errors import FieldError
from yunying.core.numbers import ascii_digits
from yunying.promotions.engine import Kind, Layer, Offer, Scope
from yunying.promotions.errors import PromotionError
from yunying.promotions.models import COUPON_KINDS, CouponIssuer, IssueEvent, PromotionKind

MAX_FEN = 10_000_000_000  # 100 million yuan: beyond it a unit mistake, as for orders
MAX_STEPS = 10
MAX_LIST = 500  # skus or categories in a scope
NAME_MAX = 100
_CODE_TEXT = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")  # a sku or category: one line, 64 at most
_CHANNEL = re.compile(r"^[a-z0-9_-]{1,20}$")

LADDER_KINDS = frozenset({PromotionKind.SPEND_OFF, PromotionKind.SPEND_PERCENT, PromotionKind.ITEMS_PERCENT})
GIFT_KINDS = frozenset({PromotionKind.GIFT, PromotionKind.COUPON_GIFT})


def yuan_to_fen(text: Any) -> int | None:
    """ "199.5" or "199.50" or "199" yuan → 19950 fen; None for anything else (negative, 3 decimals,
    not a number, Unicode digits)."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text * 100 if text >= 0 else None
    if not isinstance(text, str):
        return None
    text = text.strip().replace("¥", "").replace(",", "")
    if not text or not text.isascii() or not re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", text):
        return None
    try:
        return int(Decimal(text) * 100)
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class PromotionSpec:
    name: str
    kind: str
    starts_at: datetime
    ends_at: datetime | None
    scope: dict
    terms: dict
    channels: list[str] = field(default_factory=list)
    priority: int = 0
    exclusive: bool = False
    not_with: list[int] = field(default_factory=list)
    campaign_id: int | None = None
    use_limit: int | None = None
    issuer: str = CouponIssuer.SHOP
    claimable: bool = False
    issue_limit: int | None = None
    per_member_limit: int = 1
    valid_days: int | None = None
    coupon_valid_from: datetime | None = None
    coupon_valid_until: datetime | None = None
    issue_on: list[str] = field(default_factory=list)
    points_price: int | None = None


class _Checker:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, name: str, message) -> None:
        self.errors.append(FieldError(name, PromotionError.TERMS_INVALID, message))

    def integer(
        self, raw: Mapping, name: str, *, minimum: int = 0, maximum: int = MAX_FEN, required: bool = True
    ) -> int | None:
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(name, _("Required."))
            return None
        if isinstance(value, str) and ascii_digits(value.strip()):
            if len(value.strip()) > 19:  # past any bound here; int() of 4,300+ digits raises ValueError
                self.fail(
                    name,
                    _("Must be from %(minimum)s to %(maximum)s.") % {"minimum": minimum, "maximum": maximum},
                )
                return None
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, _("Must be a whole number."))
            return None
        if not minimum <= value <= maximum:
            self.fail(
                name, _("Must be from %(minimum)s to %(maximum)s.") % {"minimum": minimum, "maximum": maximum}
            )
            return None
        return value

    def permille(self, raw: Mapping, name: str, *, allow_zero: bool = False) -> int | None:
        """A discount as permille of the price: 850 is 8.5折 (15% off); 1..999."""
        return self.integer(raw, name, minimum=0 if allow_zero else 1, maximum=999)

    def texts(self, raw: Mapping, name: str) -> list[str]:
        value = raw.get(name) or []
        if isinstance(value, str):
            value = [part for part in re.split(r"[,，;；\s]+", value) if part]
        if not isinstance(value, list | tuple) or len(value) > MAX_LIST:
            self.fail(name, _("At most %(count)s entries.") % {"count": MAX_LIST})
            return []
        items: list[str] = []
        for item in value:
            if not isinstance(item, str) or not _CODE_TEXT.match(item.strip()):
                self.fail(name, _("Each entry is one line of at most 64 characters."))
                return []
            if item.strip() not in items:
                items.append(item.strip())
        return items


def _steps(check: _Checker, raw: Mapping, kind: str) -> list[list[int]]:
    """A ladder: thresholds rising, each step worth more than the one below (checked for operators:
    a ladder that gives less for spending more is a typing mistake)."""
    value = raw.get("steps")
    if not isinstance(value, list | tuple) or not value:
        check.fail("steps", _("Add at least one step."))
        return []
    if len(value) > MAX_STEPS:
        check.fail("steps", _("At most %(count)s steps.") % {"count": MAX_STEPS})
        return []
    steps: list[list[int]] = []
    for index, step in enumerate(value):
        if not isinstance(step, list | tuple) or len(step) != 2:
            check.fail(f"steps.{index}", _("Each step is a threshold and a value."))
            return []
        pair = {"threshold": step[0], "value": step[1]}
        if kind == PromotionKind.ITEMS_PERCENT:
            threshold = check.integer(pair, "threshold", minimum=1, maximum=10_000)
        else:
            threshold = check.integer(pair, "threshold", minimum=1)
        if kind == PromotionKind.SPEND_OFF:
            amount = check.integer(pair, "value", minimum=1)
        else:
            amount = check.permille(pair, "value")
        if threshold is None or amount is None:
            check.errors[-1]["field"] = f"steps.{index}"
            return []
        steps.append([threshold, amount])
    steps.sort()
    for lower, higher in pairwise(steps):
        if lower[0] == higher[0]:
            check.fail("steps", _("Two steps have the same threshold."))
            return []
        worse = higher[1] <= lower[1] if kind == PromotionKind.SPEND_OFF else higher[1] >= lower[1]
        if worse:
            check.fail("steps", _("A higher step must give more off than the one below it."))
            return []
    if kind == PromotionKind.SPEND_OFF:
        for threshold, off in steps:
            if off >= threshold:
                check.fail("steps", _("The amount off must be less than its threshold."))
                return []
    return steps


def _terms(check: _Checker, kind: str, raw: Mapping) -> dict:
    terms: dict[str, Any] = {}
    rank = check.integer(raw, "min_tier_rank", minimum=0, maximum=100, required=False)
    if rank:
        terms["min_tier_rank"] = rank
    if kind == PromotionKind.SPECIAL_PRICE:
        terms["price_fen"] = check.integer(raw, "price_fen", minimum=1)
    elif kind == PromotionKind.MEMBER_PRICE:
        # 0: the member's level's own discount (loyalty tiers); otherwise this permille for everyone
        # at min_tier_rank or above.
        terms["permille"] = check.permille(raw, "permille", allow_zero=True)
    elif kind in LADDER_KINDS:
        terms["steps"] = _steps(check, raw, kind)
        if kind == PromotionKind.SPEND_OFF:
            terms["repeat"] = bool(raw.get("repeat"))
            terms["cap_fen"] = check.integer(raw, "cap_fen", required=False) or 0
            if terms["repeat"] and len(terms["steps"]) > 1:
                check.fail("repeat", _("An offer repeated per threshold takes exactly one step."))
    else:
        terms["threshold_fen"] = check.integer(raw, "threshold_fen", required=False) or 0
    if kind == PromotionKind.COUPON_OFF:
        terms["off_fen"] = check.integer(raw, "off_fen", minimum=1)
        if terms["off_fen"] and terms["threshold_fen"] and terms["off_fen"] >= terms["threshold_fen"]:
            check.fail("off_fen", _("The amount off must be less than the threshold."))
    elif kind == PromotionKind.COUPON_PERCENT:
        terms["permille"] = check.permille(raw, "permille")
        terms["cap_fen"] = check.integer(raw, "cap_fen", required=False) or 0
    elif kind == PromotionKind.COUPON_SHIPPING:
        terms["cap_fen"] = check.integer(raw, "cap_fen", required=False) or 0
    if kind in GIFT_KINDS:
        gift = raw.get("gift_sku")
        if not isinstance(gift, str) or not _CODE_TEXT.match(gift.strip()):
            check.fail("gift_sku", _("Name the gift's SKU."))
        else:
            terms["gift_sku"] = gift.strip()
        terms["gift_quantity"] = check.integer(raw, "gift_quantity", minimum=1, maximum=100)
    return terms


def promotion_validate(raw: Mapping[str, Any]) -> tuple[PromotionSpec | None, list[FieldError]]:
    """The checked promotion, or None and every failing field. `raw` keys are PromotionSpec's, with
    the kind's terms at the top level (price_fen, permille, steps, repeat, cap_fen, threshold_fen,
    off_fen, gift_sku, gift_quantity, min_tier_rank) and the scope's (skus, categories,
    exclude_skus, exclude_categories)."""
    check = _Checker()
    name = str(raw.get("name") or "").strip()
    if not name or len(name) > NAME_MAX:
        check.fail(
            "name", _("Give the promotion a name of at most %(count)s characters.") % {"count": NAME_MAX}
        )
    kind = raw.get("kind")
    if kind not in PromotionKind.values:
        check.fail("kind", _("Choose a kind of promotion."))
        return None, check.errors
    starts_at = raw.get("starts_at")
    ends_at = raw.get("ends_at")
    if not isinstance(starts_at, datetime):
        check.fail("starts_at", _("Required."))
    if ends_at is not None and not isinstance(ends_at, datetime):
        check.fail("ends_at", _("Not a date and time."))
    elif isinstance(starts_at, datetime) and ends_at is not None and ends_at <= starts_at:
        check.fail("ends_at", _("The end must come after the start."))
    terms = _terms(check, kind, raw)
    scope = {
        key: check.texts(raw, key) for key in ("skus", "categories", "exclude_skus", "exclude_categories")
    }
    if kind == PromotionKind.SPECIAL_PRICE and not (scope["skus"] or scope["categories"]):
        # A limited-time price is for named items: without them it priced every line of every cart
        # at it (a ¥10 TV; new-user review).
        check.fail("skus", _("Name the SKUs or categories the price is for."))
    channels = check.texts(raw, "channels")
    for channel in channels:
        if not _CHANNEL.match(channel):
            check.fail("channels", _("A channel is 1-20 of a-z, 0-9, _ and -."))
            break
    not_with = raw.get("not_with") or []
    if not isinstance(not_with, list | tuple) or any(
        str(layer) not in {"1", "2", "3", "4"} for layer in not_with
    ):
        check.fail("not_with", _("Choose layers from the list."))
        not_with = []
    priority = check.integer(raw, "priority", minimum=0, maximum=1000, required=False) or 0
    campaign_id = check.integer(raw, "campaign_id", minimum=1, maximum=2**63 - 1, required=False)
    use_limit = check.integer(raw, "use_limit", minimum=1, maximum=100_000_000, required=False)
    coupon = kind in COUPON_KINDS
    issuer = raw.get("issuer") or CouponIssuer.SHOP
    if issuer not in CouponIssuer.values:
        check.fail("issuer", _("Choose shop or platform."))
    issue_on = [event for event in (raw.get("issue_on") or []) if event]
    if any(event not in IssueEvent.values for event in issue_on):
        check.fail("issue_on", _("Choose events from the list."))
    valid_days = check.integer(raw, "valid_days", minimum=1, maximum=3650, required=False)
    valid_from, valid_until = raw.get("coupon_valid_from"), raw.get("coupon_valid_until")
    if coupon and valid_days is None and not isinstance(valid_until, datetime):
        check.fail("valid_days", _("Say how long a coupon is valid: a number of days, or an end date."))
    if isinstance(valid_from, datetime) and isinstance(valid_until, datetime) and valid_until <= valid_from:
        check.fail("coupon_valid_until", _("The end must come after the start."))
    spec = PromotionSpec(
        name=name,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        scope={key: value for key, value in scope.items() if value},
        terms=terms,
        channels=channels,
        priority=priority,
        exclusive=bool(raw.get("exclusive")),
        not_with=sorted({int(layer) for layer in not_with}),
        campaign_id=campaign_id,
        use_limit=use_limit,
        issuer=issuer if coupon else CouponIssuer.SHOP,
        claimable=coupon and bool(raw.get("claimable")),
        issue_limit=check.integer(raw, "issue_limit", minimum=1, maximum=100_000_000, required=False)
        if coupon
        else None,
        per_member_limit=(
            check.integer(raw, "per_member_limit", minimum=1, maximum=100, required=False) or 1
        ),
        valid_days=valid_days if coupon else None,
        coupon_valid_from=valid_from if coupon and isinstance(valid_from, datetime) else None,
        coupon_valid_until=valid_until if coupon and isinstance(valid_until, datetime) else None,
        issue_on=issue_on if coupon else [],
        points_price=check.integer(raw, "points_price", minimum=1, maximum=10_000_000, required=False)
        if coupon
        else None,
    )
    return (None, check.errors) if check.errors else (spec, [])


# -- to the engine ----------------------------------------------------------------------------------
_LAYER = {
    PromotionKind.SPECIAL_PRICE: Layer.ITEM,
    PromotionKind.MEMBER_PRICE: Layer.ITEM,
    PromotionKind.SPEND_OFF: Layer.SHOP,
    PromotionKind.SPEND_PERCENT: Layer.SHOP,
    PromotionKind.ITEMS_PERCENT: Layer.SHOP,
    PromotionKind.GIFT: Layer.SHOP,
}


def layer_of(kind: str, issuer: str) -> Layer:
    if kind in COUPON_KINDS:
        return Layer.PLATFORM_COUPON if issuer == CouponIssuer.PLATFORM else Layer.SHOP_COUPON
    return _LAYER[PromotionKind(kind)]


def scope_of(scope: Mapping) -> Scope:
    return Scope(
        skus=frozenset(scope.get("skus", ())),
        categories=frozenset(scope.get("categories", ())),
        exclude_skus=frozenset(scope.get("exclude_skus", ())),
        exclude_categories=frozenset(scope.get("exclude_categories", ())),
    )


def offer_of(
    promotion,
    *,
    budget_keys: tuple[str, ...] = (),
    coupon_id: int | None = None,
    level_permille: int = 1000,
) -> Offer:
    """The engine's view of a saved promotion (or of one member's coupon of it). `level_permille`:
    the member's level discount, for member prices that use it (permille 0)."""
    terms = promotion.terms
    kind = Kind(promotion.kind)
    permille = terms.get("permille", 1000)
    if kind == Kind.MEMBER_PRICE and not permille:
        permille = level_permille
    steps = tuple(tuple(step) for step in terms.get("steps", ()))
    if kind == Kind.GIFT:
        steps = ((terms.get("threshold_fen", 0), 0),)
    uses_left = None if promotion.use_limit is None else promotion.use_limit - promotion.used_count
    return Offer(
        key=f"c{coupon_id}" if coupon_id is not None else f"p{promotion.pk or 0}",
        promotion_id=promotion.pk or 0,  # 0: an unsaved promotion (the editor's preview)
        kind=kind,
        layer=layer_of(promotion.kind, promotion.issuer),
        scope=scope_of(promotion.scope),
        coupon_id=coupon_id,
        priority=promotion.priority,
        exclusive=promotion.exclusive,
        not_with=frozenset(Layer(layer) for layer in promotion.not_with),
        price_fen=terms.get("price_fen", 0),
        permille=permille,
        min_tier_rank=terms.get("min_tier_rank", 0),
        steps=steps,
        repeat=terms.get("repeat", False),
        threshold_fen=terms.get("threshold_fen", 0),
        off_fen=terms.get("off_fen", 0),
        cap_fen=terms.get("cap_fen", 0),
        gift_sku=terms.get("gift_sku", ""),
        gift_quantity=terms.get("gift_quantity", 0),
        channels=frozenset(promotion.channels),
        budget_keys=budget_keys,
        uses_left=uses_left,
    )
