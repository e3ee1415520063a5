"""The console's frame in a real browser: signing in (with TOTP), the navigation each role sees, the
403 page for the rest, the language switch, and the pinned assets served by the product itself."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from tests.browser.conftest import BROWSER, check_page
from yunying.console.nav import NAV
from yunying.core.permissions import ROLE_PERMISSIONS, Role

pytestmark = BROWSER

ROLES = ["strategy", "execution", "support", "auditor"]


def test_the_sign_in_page(desktop):
    desktop.goto("/console/login/")
    assert desktop.get_by_role("heading", level=1).inner_text() == "登录运营控制台"
    check_page(desktop, "console-login")


def test_a_wrong_password_is_refused_in_the_page(desktop):
    desktop.goto("/console/login/")
    desktop.get_by_label(re.compile("用户名")).fill("execution")
    desktop.get_by_label(re.compile("密码")).fill("not-the-password")
    desktop.locator("form button[type=submit]").last.click()
    assert desktop.get_by_role("alert").first.inner_text() == "用户名或密码错误。"
    check_page(desktop, "console-login-refused")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_its_sections_and_gets_403_on_the_others(console, site, role):
    page = console(role)
    page.goto("/console/account/")
    check_page(page, f"console-account-{role}")
    allowed = {item for item in NAV if item.perm is None or item.perm in ROLE_PERMISSIONS[Role(role)]}
    for item in NAV:
        with translation.override("zh-hans"):  # the page's language, whatever another test left active
            label = str(item.label)
        # the whole label: 促销 is also the start of 促销预算
        link = page.locator("nav.sidebar a").filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
        assert (link.count() == 1) == (item in allowed), (role, item.key)
    # every section the role lacks answers 403 through the server, link or no link
    for item in NAV:
        if item not in allowed:
            response = page.goto(reverse(item.url_name))
            assert response.status == 403, (role, item.key, response.status)


def test_the_language_switch_turns_the_console_to_english_and_back(console):
    page = console("execution")
    page.goto("/console/account/")
    assert page.get_by_role("heading", level=1).inner_text() == "我的账号"
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "My account"
    assert page.locator("html").get_attribute("lang") == "en"
    check_page(page, "console-account-english")
    page.get_by_role("button", name="简体中文").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "我的账号"


def test_every_pinned_asset_is_served_by_the_product(desktop):
    """The third-party files come from the product itself (no CDN at run time), as unpacked from the
    tarballs whose sha512 the npm lockfile pins (core.assets refuses any other)."""
    from yunying.core.assets import FILES

    for package, paths in FILES.items():
        for path in paths:
            response = desktop.request.get(f"/static/vendor/{package}/{path}")
            assert response.status == 200, (package, path)
            assert len(response.body()) > 1000, (package, path)
