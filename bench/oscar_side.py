"""django-oscar's side of bench/quote.py: the same basket and equivalent offers, timed in Oscar.

Runs in its own venv (var/bench/oscar-venv, made by bench/quote.py), never imports yunying, and takes
the scenario as JSON on stdin:

    {"lines": [{"sku", "unit_price_fen", "quantity"}, ...],
     "offers": [{"key", "skus": [...], "condition": {"type": "count"|"value", "value": n or fen},
                 "benefit": {"type": "percentage"|"absolute"|"fixed_unit", "value": percent or fen},
                 "max_applications": 1, "priority": n}, ...],
     "repeat": 200, "warmup": 30}

It configures a minimal Oscar project (every Oscar app, SQLite in a temporary directory, NoTax
strategy, CNY), migrates, creates the products with a stock record each, one range + condition +
benefit + site ConditionalOffer per offer and one basket, then times two things, `repeat` times each
after `warmup` runs:

- apply: `Applicator().apply(basket, user, request)` on the basket already in memory (its lines
  cached), then `basket.total_incl_tax` — what a view does once it holds the basket;
- load_apply: the basket loaded from the database as a request does it (the basket row, its lines
  with product and stock record through the strategy), then the same.

Prints one JSON object on stdout: timings (ms), queries of each, the total and each offer's
discount in fen.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal


def _configure(db_path: str) -> None:
    import oscar.defaults as oscar_defaults
    from django.conf import settings

    defaults = {k: getattr(oscar_defaults, k) for k in dir(oscar_defaults) if k.isupper()}
    defaults.update(
        OSCAR_DEFAULT_CURRENCY="CNY",
        HAYSTACK_CONNECTIONS={"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}},
        HAYSTACK_SIGNAL_PROCESSOR="haystack.signals.BaseSignalProcessor",
    )
    settings.configure(
        DEBUG=False,
        SECRET_KEY="oscar-bench",
        USE_TZ=True,
        TIME_ZONE="UTC",
        SITE_ID=1,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": db_path}},
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            "django.contrib.sites",
            "django.contrib.flatpages",
            "oscar.config.Shop",
            "oscar.apps.analytics.apps.AnalyticsConfig",
            "oscar.apps.checkout.apps.CheckoutConfig",
            "oscar.apps.address.apps.AddressConfig",
            "oscar.apps.shipping.apps.ShippingConfig",
            "oscar.apps.catalogue.apps.CatalogueConfig",
            "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
            "oscar.apps.communication.apps.CommunicationConfig",
            "oscar.apps.partner.apps.PartnerConfig",
            "oscar.apps.basket.apps.BasketConfig",
            "oscar.apps.payment.apps.PaymentConfig",
            "oscar.apps.offer.apps.OfferConfig",
            "oscar.apps.order.apps.OrderConfig",
            "oscar.apps.customer.apps.CustomerConfig",
            "oscar.apps.search.apps.SearchConfig",
            "oscar.apps.voucher.apps.VoucherConfig",
            "oscar.apps.wishlists.apps.WishlistsConfig",
            "oscar.apps.dashboard.apps.DashboardConfig",
            "oscar.apps.dashboard.reports.apps.ReportsDashboardConfig",
            "oscar.apps.dashboard.users.apps.UsersDashboardConfig",
            "oscar.apps.dashboard.orders.apps.OrdersDashboardConfig",
            "oscar.apps.dashboard.catalogue.apps.CatalogueDashboardConfig",
            "oscar.apps.dashboard.offers.apps.OffersDashboardConfig",
            "oscar.apps.dashboard.partners.apps.PartnersDashboardConfig",
            "oscar.apps.dashboard.pages.apps.PagesDashboardConfig",
            "oscar.apps.dashboard.ranges.apps.RangesDashboardConfig",
            "oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig",
            "oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig",
            "oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig",
            "oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig",
            "widget_tweaks",
            "haystack",
            "treebeard",
            "django_tables2",
        ],
        MIDDLEWARE=[],
        ROOT_URLCONF=__name__,
        TEMPLATES=[],
        **defaults,
    )


urlpatterns: list = []


def _yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def _fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def _summary(values: list[float]) -> dict:
    return {
        "p50_ms": _pct(values, 0.50),
        "p99_ms": _pct(values, 0.99),
        "mean_ms": statistics.fmean(values),
        "runs": len(values),
    }


def run(scenario: dict) -> dict:
    import django

    with tempfile.TemporaryDirectory(prefix="oscar-bench-") as tmp:
        _configure(os.path.join(tmp, "oscar.sqlite3"))
        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from oscar.apps.offer.applicator import Applicator
        from oscar.apps.partner.strategy import Selector
        from oscar.core.loading import get_model

        call_command("migrate", verbosity=0, interactive=False)
        Basket = get_model("basket", "Basket")
        Product = get_model("catalogue", "Product")
        ProductClass = get_model("catalogue", "ProductClass")
        Partner = get_model("partner", "Partner")
        StockRecord = get_model("partner", "StockRecord")
        Range = get_model("offer", "Range")
        Condition = get_model("offer", "Condition")
        Benefit = get_model("offer", "Benefit")
        ConditionalOffer = get_model("offer", "ConditionalOffer")

        product_class = ProductClass.objects.create(name="bench", requires_shipping=False, track_stock=False)
        partner = Partner.objects.create(name="bench")
        products = {}
        for line in scenario["lines"]:
            product = Product.objects.create(
                title=line["sku"], upc=line["sku"], product_class=product_class, structure="standalone"
            )
            StockRecord.objects.create(
                product=product,
                partner=partner,
                partner_sku=line["sku"],
                price_currency="CNY",
                price=_yuan(line["unit_price_fen"]),
                num_in_stock=1_000_000,
            )
            products[line["sku"]] = product

        condition_types = {"count": Condition.COUNT, "value": Condition.VALUE}
        benefit_types = {
            "percentage": Benefit.PERCENTAGE,
            "absolute": Benefit.FIXED,
            "fixed_unit": Benefit.FIXED_UNIT,
        }
        offers = {}
        for spec in scenario["offers"]:
            range_ = Range.objects.create(name=f"range {spec['key']}")
            for sku in spec["skus"]:
                range_.add_product(products[sku])
            cond, bene = spec["condition"], spec["benefit"]
            condition = Condition.objects.create(
                range=range_,
                type=condition_types[cond["type"]],
                value=_yuan(cond["value"]) if cond["type"] == "value" else Decimal(cond["value"]),
            )
            benefit = Benefit.objects.create(
                range=range_,
                type=benefit_types[bene["type"]],
                value=Decimal(bene["value"]) if bene["type"] == "percentage" else _yuan(bene["value"]),
            )
            offers[spec["key"]] = ConditionalOffer.objects.create(
                name=f"offer {spec['key']}",
                offer_type=ConditionalOffer.SITE,
                condition=condition,
                benefit=benefit,
                max_basket_applications=spec.get("max_applications"),
                priority=spec.get("priority", 0),
                exclusive=True,
            )

        strategy = Selector().strategy()
        basket = Basket.objects.create()
        basket.strategy = strategy
        for line in scenario["lines"]:
            basket.add_product(products[line["sku"]], quantity=line["quantity"])
        basket_id = basket.pk

        def apply_in_memory() -> Decimal:
            basket.reset_offer_applications()
            Applicator().apply(basket, None, None)
            return basket.total_incl_tax

        def load_and_apply() -> Decimal:
            loaded = Basket.objects.get(pk=basket_id)
            loaded.strategy = strategy
            Applicator().apply(loaded, None, None)
            return loaded.total_incl_tax

        results: dict = {
            "oscar_version": __import__("oscar").get_version(),
            "django_version": django.get_version(),
            "lines": len(scenario["lines"]),
            "offers": len(scenario["offers"]),
        }
        for name, fn in (("apply", apply_in_memory), ("load_apply", load_and_apply)):
            for _ in range(scenario.get("warmup", 30)):
                fn()
            timings = []
            for _ in range(scenario.get("repeat", 200)):
                started = time.perf_counter()
                fn()
                timings.append((time.perf_counter() - started) * 1000)
            with CaptureQueriesContext(connection) as captured:
                fn()
            results[name] = _summary(timings) | {"queries": len(captured.captured_queries)}

        apply_in_memory()
        by_offer = {offer.pk: key for key, offer in offers.items()}
        results["subtotal_fen"] = _fen(basket.total_incl_tax_excl_discounts)
        results["total_fen"] = _fen(basket.total_incl_tax)
        results["discount_fen"] = results["subtotal_fen"] - results["total_fen"]
        results["offer_discounts_fen"] = {
            by_offer[application["offer"].pk]: _fen(application["discount"])
            for application in basket.offer_applications
        }
        connection.close()
    return results


if __name__ == "__main__":
    print(json.dumps(run(json.load(sys.stdin))))
