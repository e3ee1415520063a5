"""The real-name check on a phone: found from the privacy page, refused until the separate consent for
sensitive information is given, then checked; withdrawing that consent erases the result (S4)."""

from __future__ import annotations

import re

from tests.browser.conftest import check_page
from tests.browser.test_member_pages import consent_and_sign_in


def test_a_member_gives_the_separate_consent_checks_their_identity_and_withdraws_it(phone, site):
    # given a signed-in member who did not tick the sensitive-information box
    phone.goto(site.url + "/m/me/")
    consent_and_sign_in(phone, site, "13745137031")
    phone.goto(site.url + "/m/me/privacy/")
    phone.locator("#identity-link").click()
    phone.wait_for_url(re.compile("/m/me/identity/"))
    assert phone.locator("#identity-needs-consent").is_visible()
    check_page(phone, "h5-identity-needs-consent")
    # when they agree to sensitive information and check their identity
    phone.goto(site.url + "/m/me/privacy/")
    phone.locator("li[data-purpose=sensitive] button").click()
    phone.wait_for_url(re.compile("/m/me/privacy/"))
    phone.locator("#identity-link").click()
    phone.get_by_label(re.compile("姓名")).fill("王小明")
    phone.get_by_label(re.compile("身份证号")).fill("11010519491231002x")
    phone.get_by_role("button", name="提交核验").click()
    phone.wait_for_url(re.compile("/m/me/identity/"))
    # then the page shows the result, never the number
    assert phone.locator("#identity-status").get_attribute("data-result") == "passed"
    assert "11010519491231002" not in phone.content()
    check_page(phone, "h5-identity-passed")
    # and withdrawing the consent erases it
    phone.goto(site.url + "/m/me/privacy/")
    phone.locator("li[data-purpose=sensitive] button").click()
    phone.wait_for_url(re.compile("/m/me/privacy/"))
    phone.goto(site.url + "/m/me/identity/")
    assert phone.locator("#identity-status").get_attribute("data-result") == ""
