"""Points ledger benchmark (`make bench`): postings per second and the nightly expiry of many lots,
SQLite and PostgreSQL side by side, each in a child process on a fresh database.

- earn / spend: loyalty.ledger.points_earn and points_spend, one transaction each (what an order, a
  check-in or a checkout costs), over POSTINGS postings spread across 1,000 members;
- floor: the same earnings written with bulk_create and nothing checked (no lock, no replay check);
- expiry: loyalty.ledger.points_expire_due over LOTS expired lots (10 per member), set-based;
- naive: the per-row loop most code writes (for each lot: lock its account, insert the posting and
  the allocation, save the lot, save the account), on a SAMPLE of lots, extrapolated.

    python -m bench.points_bench [--modes sqlite,postgres] [--lots 1000000] [--postings 5000] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

from bench.harness import MODES, REPO, mode_env

MEMBERS = 1_000
LOTS_PER_MEMBER = 10
NAIVE_SAMPLE = 5_000


def _setup():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _members(n: int, prefix: str) -> list[int]:
    from yunying.members.models import Member

    Member.objects.bulk_create([Member(external_id=f"{prefix}-{i}") for i in range(n)], batch_size=5000)
    return list(Member.objects.filter(external_id__startswith=f"{prefix}-").values_list("pk", flat=True))


def _postings(count: int) -> dict:
    from yunying.core.permissions import SYSTEM
    from yunying.loyalty.ledger import points_earn, points_spend
    from yunying.loyalty.models import PointAccount, PointAllocation, PointLot, PointPosting, PostingSource

    members = _members(MEMBERS, "post")
    started = time.perf_counter()
    for n in range(count):
        points_earn(
            member_id=members[n % MEMBERS], points=100, key=f"e{n}", source=PostingSource.MANUAL, actor=SYSTEM,
            expires_at=None,
        )  # fmt: skip
    earn = time.perf_counter() - started
    started = time.perf_counter()
    for n in range(count):
        points_spend(
            member_id=members[n % MEMBERS], points=10, key=f"s{n}", source=PostingSource.REDEEM, actor=SYSTEM
        )
    spend = time.perf_counter() - started
    # The floor: the same rows of earnings with nothing checked.
    floor_members = _members(MEMBERS, "floor")
    from django.db import transaction
    from django.utils import timezone

    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        accounts = PointAccount.objects.bulk_create([PointAccount(member_id=m) for m in floor_members])
        postings = PointPosting.objects.bulk_create(
            [
                PointPosting(
                    account=accounts[n % MEMBERS],
                    kind="earn",
                    source="manual",
                    business_key=f"f{n}",
                    points=100,
                    actor_kind="system",
                    actor_label="bench",
                    created_at=now,
                )
                for n in range(count)
            ],
            batch_size=1000,
        )
        lots = PointLot.objects.bulk_create(
            [
                PointLot(account_id=p.account_id, posting=p, points=100, remaining=100, earned_at=now)
                for p in postings
            ],
            batch_size=1000,
        )
        PointAllocation.objects.bulk_create(
            [PointAllocation(posting=p, lot=lot, points=100) for p, lot in zip(postings, lots, strict=True)],
            batch_size=1000,
        )
    floor = time.perf_counter() - started
    from yunying.loyalty.ledger import ledger_rebuild

    ledger_rebuild(floor_members)  # the floor wrote no balances: derive them, so the ledger checks out
    return {"count": count, "earn": earn, "spend": spend, "floor": floor}


def _expired_lots(lots: int, prefix: str) -> None:
    """`lots` lots, already expired, LOTS_PER_MEMBER a member, written in bulk (the set-up, not measured)."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from yunying.loyalty.models import PointAccount, PointAllocation, PointLot, PointPosting

    now = timezone.now()
    members = _members(lots // LOTS_PER_MEMBER, prefix)
    chunk = 50_000
    with transaction.atomic():
        accounts = PointAccount.objects.bulk_create(
            [PointAccount(member_id=m, balance=100 * LOTS_PER_MEMBER) for m in members], batch_size=5000
        )
    for start in range(0, lots, chunk):
        with transaction.atomic():
            postings = PointPosting.objects.bulk_create(
                [
                    PointPosting(
                        account=accounts[n // LOTS_PER_MEMBER],
                        kind="earn",
                        source="checkin",
                        business_key=f"{prefix}{n}",
                        points=100,
                        actor_kind="system",
                        actor_label="bench",
                        created_at=now - timedelta(days=400),
                    )
                    for n in range(start, min(lots, start + chunk))
                ],
                batch_size=2000,
            )
            made = PointLot.objects.bulk_create(
                [
                    PointLot(
                        account_id=p.account_id,
                        posting=p,
                        points=100,
                        remaining=100,
                        earned_at=now - timedelta(days=400),
                        expires_at=now - timedelta(days=1),
                    )
                    for p in postings
                ],
                batch_size=2000,
            )
            PointAllocation.objects.bulk_create(
                [
                    PointAllocation(posting=p, lot=lot, points=100)
                    for p, lot in zip(postings, made, strict=True)
                ],
                batch_size=2000,
            )


def _naive_expire() -> int:
    """The per-row loop: each lot in its own transaction, its account locked, four writes."""
    from django.db import transaction
    from django.utils import timezone

    from yunying.loyalty.models import PointAccount, PointAllocation, PointLot, PointPosting

    now = timezone.now()
    done = 0
    for lot_id in list(
        PointLot.objects.filter(expires_at__lte=now, remaining__gt=0).values_list("pk", flat=True)
    ):
        with transaction.atomic():
            lot = PointLot.objects.select_related("posting").get(pk=lot_id)
            account = PointAccount.objects.select_for_update().get(pk=lot.account_id)
            posting = PointPosting.objects.create(
                account=account, kind="expire", source=lot.posting.source, business_key=f"naive-expire:{lot.pk}",
                points=-lot.remaining, related=lot.posting, actor_kind="system", actor_label="bench", created_at=now,
            )  # fmt: skip
            PointAllocation.objects.create(posting=posting, lot=lot, points=-lot.remaining)
            account.balance -= lot.remaining
            account.save()
            lot.remaining = 0
            lot.save()
            done += 1
    return done


def child(mode: str, lots: int, postings: int) -> None:
    _setup()
    from yunying.loyalty.ledger import ledger_reconcile, points_expire_due
    from yunying.loyalty.models import PointLot

    result = {"postings": _postings(postings)}
    _expired_lots(NAIVE_SAMPLE, "naive")
    started = time.perf_counter()
    naive = _naive_expire()
    result["naive"] = {"lots": naive, "seconds": time.perf_counter() - started}
    _expired_lots(lots, "lot")
    started = time.perf_counter()
    counts = points_expire_due()
    result["expire"] = {"lots": counts.get("expired_lots", 0), "seconds": time.perf_counter() - started}
    assert not PointLot.objects.filter(remaining__gt=0, expires_at__isnull=False).exists()
    result["drift"] = len(ledger_reconcile())
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modes", default="sqlite,postgres")
    parser.add_argument("--lots", type=int, default=1_000_000)
    parser.add_argument("--postings", type=int, default=5_000)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.lots, args.postings)
        return
    lines = [
        "| database | what | count | seconds | per second | ratio |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for mode_name in args.modes.split(","):
        with tempfile.TemporaryDirectory() as var_dir:
            env = mode_env(MODES[mode_name], var_dir=var_dir, dbname="yunying_points_bench")
            out = subprocess.run(
                [sys.executable, "-m", "bench.points_bench", "--child", mode_name, "--lots", str(args.lots),
                 "--postings", str(args.postings)],
                env=env, cwd=REPO, check=True, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            r = json.loads(out.stdout.strip().splitlines()[-1])
        p = r["postings"]
        floor_rate = p["count"] / p["floor"]
        for name, seconds in (
            ("points_earn (one transaction each)", p["earn"]),
            ("points_spend (one transaction each)", p["spend"]),
            ("floor: bulk_create, nothing checked", p["floor"]),
        ):
            rate = p["count"] / seconds
            lines.append(
                f"| {mode_name} | {name} | {p['count']:,} | {seconds:.2f} | {rate:,.0f} | {rate / floor_rate:.3f} × floor |"
            )
        expire_rate = r["expire"]["lots"] / r["expire"]["seconds"]
        naive_rate = r["naive"]["lots"] / r["naive"]["seconds"]
        lines.append(
            f"| {mode_name} | nightly expiry: points_expire_due (set-based) | {r['expire']['lots']:,} lots | {r['expire']['seconds']:.1f} | {expire_rate:,.0f} | {expire_rate / naive_rate:.1f} × naive |"
        )
        lines.append(
            f"| {mode_name} | naive per-row loop ({r['naive']['lots']:,} lots, extrapolated to {args.lots:,}) | "
            f"{args.lots:,} lots | {args.lots / naive_rate:.1f} | {naive_rate:,.0f} | 1 |"
        )
        assert r["drift"] == 0, "the ledger drifted"
    print("\n".join(lines))
    if not args.no_write:
        _record(lines, args)


def _record(lines: list[str], args) -> None:
    doc = REPO / "docs" / "benchmarks.md"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    marker = "## Points ledger"
    machine = (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work (noisy), Python "
        f"{platform.python_version()}, SQLite (WAL) and PostgreSQL on the same host; "
        f"{time.strftime('%Y-%m-%d', time.gmtime())}. `python -m bench.points_bench --lots {args.lots} "
        f"--postings {args.postings}`. After the expiry, ledger_reconcile() found no drift."
    )
    section = "\n".join([marker, "", machine, "", *lines, ""])
    if marker in text:
        head, _, rest = text.partition(marker)
        tail = rest.split("\n## ", 1)
        text = head + section + ("\n## " + tail[1] if len(tail) > 1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text)


if __name__ == "__main__":
    main()
