"""Promotions in the console (issue 12): the list, the editor of every kind with a live preview of a
sample cart (htmx, the unsaved values priced by promotions.quoting.quote_preview), and start, pause,
resume, end. Reading needs promotion.view; every change promotion.manage, audited by
promotions.services."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yunying.console.access import forbidden, operator_required
from yunying.console.fields import DATETIME_FORMAT
from yunying.console.once import once_token, submit_once
from yunying.console.paging import ID_MAX, page_of
from yunying.console.promotion_forms import (
    LAYER_CHOICES,
    PROMOTION_STATE_TEXT,
    PromotionForm,
    fen_to_yuan,
    initial_of,
    unsaved_promotion,
)
from yunying.core.errors import DomainError, ValidationFailed
from yunying.core.numbers import ascii_digits
from yunying.core.permissions import Perm
from yunying.promotions.engine import Layer
from yunying.promotions.errors import reason_text
from yunying.promotions.models import COUPON_KINDS, Promotion, PromotionKind, PromotionState
from yunying.promotions.quoting import QuoteLine, quote_preview
from yunying.promotions.selectors import promotion_list, promotion_names, promotion_summary
from yunying.promotions.services import (
    promotion_create,
    promotion_get,
    promotion_transition,
    promotion_update,
)
from yunying.promotions.terms import layer_of, yuan_to_fen

# The sample cart the preview starts with: ¥120 of tea and two ¥40 cups, ¥200 in all.
SAMPLE_CART = [("TEA-1", "tea", "120", "1"), ("CUP-1", "ware", "40", "2"), ("", "", "", ""), ("", "", "", "")]
QUANTITY_MAX = 9999

LAYER_NAMES = {
    Layer.ITEM: gettext_lazy("Item price (单品价)"),
    Layer.SHOP: gettext_lazy("Shop 满减/满折"),
    Layer.SHOP_COUPON: gettext_lazy("Shop coupon"),
    Layer.PLATFORM_COUPON: gettext_lazy("Platform coupon"),
}

# Which buttons a state offers: (target state, label, confirmation)
ACTIONS = {
    PromotionState.DRAFT: [("active", gettext_lazy("Start"), gettext_lazy("Start this promotion now?"))],
    PromotionState.ACTIVE: [
        ("paused", gettext_lazy("Pause"), gettext_lazy("Pause this promotion? Carts stop getting it.")),
        ("ended", gettext_lazy("End"), gettext_lazy("End this promotion for good? It cannot be restarted.")),
    ],
    PromotionState.PAUSED: [
        ("active", gettext_lazy("Resume"), gettext_lazy("Resume this promotion?")),
        ("ended", gettext_lazy("End"), gettext_lazy("End this promotion for good? It cannot be restarted.")),
    ],
}


def promotion_or_404(promotion_id: int) -> Promotion:
    try:
        return promotion_get(min(promotion_id, ID_MAX))
    except DomainError:
        raise Http404 from None


def promotion_tabs(active: str, promotion: Promotion | None = None) -> dict:
    return {"tab": active, "promotion": promotion}


@operator_required(Perm.PROMOTION_VIEW)
@require_GET
def promotions_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    search = request.GET.get("q", "").strip()[:100]
    rows = promotion_list(
        state=state if state in PromotionState.values else None,
        kind=kind if kind in PromotionKind.values else None,
        search=search,
    )
    page, query = page_of(request, rows)
    for promotion in page:
        promotion.summary = promotion_summary(promotion)
        promotion.layer_name = LAYER_NAMES[layer_of(promotion.kind, promotion.issuer)]
        promotion.state_text = PROMOTION_STATE_TEXT[promotion.state]
    context = {
        "section": "promotions",
        "page": page,
        "query": query,
        "state": state,
        "kind": kind,
        "q": search,
        "states": list(PROMOTION_STATE_TEXT.items()),
        "kinds": PromotionKind.choices,
        "can_manage": request.actor.can(Perm.PROMOTION_MANAGE),
        **promotion_tabs("list"),
    }
    return render(request, "console/promotions/list.html", context)


def _editor(
    request: HttpRequest, form: PromotionForm, promotion: Promotion | None, status: int = 200
) -> HttpResponse:
    can_manage = request.actor.can(Perm.PROMOTION_MANAGE)
    context = {
        "section": "promotions",
        "form": form,
        "promotion": promotion,
        "summary": promotion_summary(promotion) if promotion else "",
        "state_text": PROMOTION_STATE_TEXT[promotion.state] if promotion else "",
        "kind": form.kind_value,
        "coupon_kinds": sorted(COUPON_KINDS),
        "cart": _cart_rows(request.POST if request.method == "POST" else None),
        "tier_rank": request.POST.get("cart_tier", "0") if request.method == "POST" else "0",
        "cart_channel": request.POST.get("cart_channel", "") if request.method == "POST" else "",
        "actions": ACTIONS.get(promotion.state, []) if promotion and can_manage else [],
        "can_manage": can_manage,
        "once_token": once_token(request),
        **promotion_tabs("edit", promotion),
    }
    return render(request, "console/promotions/editor.html", context, status=status)


@operator_required(Perm.PROMOTION_MANAGE)
@require_http_methods(["GET", "POST"])
def promotion_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _editor(request, PromotionForm(initial=initial_of(None)), None)
    form = PromotionForm(request.POST)
    if not form.is_valid():
        return _editor(request, form, None, status=422)
    try:
        promotion_id = submit_once(request, lambda: promotion_create(spec=form.spec, actor=request.actor).pk)
    except ValidationFailed as refused:
        _refusal(form, refused)
        return _editor(request, form, None, status=422)
    messages.success(request, _("Promotion saved as a draft."))
    return redirect("console:promotion_edit", promotion_id=promotion_id)


@operator_required(Perm.PROMOTION_VIEW)
@require_http_methods(["GET", "POST"])
def promotion_edit(request: HttpRequest, promotion_id: int) -> HttpResponse:
    promotion = promotion_or_404(promotion_id)
    if request.method == "GET":
        return _editor(request, PromotionForm(initial=initial_of(promotion)), promotion)
    if not request.actor.can(Perm.PROMOTION_MANAGE):
        return forbidden(request, permission=str(Perm.PROMOTION_MANAGE))
    form = PromotionForm(request.POST)
    if not form.is_valid():
        return _editor(request, form, promotion, status=422)
    try:
        promotion_update(
            promotion_id=promotion.pk,
            spec=form.spec,
            base_version=form.cleaned_data["base_version"] or 0,
            actor=request.actor,
        )
    except ValidationFailed as refused:
        _refusal(form, refused)
        return _editor(request, form, promotion, status=422)
    except DomainError as refused:  # promotion.changed
        form.add_error(None, refused.message)
        return _editor(request, form, promotion, status=409)
    messages.success(request, _("Promotion saved."))
    return redirect("console:promotion_edit", promotion_id=promotion.pk)


def _refusal(form: PromotionForm, refused: ValidationFailed) -> None:
    for error in refused.errors:
        name = error["field"] if error["field"] in form.fields else None
        form.add_error(name, error["message"])


@operator_required(Perm.PROMOTION_MANAGE)
@require_POST
def promotion_state(request: HttpRequest, promotion_id: int) -> HttpResponse:
    promotion = promotion_or_404(promotion_id)
    to = request.POST.get("to", "")
    if to not in PromotionState.values:
        messages.error(request, _("Choose what to do with the promotion."))
        return redirect("console:promotion_edit", promotion_id=promotion.pk)
    try:
        promotion_transition(
            promotion_id=promotion.pk, to=to, actor=request.actor, reason=request.POST.get("reason", "")[:500]
        )
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _("The promotion is now: %(state)s.") % {"state": PROMOTION_STATE_TEXT[to]},
        )
    return redirect("console:promotion_edit", promotion_id=promotion.pk)


# -- the live preview -------------------------------------------------------------------------------
def _cart_rows(post) -> list[dict]:
    rows = []
    for index, (sku, category, price, quantity) in enumerate(SAMPLE_CART):
        if post is not None:
            sku, category, price, quantity = (
                post.get(f"cart_{index}_{name}", "")[:64] for name in ("sku", "category", "price", "qty")
            )
        rows.append({"index": index, "sku": sku, "category": category, "price": price, "qty": quantity})
    return rows


def _cart(post) -> tuple[list[QuoteLine], list[str]]:
    """The sample cart's filled lines, and what is wrong with the others."""
    lines, problems = [], []
    for row in _cart_rows(post):
        if not row["sku"].strip() and not row["price"].strip():
            continue
        price = yuan_to_fen(row["price"]) if len(row["price"]) <= 15 else None
        quantity = row["qty"].strip() or "1"
        if not row["sku"].strip() or price is None or not ascii_digits(quantity) or len(quantity) > 4:
            problems.append(
                _("Cart line %(n)d: give a SKU, a price in yuan and a quantity of 1 to %(max)d.")
                % {"n": row["index"] + 1, "max": QUANTITY_MAX}
            )
            continue
        if not 1 <= int(quantity) <= QUANTITY_MAX:
            problems.append(
                _("Cart line %(n)d: give a SKU, a price in yuan and a quantity of 1 to %(max)d.")
                % {"n": row["index"] + 1, "max": QUANTITY_MAX}
            )
            continue
        lines.append(QuoteLine(row["sku"].strip(), row["category"].strip(), price, int(quantity)))
    return lines, problems


def stacking_notes(kind: str, issuer: str, exclusive: bool, not_with: list[int]) -> list[str]:
    """What layer a promotion is and what it combines with, in the engine's order (spec rules 2–8)."""
    layer = layer_of(kind, issuer) if kind in PromotionKind.values else None
    if layer is None:
        return []
    notes = [
        _(
            "This is a %(layer)s offer. Offers apply in this order: item price, shop 满减/满折, shop coupon, platform coupon; each one's threshold is checked on what the items still cost after the ones before it."
        )
        % {"layer": LAYER_NAMES[layer]}
    ]
    if layer == Layer.ITEM:
        notes.append(
            _("Among item prices the lowest wins for each item; this one is not added to another item price.")
        )
    elif layer == Layer.SHOP:
        if kind == PromotionKind.GIFT:
            notes.append(_("A gift does not compete with 满减/满折: it is given when the threshold is met."))
        else:
            notes.append(
                _(
                    "An item joins at most one shop offer: the one that takes off the most gets its items first."
                )
            )
    else:
        notes.append(_("A member uses at most one coupon of this layer per order."))
    if exclusive:
        notes.append(
            _(
                "Not combined with any other offer: the cart gets this alone or the best plan without it, whichever costs less."
            )
        )
    else:
        others = [str(name) for value, name in LAYER_CHOICES if int(value) in not_with]
        if others:
            notes.append(_("Does not combine with: %(layers)s.") % {"layers": "、".join(others)})
        else:
            notes.append(_("Combines with offers of every other layer."))
    return notes


@operator_required(Perm.PROMOTION_VIEW)
@require_POST
def promotion_preview(request: HttpRequest) -> HttpResponse:
    """The editor's preview fragment: the form's unsaved values priced on the sample cart."""
    raw_id = request.POST.get("promotion_id", "")
    saved = None
    if ascii_digits(raw_id) and len(raw_id) <= 18:
        saved = _find(int(raw_id))
    data = request.POST.copy()
    # A new promotion's preview prices before it has a name or a start: those do not change a price.
    if not data.get("name", "").strip():
        data["name"] = _("This promotion")
    if not data.get("starts_at", "").strip():
        data["starts_at"] = timezone.localtime().strftime(DATETIME_FORMAT)
    form = PromotionForm(data)
    kind = request.POST.get("kind", "")
    not_with = [int(v) for v in request.POST.getlist("not_with") if v in {"1", "2", "3", "4"}]
    notes = stacking_notes(
        kind, request.POST.get("issuer", ""), bool(request.POST.get("exclusive")), not_with
    )
    lines, problems = _cart(request.POST)
    tier = request.POST.get("cart_tier", "0").strip() or "0"
    if not ascii_digits(tier) or len(tier) > 3:
        problems.append(_("The member level rank is a whole number from 0 to 100."))
        tier = "0"
    channel = request.POST.get("cart_channel", "").strip()[:20]
    context = {"notes": notes, "problems": problems, "errors": [], "quote": None}
    if not form.is_valid():
        context["errors"] = [
            f"{form.fields[name].label if name in form.fields else ''}{'：' if name in form.fields else ''}{message}"
            for name, messages_ in form.errors.items()
            for message in messages_
        ]
    elif lines and not problems:
        promotion = unsaved_promotion(form.spec, saved)
        result = quote_preview(
            promotion=promotion, lines=lines, channel=channel, tier_rank=min(int(tier), 100)
        )
        names = promotion_names(
            [a.promotion_id for a in result.applied] + [n.promotion_id for n in result.not_applied]
        )
        this = saved.pk if saved else 0

        def name_of(promotion_id: int) -> str:
            if promotion_id == this:
                return _("This promotion")
            return names.get(promotion_id, f"#{promotion_id}")

        context["quote"] = {
            "lines": [
                {"line": line, "sku": lines[line.line_no - 1].sku, "qty": lines[line.line_no - 1].quantity}
                for line in result.lines
            ],
            "subtotal": result.subtotal_fen,
            "discount": result.discount_fen,
            "payable": result.payable_fen,
            "applied": [
                {
                    "name": name_of(a.promotion_id),
                    "this": a.promotion_id == this,
                    "amount": a.amount_fen,
                    "gift": f"{a.gift_sku} × {a.gift_quantity}" if a.gift_sku else "",
                    "shipping": a.shipping_fen,
                }
                for a in result.applied
            ],
            "not_applied": [
                {
                    "name": name_of(n.promotion_id),
                    "this": n.promotion_id == this,
                    "reason": reason_text(n.reason),
                    "data": _reason_data(n.data),
                }
                for n in result.not_applied
            ],
        }
    return render(request, "console/promotions/_preview.html", context)


def _find(promotion_id: int) -> Promotion | None:
    try:
        return promotion_get(min(promotion_id, ID_MAX))
    except DomainError:
        return None


def _reason_data(data) -> str:
    """The numbers behind a reason, as operators read them (¥ for fen)."""
    values = dict(data)
    if "threshold_fen" in values and "base_fen" in values:
        return _("needs ¥%(threshold)s, the items come to ¥%(base)s") % {
            "threshold": fen_to_yuan(values["threshold_fen"]),
            "base": fen_to_yuan(values["base_fen"]),
        }
    if "min_items" in values and "items" in values:
        return _("needs %(min)s items, the cart has %(items)s") % {
            "min": values["min_items"],
            "items": values["items"],
        }
    if "left_fen" in values and "needed_fen" in values:
        return _("¥%(left)s left, ¥%(needed)s needed") % {
            "left": fen_to_yuan(values["left_fen"]),
            "needed": fen_to_yuan(values["needed_fen"]),
        }
    return ""


urlpatterns = [
    path("promotions/", promotions_list, name="promotion_list"),
    path("promotions/new/", promotion_new, name="promotion_new"),
    path("promotions/preview/", promotion_preview, name="promotion_preview"),
    path("promotions/<int:promotion_id>/", promotion_edit, name="promotion_edit"),
    path("promotions/<int:promotion_id>/state/", promotion_state, name="promotion_state"),
]
