"""Promotions quote benchmark (`make bench`, issue 12): a 50-line cart against 30 active promotions.

Side by side, in one run:

- ours, pure:     `promotions.engine.quote()` on the cart and the 30 offers, in-process;
- ours, service:  `promotions.quoting.quote_cart(...)`, which loads the promotions from the database
                  and quotes (a child process on a fresh database: SQLite, then PostgreSQL), with its
                  queries per quote for 1 line × 1 promotion and 50 lines × 30 promotions (they
                  must be equal);
- ours, HTTP:     `POST /api/v1/quotes` against the real server (granian, bench/harness.py), one
                  keep-alive connection, sequential requests;
- Oscar:          django-oscar 4.x (its own venv under var/bench/oscar-venv, built on first use)
                  computing the same basket with equivalent offers (bench/oscar_side.py).

The 30 promotions cover disjoint groups of lines (one category each) and use only the kinds Oscar
has an equivalent for, so that the totals can be compared to the fen:

    special price on a SKU          ↔ fixed unit discount (unit − price), count ≥ 1
    member price (permille)         ↔ percentage discount, count ≥ 1
    满减 once (threshold, off)        ↔ value condition ≥ threshold, absolute discount, applied once
    满折 (threshold, permille)        ↔ value condition ≥ threshold, percentage discount, applied once
    N件M折 (min items, permille)      ↔ count condition ≥ N, percentage discount, applied once

Prices are multiples of 10 fen and the percentages whole tens, so that our per-line floor and
Oscar's floor of the sum meet; one 满折 misses its threshold by 50 fen (¥199.50 ≠ 满200).

    python -m bench.quote [--runs 2000] [--http-runs 500] [--oscar-runs 100] [--modes sqlite,postgres]
                          [--no-oscar] [--no-write]

Results go to stdout and to the "Promotions quote" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import REPO

OSCAR_VENV = REPO / "var" / "bench" / "oscar-venv"
OSCAR_REQUIREMENT = "django-oscar>=4,<5"
LINES = 50
PROMOTIONS = 30
TARGET_P99_MS = 5.0
TARGET_RATIO = 5.0


# ---------------------------------------------------------------- the scenario (pure, no Django)


def _groups(lines: int, promotions: int) -> list[int]:
    """How many lines each promotion's group holds: the first ones a single line (special prices),
    the rest two or more, `lines` in all."""
    singles = min(promotions, max(promotions - (lines - promotions), promotions // 3))
    sizes = [1] * singles + [2] * (promotions - singles)
    extra = lines - sum(sizes)
    for i in range(extra):  # more lines than two per group: spread them over the multi-line groups
        sizes[singles + i % max(1, promotions - singles)] += 1
    assert sum(sizes) == lines and extra >= 0, (lines, promotions)
    return sizes


def scenario(lines: int = LINES, promotions: int = PROMOTIONS, *, seed: int = 12):
    """The cart and the automatic promotions (engine objects), deterministic for a seed."""
    from yunying.promotions.engine import Cart, CartLine, Kind, Layer, Offer, Scope

    rng = random.Random(seed)
    cart_lines: list[CartLine] = []
    offers: list[Offer] = []
    kinds = (Kind.MEMBER_PRICE, Kind.SPEND_OFF, Kind.SPEND_PERCENT, Kind.ITEMS_PERCENT)
    sizes = _groups(lines, promotions) if promotions else [lines]
    line_no = 0
    for group, size in enumerate(sizes, start=1):
        category = f"g{group:02d}"
        group_lines = []
        for _ in range(size):
            line_no += 1
            group_lines.append(
                CartLine(
                    line_no=line_no,
                    sku=f"sku-{line_no:03d}",
                    category=category,
                    unit_price_fen=rng.randrange(99, 3999) * 10,
                    quantity=rng.randint(1, 3),
                )
            )
        cart_lines.extend(group_lines)
        if group > promotions:
            continue
        base = sum(line.list_fen for line in group_lines)
        common = {"key": f"p{group}", "promotion_id": group, "scope": Scope(categories=frozenset({category}))}
        if size == 1:
            unit = group_lines[0].unit_price_fen
            offers.append(
                Offer(
                    kind=Kind.SPECIAL_PRICE, layer=Layer.ITEM, price_fen=unit - unit // 5 // 10 * 10, **common
                )
            )
            continue
        kind = kinds[group % len(kinds)]
        near_miss = group % 9 == 0  # ¥X.50 short of the threshold
        if kind is Kind.MEMBER_PRICE:
            offers.append(
                Offer(
                    kind=kind,
                    layer=Layer.ITEM,
                    permille=900 - 100 * (group % 8 // 4),
                    **common,
                )
            )
        elif kind is Kind.SPEND_OFF:
            threshold = base + 50 if near_miss else max(100, base // 10000 * 10000)
            offers.append(
                Offer(
                    kind=kind, layer=Layer.SHOP, steps=((threshold, threshold // 10 // 100 * 100),), **common
                )
            )
        elif kind is Kind.SPEND_PERCENT:
            threshold = base + 50 if near_miss else max(100, base // 10000 * 10000)
            offers.append(Offer(kind=kind, layer=Layer.SHOP, steps=((threshold, 800),), **common))
        else:
            items = sum(line.quantity for line in group_lines)
            offers.append(Offer(kind=kind, layer=Layer.SHOP, steps=((min(items, 3), 700),), **common))
    return Cart(lines=tuple(cart_lines), channel="app", tier_rank=2), offers


def oscar_scenario(cart, offers, *, runs: int, warmup: int) -> dict:
    """The same basket and the equivalent Oscar offers (bench/oscar_side.py's input)."""
    from yunying.promotions.engine import Kind

    lines = [
        {"sku": line.sku, "unit_price_fen": line.unit_price_fen, "quantity": line.quantity}
        for line in cart.lines
    ]
    specs = []
    for offer in offers:
        skus = [line.sku for line in cart.lines if offer.scope.covers(line.sku, line.category)]
        count_1 = {"type": "count", "value": 1}
        if offer.kind is Kind.SPECIAL_PRICE:
            (unit,) = {line.unit_price_fen for line in cart.lines if line.sku in skus}
            condition, benefit = count_1, {"type": "fixed_unit", "value": unit - min(unit, offer.price_fen)}
        elif offer.kind is Kind.MEMBER_PRICE:
            condition, benefit = count_1, {"type": "percentage", "value": (1000 - offer.permille) // 10}
        elif offer.kind is Kind.SPEND_OFF and not offer.repeat and len(offer.steps) == 1:
            ((threshold, off),) = offer.steps
            condition, benefit = {"type": "value", "value": threshold}, {"type": "absolute", "value": off}
        elif offer.kind is Kind.SPEND_PERCENT and len(offer.steps) == 1:
            ((threshold, permille),) = offer.steps
            condition = {"type": "value", "value": threshold}
            benefit = {"type": "percentage", "value": (1000 - permille) // 10}
        elif offer.kind is Kind.ITEMS_PERCENT and len(offer.steps) == 1:
            ((items, permille),) = offer.steps
            condition = {"type": "count", "value": items}
            benefit = {"type": "percentage", "value": (1000 - permille) // 10}
        else:
            raise ValueError(f"{offer.key}: no Oscar equivalent for {offer.kind}")
        specs.append(
            {
                "key": offer.key,
                "skus": skus,
                "condition": condition,
                "benefit": benefit,
                "max_applications": 1,
            }
        )
    return {"lines": lines, "offers": specs, "repeat": runs, "warmup": warmup}


# ---------------------------------------------------------------- timing helpers


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def summary(values: list[float]) -> dict:
    return {
        "p50_ms": percentile(values, 0.50),
        "p99_ms": percentile(values, 0.99),
        "mean_ms": statistics.fmean(values),
        "runs": len(values),
    }


def timed(fn, *, runs: int, warmup: int) -> list[float]:
    """Milliseconds of `runs` calls of fn() after `warmup` calls."""
    for _ in range(warmup):
        fn()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def pure_bench(*, runs: int, warmup: int, lines: int = LINES, promotions: int = PROMOTIONS) -> dict:
    """engine.quote() on the scenario, in-process: timings and the quote's figures."""
    from yunying.promotions.engine import quote

    cart, offers = scenario(lines, promotions)
    result = quote(cart, offers)
    assert quote(cart, offers) == result  # deterministic, so what is timed is what is compared
    return summary(timed(lambda: quote(cart, offers), runs=runs, warmup=warmup)) | {
        "lines": len(cart.lines),
        "promotions": len(offers),
        **_figures(result),
    }


def _figures(result) -> dict:
    """A Quote's totals and each automatic offer's amount (0 when it did not apply), in fen."""
    return {
        "subtotal_fen": result.subtotal_fen,
        "discount_fen": result.discount_fen,
        "payable_fen": result.payable_fen,
        "offer_discounts_fen": {a.key: a.amount_fen for a in result.applied},
        "not_applied": {n.key: n.reason for n in result.not_applied},
    }


# ---------------------------------------------------------------- Oscar, in its own venv


def oscar_python() -> Path:
    """The Oscar venv's python, built on first use (reused when it already has Oscar 4.x)."""
    python = OSCAR_VENV / "bin" / "python"
    check = "import oscar,sys; sys.exit(0 if oscar.VERSION[0] == 4 else 1)"
    if python.exists() and subprocess.run([python, "-c", check], capture_output=True).returncode == 0:
        return python
    OSCAR_VENV.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", OSCAR_VENV], check=True)
    pip = [python, "-m", "pip", "--disable-pip-version-check"]
    versions = subprocess.run([*pip, "index", "versions", "django-oscar"], capture_output=True, text=True)
    print(f"django-oscar on the index: {versions.stdout.strip().splitlines()[:1]}", file=sys.stderr)
    subprocess.run([*pip, "install", "-q", OSCAR_REQUIREMENT], check=True)
    return python


def oscar_bench(cart, offers, *, runs: int, warmup: int) -> dict:
    out = subprocess.run(
        [oscar_python(), REPO / "bench" / "oscar_side.py"],
        input=json.dumps(oscar_scenario(cart, offers, runs=runs, warmup=warmup)),
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),  # not the repository: nothing of ours on Oscar's path
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE")},
    )
    if out.returncode:
        raise RuntimeError(f"Oscar's side failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(ours: dict, oscar: dict) -> list[str]:
    """Where ours and Oscar's differ by a fen: per offer, then the total."""
    problems = []
    for key in sorted(
        set(ours["offer_discounts_fen"]) | set(oscar["offer_discounts_fen"]), key=lambda k: int(k[1:])
    ):
        a, b = ours["offer_discounts_fen"].get(key, 0), oscar["offer_discounts_fen"].get(key, 0)
        if a != b:
            problems.append(f"{key}: ours {a} fen, Oscar {b} fen")
    if ours["subtotal_fen"] != oscar["subtotal_fen"]:
        problems.append(f"subtotal: ours {ours['subtotal_fen']}, Oscar {oscar['subtotal_fen']}")
    if ours["payable_fen"] != oscar["total_fen"]:
        problems.append(f"total: ours {ours['payable_fen']}, Oscar {oscar['total_fen']}")
    return problems


# ---------------------------------------------------------------- ours through the database and HTTP


def promotion_raw(offer, starts_at) -> dict:
    """An engine Offer as the values promotions.terms.promotion_validate takes (what the console posts)."""
    from yunying.promotions.engine import Kind

    raw = {
        "name": f"bench {offer.key} {offer.kind}",
        "kind": str(offer.kind),
        "starts_at": starts_at,
        "ends_at": None,
        "skus": sorted(offer.scope.skus),
        "categories": sorted(offer.scope.categories),
        "priority": offer.priority,
    }
    if offer.kind is Kind.SPECIAL_PRICE:
        raw["price_fen"] = offer.price_fen
    elif offer.kind is Kind.MEMBER_PRICE:
        raw["permille"] = offer.permille
    else:
        raw["steps"] = [list(step) for step in offer.steps]
    return raw


def promotions_create(offers) -> list[int]:
    """Save and start each offer as a promotion (the services the console calls); their ids."""
    from datetime import timedelta

    from django.utils import timezone

    from yunying.core.permissions import SYSTEM
    from yunying.promotions.models import PromotionState
    from yunying.promotions.services import promotion_create, promotion_transition
    from yunying.promotions.terms import promotion_validate

    starts_at = timezone.now() - timedelta(hours=1)
    ids = []
    for offer in offers:
        spec, errors = promotion_validate(promotion_raw(offer, starts_at))
        assert spec is not None, (offer.key, errors)
        promotion = promotion_create(spec=spec, actor=SYSTEM)
        promotion_transition(promotion_id=promotion.pk, to=PromotionState.ACTIVE, actor=SYSTEM)
        ids.append(promotion.pk)
    return ids


def quote_lines(cart) -> list:
    from yunying.promotions.quoting import QuoteLine

    return [QuoteLine(line.sku, line.category, line.unit_price_fen, line.quantity) for line in cart.lines]


def queries_of(fn) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


def service_bench(
    *, runs: int, warmup: int, member_id: int | None, lines: int = LINES, promotions: int = PROMOTIONS
) -> dict:
    """quote_cart() against promotions saved in the database (Django set up, no promotions yet):
    its queries for 1 line × 1 promotion, then for the whole scenario, and its timings."""
    from yunying.promotions.quoting import quote_cart

    cart, offers = scenario(lines, promotions)
    one_line = quote_lines(cart)[:1]  # line 1 is in the first promotion's scope (g01)
    ids = promotions_create(offers[:1])
    queries_one = queries_of(lambda: quote_cart(member_id=member_id, lines=one_line, channel=cart.channel))
    ids += promotions_create(offers[1:])
    cart_lines = quote_lines(cart)

    def run():
        return quote_cart(member_id=member_id, lines=cart_lines, channel=cart.channel)

    result = run().quote
    queries = queries_of(run)
    timings = timed(run, runs=runs, warmup=warmup)
    figures = _figures(result)
    # The database's ids name the offers p<id>: back to the scenario's keys, to compare.
    renamed = {f"p{pk}": offer.key for pk, offer in zip(ids, offers, strict=True)}
    figures["offer_discounts_fen"] = {renamed[k]: v for k, v in figures["offer_discounts_fen"].items()}
    figures["not_applied"] = {renamed.get(k, k): v for k, v in figures["not_applied"].items()}
    return (
        summary(timings)
        | figures
        | {"queries": f"{queries_one} → {queries}", "queries_equal": queries_one == queries}
        | {"lines": len(cart.lines), "promotions": len(offers)}
    )


def http_bench(url: str, token: str, *, runs: int, warmup: int, member_external_id: str | None) -> dict:
    """POST /api/v1/quotes with the scenario's cart, one keep-alive connection, one request at a time."""
    import http.client
    from urllib.parse import urlsplit

    cart, _ = scenario()
    body = {
        "lines": [
            {"sku": x.sku, "category": x.category, "unit_price_fen": x.unit_price_fen, "quantity": x.quantity}
            for x in cart.lines
        ],
        "channel": cart.channel,
    }
    if member_external_id:
        body["member"] = {"external_id": member_external_id}
    payload = json.dumps(body)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    answers: list[dict] = []

    def post():
        conn.request("POST", "/api/v1/quotes", body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"POST /api/v1/quotes: {response.status} {data[:500]!r}")
        answers.append(data)

    timings = timed(post, runs=runs, warmup=warmup)
    conn.close()
    last = json.loads(answers[-1])
    return summary(timings) | {
        "subtotal_fen": last["subtotal_fen"],
        "discount_fen": last["discount_fen"],
        "payable_fen": last["payable_fen"],
        "statuses_ok": len(answers),
    }


def child(out: str, runs: int, http_runs: int) -> None:
    """One fresh database (the environment's): the service, then the real server over HTTP."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.harness import Server
    from yunying.core.apikeys import apikey_create
    from yunying.core.permissions import Role
    from yunying.members.models import Member

    call_command("migrate", verbosity=0)
    member = Member.objects.create(external_id="bench-quote")
    report = {"service": service_bench(runs=runs, warmup=100, member_id=member.pk)}
    _, token = apikey_create(name="quote bench", role=Role.INTEGRATION)
    connection.close()
    server = Server(dict(os.environ)).start()
    try:
        report["http"] = http_bench(
            server.url, token, runs=http_runs, warmup=50, member_external_id=member.external_id
        )
    finally:
        server.stop()
    Path(out).write_text(json.dumps(report))


def ours_through_database(mode_name: str, *, runs: int, http_runs: int) -> dict:
    from bench.harness import MODES, mode_env

    with tempfile.TemporaryDirectory() as var_dir:
        env = mode_env(MODES[mode_name], var_dir=var_dir, dbname="yunying_quote_bench")
        out = Path(var_dir) / "report.json"
        subprocess.run(
            [sys.executable, "-m", "bench.quote", "--child", str(out), "--runs", str(runs),
             "--http-runs", str(http_runs)],
            env=env, cwd=REPO, check=True,
        )  # fmt: skip
        return json.loads(out.read_text())


# ---------------------------------------------------------------- the table


def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def table(rows: list[tuple[str, dict | None]], oscar: dict | None) -> list[str]:
    reference = oscar["load_apply"] if oscar else None
    out = [
        "| what | p50 ms | p99 ms | Oscar (load + apply) p99 ÷ this p99 | queries per quote (1 line × 1 promotion → 50 × 30) | payable fen |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in rows:
        if r is None:
            out.append(f"| {name} | not run | | | | |")
            continue
        ratio = f"{reference['p99_ms'] / r['p99_ms']:,.0f}×" if reference else "—"
        out.append(
            f"| {name} | {_ms(r['p50_ms'])} | {_ms(r['p99_ms'])} | {ratio} | {r.get('queries', '—')} "
            f"| {r['payable_fen']} |"
        )
    return out


def _machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_kb // 1024 // 1024} GiB RAM, shared with other work (load average "
        f"{load} at the end of the run: noisy, read the ratios), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def checks(pure: dict, by_mode: dict[str, dict], oscar: dict | None) -> list[str]:
    """The targets, and the totals compared to the fen with Oscar's."""
    out = [f"- engine.quote() p99 {_ms(pure['p99_ms'])} ms (target ≤ {TARGET_P99_MS:g} ms): "
           f"{_verdict(pure['p99_ms'] <= TARGET_P99_MS)}"]  # fmt: skip
    if not by_mode:
        out.append("- quote_cart() and HTTP: not run (yunying.promotions.quoting is not there yet)")
    for mode, report in by_mode.items():
        service = report["service"]
        out.append(
            f"- quote_cart() in-process, {mode}: p99 {_ms(service['p99_ms'])} ms (target ≤ {TARGET_P99_MS:g} ms): "
            f"{_verdict(service['p99_ms'] <= TARGET_P99_MS)}; queries per quote the same for 1 line × 1 "
            f"promotion and 50 × 30 ({service['queries']}): {_verdict(service['queries_equal'])}"
        )
    if not oscar:
        return out
    reference = oscar["load_apply"]["p99_ms"]
    compared = [("engine.quote()", pure)]
    for mode, report in by_mode.items():
        compared += [(f"quote_cart() {mode}", report["service"]), (f"HTTP {mode}", report["http"])]
    ratios = ", ".join(f"{name} {reference / r['p99_ms']:,.0f}×" for name, r in compared)
    slowest = min(reference / r["p99_ms"] for _, r in compared)
    out.append(
        f"- Oscar's p99 ÷ ours: {ratios} (target ≥ {TARGET_RATIO:g}×): {_verdict(slowest >= TARGET_RATIO)}"
    )
    for name, r in compared:
        if "offer_discounts_fen" in r:
            problems, what = compare(r, oscar), "the total and every promotion's discount"
        else:
            problems = (
                []
                if r["payable_fen"] == oscar["total_fen"]
                else [f"ours {r['payable_fen']}, Oscar {oscar['total_fen']}"]
            )
            what = "the total"
        out.append(
            f"- {name} vs Oscar, {what} to the fen: "
            + ("equal" if not problems else "DIFFER: " + "; ".join(problems))
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2000, help="quotes timed in-process (pure and service)")
    parser.add_argument("--http-runs", type=int, default=500)
    parser.add_argument("--oscar-runs", type=int, default=100, help="Oscar takes ~1 s a basket here")
    parser.add_argument("--modes", default="sqlite,postgres", help="databases for quote_cart and HTTP")
    parser.add_argument("--no-oscar", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.runs, args.http_runs)
        return

    cart, offers = scenario()
    pure = pure_bench(runs=args.runs, warmup=200)
    by_mode: dict[str, dict] = {}
    if importlib.util.find_spec("yunying.promotions.quoting"):
        for mode in args.modes.split(","):
            by_mode[mode] = ours_through_database(mode, runs=args.runs, http_runs=args.http_runs)
    oscar = None if args.no_oscar else oscar_bench(cart, offers, runs=args.oscar_runs, warmup=10)
    rows: list[tuple[str, dict | None]] = [("ours: engine.quote(), in-process", pure)]
    for mode, report in by_mode.items():
        rows += [
            (f"ours: quoting.quote_cart(), in-process ({mode})", report["service"]),
            (f"ours: POST /api/v1/quotes ({mode}, granian 2 workers × 2 threads)", report["http"]),
        ]
    lines = table(rows, oscar)
    if oscar:
        for name, label in (
            ("apply", "Oscar: Applicator().apply() + total, basket held (SQLite)"),
            ("load_apply", "Oscar: load the basket, apply, total (SQLite)"),
        ):
            o = oscar[name]
            lines.append(
                f"| {label} | {_ms(o['p50_ms'])} | {_ms(o['p99_ms'])} | — | {o['queries']} (50 × 30) "
                f"| {oscar['total_fen']} |"
            )
    verdicts = checks(pure, by_mode, oscar)
    print("\n".join([*lines, "", *verdicts]))
    if not args.no_write:
        _record(lines, verdicts, args, oscar, pure)


def _record(lines: list[str], checks: list[str], args, oscar: dict | None, pure: dict) -> None:
    doc = REPO / "docs" / "benchmarks.md"
    text = doc.read_text()
    marker = "## Promotions quote"
    versions = (
        f"Oscar {oscar['oscar_version']} on Django {oscar['django_version']}, SQLite, in its own venv"
        if oscar
        else "Oscar not run"
    )
    about = (
        f"Machine: {_machine()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        f"`python -m bench.quote` ({args.runs} quotes in-process, {args.http_runs} over HTTP, "
        f"{args.oscar_runs} Oscar baskets; {versions}). A {pure['lines']}-line cart against "
        f"{pure['promotions']} active promotions of the kinds Oscar has an equivalent for (special price, "
        "member price, 满减 once, 满折, N件M折), each on its own group of lines, so the totals compare to the fen."
    )
    section = "\n".join([marker, "", about, "", *lines, "", *checks, ""])
    if marker in text:
        head, _, rest = text.partition(marker)
        tail = rest.split("\n## ", 1)
        text = head + section + ("\n## " + tail[1] if len(tail) > 1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text)


if __name__ == "__main__":
    main()
