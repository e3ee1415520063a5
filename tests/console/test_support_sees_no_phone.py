"""A support-role response never contains a phone number (issue 14 "done when", S1): members and
sign-ups with known phones are seeded, then every console page the support role reaches (from the
navigation, following links) and every API GET with a support key is read; no phone pattern appears."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest

from tests.commerce.factories import order_make
from tests.console.campaign_data import campaign_with_signups
from tests.members.factories import MemberFactory
from yunying.campaigns.models import Signup
from yunying.core.permissions import Role

# Mainland mobile numbers, bare, with +86 / 86, and with spaces or dashes between the groups.
PHONE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)")
PAGES_MAX = 400


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "hx-get") and value:
                self.links.append(value)


def _links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return [link.split("#")[0] for link in parser.links]


@pytest.fixture
def seeded(db):
    campaign = campaign_with_signups(3)
    member = MemberFactory(phone="+8613712345678", name="钱多多", external_id="shop-phone-1")
    order_make(member, "T-PHONE-1", [("SKU-TEA", 5900, 2)])
    return campaign, member


def test_the_phone_pattern_matches_what_it_must():
    for text in ("13900000000", "+86 139 0000 0000", "86-139-0000-0000", "+8613900000000", "139 0000 0000"):
        assert PHONE.search(text), text
    for text in ("139****0000", "2026-12-05 10:35", "23900000000", "1390000000"):
        assert not PHONE.search(text), text


def test_no_console_page_support_reaches_shows_a_phone(console_as, seeded):
    # given
    client = console_as(Role.SUPPORT)
    seen, queue, leaks = set(), deque(["/console/"]), []
    # when: every page reachable by following links, GET only
    while queue and len(seen) < PAGES_MAX:
        url = queue.popleft()
        if url in seen or "logout" in url:
            continue
        seen.add(url)
        response = client.get(url)
        if response.streaming:
            body = b"".join(response.streaming_content).decode("utf-8", "replace")
        else:
            body = response.content.decode("utf-8", "replace")
        leaks += [(url, m) for m in PHONE.findall(body)]
        if response.status_code in (301, 302):
            queue.append(urljoin(url, response["Location"]))
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            links = (urljoin(url, link) for link in _links(body))
            queue.extend(link for link in links if link.startswith("/console/") and link not in seen)
    # then
    assert len(seen) > 10, seen  # the crawl got somewhere: nav and detail pages
    assert any("/members/" in url for url in seen) and any("/signups" in url for url in seen)
    assert leaks == []


def test_no_api_get_with_a_support_key_shows_a_phone(api_as, client, seeded):
    # given
    campaign, member = seeded
    signup = Signup.objects.filter(campaign=campaign).order_by("id").first()
    values = {
        "campaign_id": campaign.pk, "signup_id": signup.pk, "member_id": member.pk,
        "external_id": member.external_id, "id": campaign.pk,
    }  # fmt: skip
    schema = client.get("/api/v1/openapi.json").json()
    support = api_as(Role.SUPPORT)
    read, leaks = 0, []
    # when: every GET operation, path parameters filled with seeded rows
    for path, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: str(values.get(m[1], 1)), path)
        response = support.get(url)
        body = (b"".join(response.streaming_content) if response.streaming else response.content).decode(
            "utf-8", "replace"
        )
        read += response.status_code == 200
        leaks += [(url, m) for m in PHONE.findall(body)]
    # then
    assert read > 5
    assert leaks == []
