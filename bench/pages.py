"""Page latency benchmark (`make bench-pages`): console and member pages on the demo data.

Starts the real server (`yunying serve`, granian, 2 workers × 2 threads, SQLite, as `make run` does) on
a fresh var dir loaded with `yunying demo`, signs in as the demo execution operator, and times each
page from a separate client over loopback: 20 warm-up requests, then --requests sequential ones
(p50/p95/p99), then the same with --clients concurrent clients (p95). Side by side in the same run:

- floor:        GET /healthz — the whole middleware stack, no page (the raw floor of any answer)
- alternative:  the Django admin's change list of the same sign-ups — what a team would use without a
                console (django-otp makes the admin ask for a code too; the benchmark verifies one)

Results go to stdout and, unless --no-write, to docs/benchmarks.md between the pages markers. The
issue's target: every page under 200 ms at p95 on the demo data.

    python -m bench.pages [--requests 200] [--clients 4] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from bench.harness import BIN, REPO, Server

TARGET_P95_MS = 200
MARK_BEGIN = "<!-- pages:begin -->"
MARK_END = "<!-- pages:end -->"


def _yunying(env: dict, *args: str) -> str:
    return subprocess.run(
        [str(BIN / "yunying"), *args], env=env, cwd=REPO, check=True, capture_output=True, text=True
    ).stdout


def _sign_in(url: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{url}/console/login/")
    response = session.post(
        f"{url}/console/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{url}/console/login/"},
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise RuntimeError(f"sign-in as {username} failed: {response.status_code}")
    return session


def _admin_session(url: str, env: dict, password: str) -> requests.Session:
    """The strategy operator in the Django admin, with a TOTP device made for the benchmark."""
    script = (
        "from django.contrib.auth import get_user_model;"
        "from django_otp.plugins.otp_totp.models import TOTPDevice;"
        "from django_otp.oath import totp;"
        "u=get_user_model().objects.get(username='operator');"
        "d,_=TOTPDevice.objects.get_or_create(user=u, name='bench', defaults={'confirmed': True});"
        "print(f'{totp(d.bin_key):06d}', d.persistent_id)"
    )
    code, device = _yunying(env, "shell", "-v0", "-c", script).strip().splitlines()[-1].split()
    session = requests.Session()
    session.get(f"{url}/admin/login/")
    response = session.post(
        f"{url}/admin/login/?next=/admin/",
        data={
            "username": "operator",
            "password": password,
            "otp_token": code,
            "otp_device": device,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{url}/admin/login/"},
        allow_redirects=False,
    )
    if response.status_code != 302:
        errors = re.findall(
            r'class="errornote">\s*([^<]+)|<ul class="errorlist[^"]*"><li>([^<]+)', response.text
        )
        raise RuntimeError(f"admin sign-in failed: {response.status_code} {errors}")
    return session


def _pages(url: str, env: dict) -> dict[str, str]:
    """Every console page the execution role opens, on the demo campaign with the most sign-ups."""
    script = (
        "from django.db.models import Count;"
        "from yunying.campaigns.models import Campaign;"
        "c=Campaign.objects.annotate(n=Count('signups')).order_by('-n').first();"
        "p=Campaign.objects.filter(status='published').order_by('id').first();"
        "print(c.pk, c.n, p.pk)"
    )
    biggest, signups, published = _yunying(env, "shell", "-v0", "-c", script).strip().splitlines()[-1].split()
    return {
        "console: dashboard": "/console/dashboard/",
        "console: campaign list": "/console/campaigns/",
        "console: campaign detail": f"/console/campaigns/{biggest}/",
        f"console: sign-up list ({signups} rows, page 1)": f"/console/campaigns/{biggest}/signups/",
        "console: live monitor": f"/console/campaigns/{biggest}/monitor/",
        "console: live monitor's 3 s refresh": f"/console/campaigns/{biggest}/monitor/live/",
        "console: report": f"/console/campaigns/{biggest}/report/",
        "console: review queue": "/console/review/",
        "console: attendance": f"/console/attendance/?campaign={biggest}",
        "member: campaign landing": f"/m/c/{published}/",
        "floor: /healthz": "/healthz",
        "alternative: admin sign-up list": "/admin/campaigns/signup/",
    }


def _time(session: requests.Session, url: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.get(url, allow_redirects=False)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    return samples


def _concurrent(sessions: list[requests.Session], url: str, count: int) -> list[float]:
    results: list[list[float]] = [[] for _ in sessions]
    threads = [
        threading.Thread(target=lambda i=i: results[i].extend(_time(sessions[i], url, count)))
        for i in range(len(sessions))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [s for part in results for s in part]


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(requests_per_page: int, clients: int) -> tuple[list[dict], dict]:
    var_dir = Path(tempfile.mkdtemp(prefix="yunying-bench-pages-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="yunying.settings", YUNYING_VAR_DIR=str(var_dir), YUNYING_LOG_LEVEL="WARNING"
    )
    _yunying(env, "migrate", "--no-input", "-v0")
    _yunying(env, "collectstatic", "--no-input", "-v0")
    _yunying(env, "demo")
    logins = json.loads((var_dir / "demo-credentials.json").read_text())["logins"]
    server = Server(env, product=True).start()
    try:
        pages = _pages(server.url, env)
        operator = [_sign_in(server.url, "execution", logins["execution"]) for _ in range(clients)]
        admin = [_admin_session(server.url, env, logins["operator"])]
        for _ in range(clients - 1):  # a TOTP code opens one sign-in: the other clients share its session
            clone = requests.Session()
            clone.cookies.update(admin[0].cookies)
            admin.append(clone)
        rows = []
        for label, path in pages.items():
            sessions = admin if label.startswith("alternative") else operator
            url = server.url + path
            _time(sessions[0], url, 20)
            serial = _time(sessions[0], url, requests_per_page)
            loaded = _concurrent(sessions, url, max(requests_per_page // clients, 25))
            rows.append(
                {
                    "page": label,
                    "p50": statistics.median(serial),
                    "p95": _pct(serial, 0.95),
                    "p99": _pct(serial, 0.99),
                    f"p95_x{clients}": _pct(loaded, 0.95),
                }
            )
    finally:
        server.stop()
    machine = {
        "cpu": _cpu(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    return rows, machine


def _cpu() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
        return re.search(r"model name\s*:\s*(.+)", text).group(1).strip()
    except (OSError, AttributeError):
        return platform.processor() or "unknown"


def table(rows: list[dict], clients: int) -> str:
    floor = next(r for r in rows if r["page"].startswith("floor"))["p50"]
    lines = [
        f"| page | p50 ms | p95 ms | p99 ms | p95 ms, {clients} clients | p50 ÷ floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['page']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
            f"{r[f'p95_x{clients}']:.1f} | {r['p50'] / floor:.1f}× |"
        )
    return "\n".join(lines)


def write(text: str) -> None:
    path = REPO / "docs" / "benchmarks.md"
    doc = path.read_text()
    block = f"{MARK_BEGIN}\n{text}\n{MARK_END}"
    if MARK_BEGIN in doc:
        doc = re.sub(re.escape(MARK_BEGIN) + ".*?" + re.escape(MARK_END), lambda _m: block, doc, flags=re.S)
    else:
        doc = doc.rstrip() + "\n\n## Console and member pages (`make bench-pages`)\n\n" + block + "\n"
    path.write_text(doc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows, machine = run(args.requests, args.clients)
    over = [
        r["page"]
        for r in rows
        if not r["page"].startswith(("floor", "alternative")) and r["p95"] > TARGET_P95_MS
    ]
    text = "\n".join(
        [
            f"Measured {machine['date']} on {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}; "
            f"SQLite, `yunying serve` (granian, 2 workers × 2 threads), demo data, signed in as the execution "
            f"operator; {args.requests} sequential requests per page after 20 warm-ups, then {args.clients} "
            "concurrent clients. The machine is shared and noisy: read the ratios.",
            "",
            table(rows, args.clients),
            "",
            f"Target p95 < {TARGET_P95_MS} ms (sequential): "
            + ("every page meets it." if not over else f"over it: {', '.join(over)}."),
        ]
    )
    print(text)
    if not args.no_write:
        write(text)


if __name__ == "__main__":
    main()
