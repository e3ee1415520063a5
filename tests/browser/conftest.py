"""Browser tests: Playwright for Python driving Debian's Chromium (/usr/bin/chromium, headless; never a
downloaded browser build) against the shipped server (`yunying serve`, granian, 2 workers) loaded with
the demo data (`yunying demo`), as a person meets the product after `make run`.

How to write one (every browser test module starts with `pytestmark = BROWSER`):

    def test_the_campaign_list(console):              # console(role) → a signed-in desktop page
        page = console("execution")
        page.goto(site.url + "/console/campaigns/")   # or use the `site` fixture's url
        check_page(page, "console-campaign-list")     # axe-core, CSP, no foreign host, screenshot

    def test_the_landing_on_a_phone(phone):           # a 375×812 touch page, no member signed in
        phone.goto(...); check_page(phone, "h5-landing")

`check_page` fails the test on any serious or critical axe-core violation, on any console error (a
Content-Security-Policy refusal is one), on any request to another host, and saves a full-page
screenshot under test-output/screenshots/<name>.png. Operators sign in once per role and session
(TOTP set up on the way for the roles that need it); each test gets a fresh browser context with that
session. `site.var_dir` is the server's var directory (the SMS file channel writes there); `site.run`
runs a `yunying` command against the same database.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("YUNYING_CHROMIUM", "/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-output" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}
BROWSER = [pytest.mark.xdist_group("browser"), pytest.mark.browser]


@dataclass
class Site:
    url: str
    var_dir: Path
    env: dict[str, str]
    logins: dict[str, str]  # username (= role for the demo team) → password
    totp_secrets: dict[str, str] = field(default_factory=dict)  # username → base32 key, once set up

    def run(self, *args: str) -> str:
        return subprocess.run(
            [str(REPO / ".venv/bin/yunying"), *args],
            env=self.env, cwd=REPO, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The product as `make run` leaves it: migrated, static files collected, demo data loaded."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI: no Chromium at {CHROMIUM}; `make test` installs Debian's chromium")
        pytest.skip(f"!!! SKIPPED: no Chromium at {CHROMIUM} (`make browser` installs it; CI runs these) !!!")
    from bench.harness import Server

    var_dir = tmp_path_factory.mktemp("browser-site")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="yunying.settings", YUNYING_VAR_DIR=str(var_dir), YUNYING_LOG_LEVEL="WARNING"
    )
    site = Site(url="", var_dir=var_dir, env=env, logins={})
    site.run("migrate", "--no-input", "-v0")
    site.run("collectstatic", "--no-input", "-v0")
    site.run("demo")
    site.logins = json.loads((var_dir / "demo-credentials.json").read_text())["logins"]
    server = Server(env, product=True).start()
    site.url = server.url
    try:
        yield site
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # root in containers has no user namespace for Chromium's sandbox; fake media for the scanner
            args=["--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],
        )
        yield browser
        browser.close()


class PageWatch:
    """What a page did that a test must not let pass: console errors, requests to other hosts."""

    def __init__(self, page, origin: str) -> None:
        self.errors: list[str] = []
        self.foreign: list[str] = []
        host = urlsplit(origin).netloc
        # "Failed to load resource" says no address: the response listener names it
        page.on(
            "console",
            lambda m: (
                m.type == "error" and not m.text.startswith("Failed to load") and self.errors.append(m.text)
            ),
        )
        page.on(
            "response",
            lambda r: (
                r.status >= 400
                and r.request.resource_type != "document"
                and self.errors.append(f"{r.status} {r.url}")
            ),
        )
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

        def on_request(request):
            parts = urlsplit(request.url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != host:
                self.foreign.append(request.url)

        page.on("request", on_request)


# Headless Chromium names itself "HeadlessChrome", and risk control rightly scores a headless browser as
# a script; the pages under test stand in for a member's own phone or an operator's desktop browser.
MEMBER_PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
DESKTOP_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
)


def _new_page(
    chromium, site: Site, *, viewport: dict, storage_state=None, mobile: bool = False, locale="zh-CN"
):
    context = chromium.new_context(
        user_agent=MEMBER_PHONE_UA if mobile else DESKTOP_UA,
        viewport=viewport,
        is_mobile=mobile,
        has_touch=mobile,
        device_scale_factor=2 if mobile else 1,
        locale=locale,
        storage_state=storage_state,
        base_url=site.url,
        permissions=["camera"],
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.watch = PageWatch(page, site.url)
    return page


def totp_now(secret: str, *, steps_ahead: int = 0) -> str:
    """The authenticator app's code. django-otp refuses a code used before, so a second sign-in in the
    same 30 s uses the next step's code (its tolerance accepts one step of clock drift)."""
    import base64

    from django_otp.oath import totp

    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    return f"{totp(key, t0=-30 * steps_ahead):06d}"


_totp_steps_used: dict[str, int] = {}


def _next_code(username: str, secret: str) -> str:
    """A code never used before for this operator: each use moves one 30 s step ahead of the last."""
    now_step = int(time.time()) // 30
    step = max(now_step, _totp_steps_used.get(username, now_step - 1) + 1)
    if step > now_step + 1:  # past the tolerance: wait for the clock to catch up
        time.sleep((step - 1) * 30 - time.time() + 0.5)
        now_step = int(time.time()) // 30
    _totp_steps_used[username] = step
    return totp_now(secret, steps_ahead=step - now_step)


def console_sign_in(page, site: Site, username: str) -> None:
    """Sign in through the login page; set up TOTP (reading the key off the page) or give a code."""
    page.goto("/console/login/")
    page.get_by_label(re.compile("用户名|Username")).fill(username)
    page.get_by_label(re.compile("密码|Password")).fill(site.logins[username])
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    if "/account/two-factor/" in page.url:
        secret = page.get_by_test_id("totp-secret").inner_text()
        site.totp_secrets[username] = secret
        page.locator("input[name=token]").fill(_next_code(username, secret))
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state()
    elif "/login/verify/" in page.url:
        page.locator("input[name=token]").fill(_next_code(username, site.totp_secrets[username]))
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state()
    assert "/login" not in page.url and "/two-factor/" not in page.url, page.url


@pytest.fixture(scope="session")
def _console_sessions(site, chromium):
    """One sign-in per demo operator for the whole run: their browser storage (session cookie)."""
    sessions: dict[str, dict] = {}

    def session_of(username: str) -> dict:
        if username not in sessions:
            page = _new_page(chromium, site, viewport=DESKTOP)
            console_sign_in(page, site, username)
            sessions[username] = page.context.storage_state()
            page.context.close()
        return sessions[username]

    return session_of


@pytest.fixture
def console(site, chromium, _console_sessions):
    """console("execution") → a desktop page signed in as that demo operator (strategy, execution,
    support, auditor; "operator" is the strategy one)."""
    pages = []

    def open_as(username: str, *, locale: str = "zh-CN"):
        username = {"strategy": "operator"}.get(username, username)
        page = _new_page(
            chromium, site, viewport=DESKTOP, storage_state=_console_sessions(username), locale=locale
        )
        pages.append(page)
        return page

    yield open_as
    for page in pages:
        page.context.close()


@pytest.fixture
def desktop(site, chromium):
    page = _new_page(chromium, site, viewport=DESKTOP)
    yield page
    page.context.close()


@pytest.fixture
def phone(site, chromium):
    """A phone-sized (375×812) touch page with no one signed in."""
    page = _new_page(chromium, site, viewport=PHONE, mobile=True)
    yield page
    page.context.close()


@pytest.fixture
def new_phone(site, chromium):
    """new_phone() → another phone page (a second member), closed after the test."""
    pages = []

    def make(*, locale: str = "zh-CN"):
        page = _new_page(chromium, site, viewport=PHONE, mobile=True, locale=locale)
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.context.close()


AXE_FAILING_IMPACTS = ("serious", "critical")


def check_page(page, name: str, *, axe: bool = True) -> None:
    """The checks every page passes: no console error (CSP refusals included), nothing fetched from
    another host, no serious or critical accessibility violation; then a screenshot."""
    page.wait_for_load_state("networkidle")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    watch = page.watch
    assert not watch.foreign, f"{name}: requests to other hosts: {watch.foreign}"
    assert not watch.errors, f"{name}: console errors: {watch.errors}"
    if axe:
        violations = axe_violations(page)
        assert not violations, (
            f"{name}: accessibility violations: {json.dumps(violations, ensure_ascii=False, indent=1)}"
        )


def axe_violations(page) -> list[dict]:
    """axe-core (the pinned copy the product serves) on the current page: serious and critical only."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in result["violations"]
        if v["impact"] in AXE_FAILING_IMPACTS
    ]


PAUSE_DEMO_PROMOTIONS = """
from yunying.core.permissions import SYSTEM
from yunying.promotions.models import Promotion
from yunying.promotions.services import promotion_transition
for pk in Promotion.objects.filter(state="active").values_list("pk", flat=True):
    promotion_transition(promotion_id=pk, to="paused", actor=SYSTEM)
"""


@pytest.fixture(scope="module")
def demo_promotions_paused(site):
    """The demo's running promotions (双12满减, 新人券 on registration...) paused: the promotions pages'
    tests price and count their own offers only."""
    site.run("shell", "-v0", "-c", PAUSE_DEMO_PROMOTIONS)
