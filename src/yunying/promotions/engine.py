"""The price of a cart for one member now, and why: the pure promotions engine (P2, P7).

No database, no clock, no Django: a Cart and the Offers that could apply go in, a Quote comes out,
and the same inputs always give the same Quote. The quoting service (promotions.quoting) loads the
offers; redemption (promotions.redemption) takes what a quote applied when the order comes in.

The rules, with worked examples in docs/promotions.md:
1. Money is integer fen; every computed discount is rounded down to the fen. A percent discount of a
   base B is B × (1000 − permille) // 1000.
2. Layers apply in the order Chinese shoppers know: item price → shop 满减/满折 → shop coupon →
   platform coupon. An offer's base is what its lines still owe after the layers before it, so a
   threshold is checked on that amount (¥199.50 = 19950 fen does not meet 满200).
3. Item layer: per line the largest discount (the lowest price) wins.
4. Shop layer: a line joins at most one shop offer; the offer taking most off goes first.
5. Coupons: one per coupon layer (a free-shipping coupon besides).
6. An order-level discount is spread over its lines pro rata, floored, the remainder to the line that
   owes the most, never more than a line still owes: the lines sum to the discount, none goes below 0.
7. An offer past its use limit, or taking more than a budget has left, does not apply (hard stop).
8. An exclusive offer applies alone; `not_with` layers don't combine (either way round). Each
   exclusive offer alone is compared with the plan of all the others: the lowest payable wins; on a
   tie, fewer coupons, then no exclusive offer, then the lowest keys.
Ties everywhere else: higher priority, then lower promotion id, then key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from types import MappingProxyType


class Layer(IntEnum):
    ITEM = 1
    SHOP = 2
    SHOP_COUPON = 3
    PLATFORM_COUPON = 4


class Kind(StrEnum):
    SPECIAL_PRICE = "special_price"
    MEMBER_PRICE = "member_price"
    SPEND_OFF = "spend_off"
    SPEND_PERCENT = "spend_percent"
    ITEMS_PERCENT = "items_percent"
    GIFT = "gift"
    COUPON_OFF = "coupon_off"
    COUPON_PERCENT = "coupon_percent"
    COUPON_SHIPPING = "coupon_shipping"
    COUPON_GIFT = "coupon_gift"


class Reason(StrEnum):
    NOT_IN_SCOPE = "not_in_scope"
    CHANNEL = "channel"
    TIER_TOO_LOW = "tier_too_low"
    THRESHOLD_NOT_MET = "threshold_not_met"
    OUTBID = "outbid"
    ONE_PER_LAYER = "one_per_layer"
    EXCLUDED = "excluded"
    LIMIT_REACHED = "limit_reached"
    BUDGET_EXHAUSTED = "budget_exhausted"
    NOTHING_OFF = "nothing_off"


COUPON_LAYERS = (Layer.SHOP_COUPON, Layer.PLATFORM_COUPON)
_EMPTY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Scope:
    """Which lines an offer covers: all when neither skus nor categories are named; exclusions win."""

    skus: frozenset[str] = _EMPTY
    categories: frozenset[str] = _EMPTY
    exclude_skus: frozenset[str] = _EMPTY
    exclude_categories: frozenset[str] = _EMPTY

    def covers(self, sku: str, category: str) -> bool:
        if sku in self.exclude_skus or category in self.exclude_categories:
            return False
        if not self.skus and not self.categories:
            return True
        return sku in self.skus or category in self.categories


@dataclass(frozen=True)
class Offer:
    key: str  # "p12" a promotion, "c345" a member's coupon
    promotion_id: int
    kind: Kind
    layer: Layer
    scope: Scope = Scope()
    coupon_id: int | None = None
    priority: int = 0
    exclusive: bool = False
    not_with: frozenset[Layer] = frozenset()
    price_fen: int = 0
    permille: int = 1000
    min_tier_rank: int = 0
    steps: tuple[tuple[int, int], ...] = ()
    repeat: bool = False
    threshold_fen: int = 0
    off_fen: int = 0
    cap_fen: int = 0
    gift_sku: str = ""
    gift_quantity: int = 0
    channels: frozenset[str] = _EMPTY
    budget_keys: tuple[str, ...] = ()
    uses_left: int | None = None


@dataclass(frozen=True)
class CartLine:
    line_no: int
    sku: str
    category: str
    unit_price_fen: int
    quantity: int

    @property
    def list_fen(self) -> int:
        return self.unit_price_fen * self.quantity


@dataclass(frozen=True)
class Cart:
    lines: tuple[CartLine, ...]
    channel: str = ""
    tier_rank: int = 0
    shipping_fen: int = 0
    budgets_left: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class LineQuote:
    line_no: int
    list_fen: int
    discount_fen: int
    paid_fen: int
    allocations: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Applied:
    key: str
    promotion_id: int
    coupon_id: int | None
    kind: Kind
    layer: Layer
    amount_fen: int
    lines: tuple[tuple[int, int], ...]
    gift_sku: str = ""
    gift_quantity: int = 0
    shipping_fen: int = 0


@dataclass(frozen=True)
class NotApplied:
    key: str
    promotion_id: int
    coupon_id: int | None
    reason: str
    data: tuple[tuple[str, int | str], ...] = ()


@dataclass(frozen=True)
class Quote:
    lines: tuple[LineQuote, ...]
    subtotal_fen: int
    discount_fen: int
    shipping_fen: int
    shipping_discount_fen: int
    payable_fen: int
    applied: tuple[Applied, ...]
    not_applied: tuple[NotApplied, ...]
    suggestion: tuple[str, ...] = ()
    suggestion_saves_fen: int = 0


def _order(offer: Offer) -> tuple:
    """Tie order among offers of one layer: higher priority, lower promotion id, then key."""
    return (-offer.priority, offer.promotion_id, offer.key)


def _percent_off(base: int, permille: int) -> int:
    return base * (1000 - permille) // 1000


def _not_applied(offer: Offer, reason: Reason, **data: int | str) -> NotApplied:
    return NotApplied(offer.key, offer.promotion_id, offer.coupon_id, reason, tuple(sorted(data.items())))


def split(amount: int, owes: Mapping[int, int]) -> dict[int, int]:
    """Spread `amount` over lines (index → what the line still owes, sum ≥ amount) pro rata, floored;
    the remainder goes to the line owing the most (ties: lower index), and what that line cannot take
    to the next. The shares sum to `amount` and none exceeds what its line owes."""
    total = sum(owes.values())
    if amount <= 0 or total <= 0:
        return {}
    shares = {index: amount * owe // total for index, owe in owes.items()}
    rest = amount - sum(shares.values())
    for index in sorted(owes, key=lambda i: (-owes[i], i)):
        if rest == 0:
            break
        take = min(owes[index] - shares[index], rest)
        shares[index] += take
        rest -= take
    return {index: share for index, share in shares.items() if share}


class _Plan:
    """One way of applying a set of offers: what every line still owes, and what went where."""

    def __init__(self, cart: Cart, lines: tuple[CartLine, ...]) -> None:
        self.cart = cart
        self.lines = lines
        self.owes = [line.list_fen for line in lines]
        self.allocations: list[list[tuple[str, int]]] = [[] for _ in lines]
        self.applied: list[Applied] = []
        self.reasons: dict[str, NotApplied] = {}
        self.budgets = dict(cart.budgets_left)
        self.shipping_discount = 0
        self.layers_used: set[Layer] = set()  # layers with an applied offer (for not_with)
        self.applied_offers: list[Offer] = []

    def copy(self) -> _Plan:
        other = _Plan.__new__(_Plan)
        other.cart, other.lines = self.cart, self.lines
        other.owes = list(self.owes)
        other.allocations = [list(each) for each in self.allocations]
        other.applied = list(self.applied)
        other.reasons = dict(self.reasons)
        other.budgets = dict(self.budgets)
        other.shipping_discount = self.shipping_discount
        other.layers_used = set(self.layers_used)
        other.applied_offers = list(self.applied_offers)
        return other

    # -- what may apply ---------------------------------------------------------------------------
    def excluded_by(self, offer: Offer) -> str | None:
        for other in self.applied_offers:
            if other.exclusive or offer.exclusive:
                return other.key
            if other.layer != offer.layer and (
                other.layer in offer.not_with or offer.layer in other.not_with
            ):
                return other.key
        return None

    def budget_short(self, offer: Offer, amount: int) -> NotApplied | None:
        for budget in offer.budget_keys:
            left = self.budgets.get(budget)
            if left is not None and amount > left:
                return _not_applied(
                    offer, Reason.BUDGET_EXHAUSTED, budget=budget, left_fen=left, needed_fen=amount
                )
        return None

    def refuse(self, offer: Offer, reason: Reason, **data: int | str) -> None:
        self.reasons[offer.key] = _not_applied(offer, reason, **data)

    # -- taking money off -------------------------------------------------------------------------
    def take(self, offer: Offer, shares: Mapping[int, int], *, shipping: int = 0) -> None:
        amount = sum(shares.values())
        for budget in offer.budget_keys:
            if budget in self.budgets:
                self.budgets[budget] -= amount + shipping
        for index in sorted(shares):
            self.owes[index] -= shares[index]
            self.allocations[index].append((offer.key, shares[index]))
        self.shipping_discount += shipping
        self.layers_used.add(offer.layer)
        self.applied_offers.append(offer)
        self.applied.append(
            Applied(
                offer.key,
                offer.promotion_id,
                offer.coupon_id,
                offer.kind,
                offer.layer,
                amount,
                tuple((self.lines[i].line_no, shares[i]) for i in sorted(shares)),
                offer.gift_sku if offer.kind in (Kind.GIFT, Kind.COUPON_GIFT) else "",
                offer.gift_quantity if offer.kind in (Kind.GIFT, Kind.COUPON_GIFT) else 0,
                shipping,
            )
        )

    @property
    def payable(self) -> int:
        return sum(self.owes) + self.cart.shipping_fen - self.shipping_discount

    def coupons_used(self) -> int:
        return sum(1 for applied in self.applied if applied.coupon_id is not None)


# -- the layers -------------------------------------------------------------------------------------
def _item_discount(offer: Offer, line: CartLine) -> int:
    if offer.kind == Kind.SPECIAL_PRICE:
        return (line.unit_price_fen - min(line.unit_price_fen, max(offer.price_fen, 0))) * line.quantity
    return _percent_off(line.list_fen, offer.permille)  # MEMBER_PRICE


def _item_layer(plan: _Plan, offers: list[Offer], covered: Mapping[str, tuple[int, ...]]) -> None:
    """Per line, the largest discount wins. An offer whose total would overrun a budget drops out and
    its lines go to the next best, until every winner fits."""
    live = [offer for offer in offers if _admit(plan, offer)]
    while True:
        wins: dict[str, dict[int, int]] = {}
        by_line: list[list[Offer]] = [[] for _ in plan.lines]
        for offer in live:
            for index in covered[offer.key]:
                by_line[index].append(offer)
        for index, bidders in enumerate(by_line):
            line = plan.lines[index]
            best = min(
                ((-_item_discount(offer, line), _order(offer), offer) for offer in bidders),
                key=lambda bid: bid[:2],
                default=None,
            )
            if best is not None and best[0] < 0:
                wins.setdefault(best[2].key, {})[index] = -best[0]
        budgets = dict(plan.budgets)
        over = None
        for offer in live:
            amount = sum(wins.get(offer.key, {}).values())
            for budget in offer.budget_keys:
                if budget in budgets:
                    if amount > budgets[budget]:
                        over = (offer, budget, budgets[budget], amount)
                        break
                    budgets[budget] -= amount
            if over:
                break
        if over is None:
            break
        offer, budget, left, amount = over
        plan.refuse(offer, Reason.BUDGET_EXHAUSTED, budget=budget, left_fen=left, needed_fen=amount)
        live.remove(offer)
    for offer in live:
        if offer.key in wins:
            plan.take(offer, wins[offer.key])
        elif any(_item_discount(offer, plan.lines[i]) > 0 for i in covered[offer.key]):
            plan.refuse(offer, Reason.OUTBID)
        else:
            plan.refuse(offer, Reason.NOTHING_OFF)


def _shop_discount(offer: Offer, plan: _Plan, indexes: Sequence[int]) -> tuple[int, NotApplied | None]:
    """What a shop offer takes off the lines given, or why it takes nothing."""
    base = sum(plan.owes[i] for i in indexes)
    if offer.kind == Kind.ITEMS_PERCENT:
        items = sum(plan.lines[i].quantity for i in indexes)
        met = [permille for minimum, permille in offer.steps if minimum <= items]
        if not met:
            lowest = min((minimum for minimum, _ in offer.steps), default=0)
            return 0, _not_applied(offer, Reason.THRESHOLD_NOT_MET, min_items=lowest, items=items)
        return _percent_off(base, min(met)), None
    met_steps = [(threshold, value) for threshold, value in offer.steps if threshold <= base]
    if not met_steps:
        lowest = min((threshold for threshold, _ in offer.steps), default=0)
        return 0, _not_applied(offer, Reason.THRESHOLD_NOT_MET, threshold_fen=lowest, base_fen=base)
    if offer.kind == Kind.SPEND_PERCENT:
        return _percent_off(base, min(value for _, value in met_steps)), None
    if offer.repeat:  # 每满 t 减 o
        threshold, off = offer.steps[0]
        amount = (base // threshold) * off if threshold > 0 else 0
        if offer.cap_fen > 0:
            amount = min(amount, offer.cap_fen)
        return min(amount, base), None
    threshold, off = max(met_steps)
    return min(off, base), None


def _shop_layer(plan: _Plan, offers: list[Offer], covered: Mapping[str, tuple[int, ...]]) -> None:
    """A line joins at most one shop offer: the offer taking most off goes first and takes its lines."""
    taken: dict[int, str] = {}
    pending = [offer for offer in offers if offer.kind != Kind.GIFT and _admit(plan, offer)]
    bases = {offer.key: sum(plan.owes[i] for i in covered[offer.key]) for offer in offers}
    while pending:
        bids = []
        for offer in pending:
            free = [i for i in covered[offer.key] if i not in taken]
            amount = _shop_discount(offer, plan, free)[0] if free else 0
            if amount > 0:
                bids.append((-amount, _order(offer), offer, free))
        if not bids:
            break
        best = min(bids, key=lambda bid: bid[:2])
        amount, offer, free = -best[0], best[2], best[3]
        pending.remove(offer)
        short = plan.budget_short(offer, amount)
        if short is not None:
            plan.reasons[offer.key] = short
            continue
        plan.take(offer, split(amount, {i: plan.owes[i] for i in free}))
        for index in free:
            taken[index] = offer.key
    for offer in pending:
        free = [i for i in covered[offer.key] if i not in taken]
        by = next((taken[i] for i in covered[offer.key] if i in taken), None)
        if by is not None:
            plan.refuse(offer, Reason.OUTBID, by=by)
            continue
        amount, why = _shop_discount(offer, plan, free)
        plan.reasons[offer.key] = why or _not_applied(offer, Reason.NOTHING_OFF)
    for offer in offers:  # gifts: their threshold on the same base, no lines taken
        if offer.kind != Kind.GIFT or not _admit(plan, offer):
            continue
        threshold = min((t for t, _ in offer.steps), default=0)
        if bases[offer.key] >= threshold:
            plan.take(offer, {})
        else:
            plan.refuse(offer, Reason.THRESHOLD_NOT_MET, threshold_fen=threshold, base_fen=bases[offer.key])


def _coupon_discount(offer: Offer, plan: _Plan, indexes: Sequence[int]) -> tuple[int, int, NotApplied | None]:
    """(line discount, shipping discount, why not) of a coupon on the lines it covers."""
    base = sum(plan.owes[i] for i in indexes)
    if base < offer.threshold_fen or (
        offer.threshold_fen == 0 and base == 0 and offer.kind != Kind.COUPON_GIFT
    ):
        if base < offer.threshold_fen:
            return (
                0,
                0,
                _not_applied(
                    offer, Reason.THRESHOLD_NOT_MET, threshold_fen=offer.threshold_fen, base_fen=base
                ),
            )
        return 0, 0, _not_applied(offer, Reason.NOTHING_OFF)
    if offer.kind == Kind.COUPON_OFF:
        return min(offer.off_fen, base), 0, None
    if offer.kind == Kind.COUPON_PERCENT:
        amount = _percent_off(base, offer.permille)
        return (min(amount, offer.cap_fen) if offer.cap_fen > 0 else amount), 0, None
    if offer.kind == Kind.COUPON_SHIPPING:
        shipping = plan.cart.shipping_fen - plan.shipping_discount
        return 0, (min(offer.cap_fen, shipping) if offer.cap_fen > 0 else shipping), None
    return 0, 0, None  # COUPON_GIFT: the gift, no money


def _coupon_layer(
    plan: _Plan, layer: Layer, coupons: Sequence[Offer], covered: Mapping[str, tuple[int, ...]]
) -> None:
    """The first chosen coupon of the layer that applies takes the layer's slot; a free-shipping
    coupon has a slot of its own."""
    slot: dict[bool, str] = {}
    for offer in coupons:
        if offer.layer != layer or not _admit(plan, offer):
            continue
        shipping_slot = offer.kind == Kind.COUPON_SHIPPING
        if shipping_slot in slot:
            plan.refuse(offer, Reason.ONE_PER_LAYER, by=slot[shipping_slot])
            continue
        amount, shipping, why = _coupon_discount(offer, plan, covered[offer.key])
        if why is not None:
            plan.reasons[offer.key] = why
            continue
        if amount == 0 and shipping == 0 and offer.kind != Kind.COUPON_GIFT:
            plan.refuse(offer, Reason.NOTHING_OFF)
            continue
        short = plan.budget_short(offer, amount + shipping)
        if short is not None:
            plan.reasons[offer.key] = short
            continue
        plan.take(offer, split(amount, {i: plan.owes[i] for i in covered[offer.key]}), shipping=shipping)
        slot[shipping_slot] = offer.key


def _admit(plan: _Plan, offer: Offer) -> bool:
    """Refuse an offer an applied one excludes (exclusive, or a not_with layer)."""
    by = plan.excluded_by(offer)
    if by is not None:
        plan.refuse(offer, Reason.EXCLUDED, by=by)
        return False
    return True


# -- putting it together ----------------------------------------------------------------------------
def _prefilter(
    cart: Cart, offers: Sequence[Offer]
) -> tuple[list[Offer], dict[str, tuple[int, ...]], dict[str, NotApplied]]:
    """Offers that could take part, the lines each covers, and why the others cannot."""
    live: list[Offer] = []
    covered: dict[str, tuple[int, ...]] = {}
    reasons: dict[str, NotApplied] = {}
    for offer in offers:
        if offer.key in covered or offer.key in reasons:
            continue  # the same offer twice counts once
        if offer.channels and cart.channel not in offer.channels:
            reasons[offer.key] = _not_applied(offer, Reason.CHANNEL)
            continue
        if offer.min_tier_rank > cart.tier_rank:
            reasons[offer.key] = _not_applied(
                offer, Reason.TIER_TOO_LOW, min_tier_rank=offer.min_tier_rank, tier_rank=cart.tier_rank
            )
            continue
        if offer.uses_left is not None and offer.uses_left <= 0:
            reasons[offer.key] = _not_applied(offer, Reason.LIMIT_REACHED)
            continue
        lines = tuple(
            index for index, line in enumerate(cart.lines) if offer.scope.covers(line.sku, line.category)
        )
        if not lines:
            reasons[offer.key] = _not_applied(offer, Reason.NOT_IN_SCOPE)
            continue
        covered[offer.key] = lines
        live.append(offer)
    return live, covered, reasons


def _run_auto(cart: Cart, lines: tuple[CartLine, ...], auto: list[Offer], covered) -> _Plan:
    plan = _Plan(cart, lines)
    _item_layer(plan, sorted((o for o in auto if o.layer == Layer.ITEM), key=_order), covered)
    _shop_layer(plan, sorted((o for o in auto if o.layer == Layer.SHOP), key=_order), covered)
    return plan


def _run_coupons(plan: _Plan, coupons: Sequence[Offer], covered) -> _Plan:
    for layer in COUPON_LAYERS:
        _coupon_layer(plan, layer, coupons, covered)
    return plan


def _rank(plan: _Plan) -> tuple:
    exclusive = any(offer.exclusive for offer in plan.applied_offers)
    return (plan.payable, plan.coupons_used(), exclusive, tuple(sorted(a.key for a in plan.applied)))


def _best_plan(cart, lines, auto, coupons, covered, shared: _Plan | None = None) -> tuple[_Plan, list[_Plan]]:
    """The plan of every non-exclusive offer, and each exclusive offer alone; the best first.
    `shared`: the automatic layers of the first plan, already run (the suggestion tries many coupons
    on one cart)."""
    if shared is None:
        shared = _run_auto(cart, lines, [offer for offer in auto if not offer.exclusive], covered)
    plans = [_run_coupons(shared.copy(), [offer for offer in coupons if not offer.exclusive], covered)]
    for offer in [*auto, *coupons]:
        if offer.exclusive:
            alone = _run_auto(
                cart, lines, [offer] if offer.layer in (Layer.ITEM, Layer.SHOP) else [], covered
            )
            plans.append(_run_coupons(alone, [offer] if offer.layer in COUPON_LAYERS else [], covered))
    plans.sort(key=_rank)
    return plans[0], plans[1:]


def quote(
    cart: Cart,
    offers: Sequence[Offer],
    chosen: Sequence[Offer] = (),
    candidates: Sequence[Offer] = (),
) -> Quote:
    """The price of `cart` with the automatic `offers` and the member's `chosen` coupons; with no
    coupon chosen, the best of `candidates` is suggested (rules in the module docstring)."""
    lines = tuple(sorted(cart.lines, key=lambda line: line.line_no))
    auto_all = sorted((o for o in offers if o.layer in (Layer.ITEM, Layer.SHOP)), key=_order)
    coupons_all = [o for o in chosen if o.layer in COUPON_LAYERS]
    auto, covered, reasons = _prefilter(cart, auto_all)
    coupons, coupon_covered, coupon_reasons = _prefilter(cart, coupons_all)
    covered.update(coupon_covered)
    reasons.update(coupon_reasons)
    best, others = _best_plan(cart, lines, auto, coupons, covered)
    suggestion: tuple[str, ...] = ()
    saves = 0
    if not coupons_all and candidates:
        suggestion, saves = _suggest(cart, lines, auto, best, candidates)
    return _result(cart, lines, best, others, reasons, [*auto, *coupons], suggestion, saves)


def _suggest(cart, lines, auto, best: _Plan, candidates: Sequence[Offer]) -> tuple[tuple[str, ...], int]:
    """Per coupon layer (and a shipping coupon besides), the candidate lowering payable most; ties:
    the first in `candidates` (the caller lists the coupon expiring first first)."""
    usable, covered, _ = _prefilter(cart, [c for c in candidates if c.layer in COUPON_LAYERS])
    covered.update(_prefilter(cart, auto)[1])
    shared = _run_auto(cart, lines, [offer for offer in auto if not offer.exclusive], covered)
    chosen: list[Offer] = []
    current = best.payable
    for layer in COUPON_LAYERS:
        for shipping in (False, True):
            pick, pick_payable = None, current
            for offer in usable:
                if offer.layer != layer or (offer.kind == Kind.COUPON_SHIPPING) != shipping:
                    continue
                plan, _ = _best_plan(cart, lines, auto, [*chosen, offer], covered, shared)
                if offer.key in {a.key for a in plan.applied} and plan.payable < pick_payable:
                    pick, pick_payable = offer, plan.payable
            if pick is not None:
                chosen.append(pick)
                current = pick_payable
    return tuple(offer.key for offer in chosen), best.payable - current


def _result(cart, lines, best: _Plan, others, reasons, considered, suggestion, saves) -> Quote:
    applied_keys = {applied.key for applied in best.applied}
    not_applied: dict[str, NotApplied] = dict(reasons)
    winner = best.applied[0].key if best.applied else ""
    for offer in considered:
        if offer.key in applied_keys or offer.key in not_applied:
            continue
        why = best.reasons.get(offer.key)
        if why is None:
            for plan in others:  # not in the winning plan: its own reason, or beaten by the winner
                if offer.key in plan.reasons and plan.reasons[offer.key].reason != Reason.EXCLUDED:
                    why = plan.reasons[offer.key]
                    break
        not_applied[offer.key] = why or _not_applied(offer, Reason.EXCLUDED, by=winner)
    line_quotes = tuple(
        LineQuote(
            line.line_no,
            line.list_fen,
            line.list_fen - best.owes[index],
            best.owes[index],
            tuple(best.allocations[index]),
        )
        for index, line in enumerate(lines)
    )
    discount = sum(each.discount_fen for each in line_quotes)
    return Quote(
        lines=line_quotes,
        subtotal_fen=sum(line.list_fen for line in lines),
        discount_fen=discount,
        shipping_fen=cart.shipping_fen,
        shipping_discount_fen=best.shipping_discount,
        payable_fen=best.payable,
        applied=tuple(best.applied),
        not_applied=tuple(not_applied[key] for key in sorted(not_applied)),
        suggestion=suggestion,
        suggestion_saves_fen=saves,
    )
