"""Load generator, run as its own process so it never shares an interpreter with the server.

    python -m bench.load closed --url … --kind product --campaign 3 --count 20000 --concurrency 200 …
    python -m bench.load open   --url … --kind product --campaign 4 --rate 300 --duration 10 …

Closed loop: `concurrency` connections, each sending its next request when the last answer arrives.
Open loop: requests start on a fixed schedule whatever the answers; latency counts from the scheduled
instant, so a stalled server cannot hide its queue (no coordinated omission). Bounded in count and
time; loopback only. Writes one JSON file: per request [latency ms, status, sign-up id or null, code].
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time

import aiohttp

TIMEOUT_SECONDS = 30


def phones(count: int, *, dup_ratio: float, prefix: str, seed: int) -> list[str]:
    """`count` phone numbers, `dup_ratio` of them repeating an earlier one, shuffled."""
    unique = count - int(count * dup_ratio)
    numbers = [f"{prefix}{i:07d}" for i in range(unique)]
    rng = random.Random(seed)
    numbers += [rng.choice(numbers) for _ in range(count - unique)]
    rng.shuffle(numbers)
    return numbers


def request_for(args, phone: str) -> tuple[str, str, bytes | None, dict]:
    if args.kind == "trivial":
        return "GET", f"{args.url}/bench/trivial", None, {}
    if args.kind == "bare":
        body = json.dumps({"campaign": args.campaign, "member": phone}).encode()
        return "POST", f"{args.url}/bench/bare-admit", body, {"Content-Type": "application/json"}
    body = json.dumps({"member": {"phone": phone}, "channel": "h5"}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {args.token}"}
    return "POST", f"{args.url}/api/v1/campaigns/{args.campaign}/signups", body, headers


async def send(session, args, phone: str, started: float) -> list:
    method, url, body, headers = request_for(args, phone)
    try:
        async with session.request(method, url, data=body, headers=headers) as response:
            raw = await response.read()
            status = response.status
    except (TimeoutError, aiohttp.ClientError):
        return [(time.perf_counter() - started) * 1000, 0, None, "client.timeout_or_error"]
    elapsed = (time.perf_counter() - started) * 1000
    signup_id = code = None
    if args.kind == "product" and raw[:1] == b"{":
        payload = json.loads(raw)
        signup_id = payload.get("id") if status == 201 else None
        code = payload.get("code") or payload.get("status")
    return [elapsed, status, signup_id, code]


async def closed_loop(args, numbers: list[str]) -> tuple[list, float]:
    results: list = [None] * len(numbers)
    cursor = iter(range(len(numbers)))
    connector = aiohttp.TCPConnector(limit=args.concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker():
            for i in cursor:
                results[i] = await send(session, args, numbers[i], time.perf_counter())

        begin = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        return results, time.perf_counter() - begin


async def open_loop(args, numbers: list[str]) -> tuple[list, float]:
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        begin = time.perf_counter()
        tasks = []
        for i, phone in enumerate(numbers):
            scheduled = begin + i / args.rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(session, args, phone, scheduled)))
        results = await asyncio.gather(*tasks)
        return list(results), time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("loop", choices=["closed", "open"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--kind", choices=["product", "bare", "trivial"], required=True)
    parser.add_argument("--campaign", type=int, default=0)
    parser.add_argument("--token", default="")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--dup-ratio", type=float, default=0.0)
    parser.add_argument("--prefix", default="1390", help="4 digits: with 7 more, a valid mainland mobile")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    count = args.count if args.loop == "closed" else int(args.rate * args.duration)
    numbers = phones(count, dup_ratio=args.dup_ratio, prefix=args.prefix, seed=args.seed)
    runner = closed_loop if args.loop == "closed" else open_loop
    results, wall = asyncio.run(runner(args, numbers))
    with open(args.out, "w") as fh:
        json.dump({"wall_seconds": wall, "results": results}, fh)


if __name__ == "__main__":
    main()
