"""A member on the member pages: consent, SMS code (read where the dev channel writes it), signed in."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.campaigns.factories import CampaignFactory


def sms_codes(notify_dir) -> list[dict]:
    """Every SMS the file channel wrote, oldest first."""
    path = notify_dir / "sms.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def last_code(notify_dir, phone_e164: str) -> str:
    import re

    for message in reversed(sms_codes(notify_dir)):
        if message["address"] == phone_e164:
            return re.search(r"\b(\d{6})\b", message["body"]).group(1)
    raise AssertionError(f"no SMS to {phone_e164}")


def consent(client: Client, *, marketing: bool = False, sensitive: bool = False, next_path: str = ""):
    data = {"version": "2026-12", "accept": "on"}
    if marketing:
        data["marketing"] = "on"
    if sensitive:
        data["sensitive"] = "on"
    if next_path:
        data["next"] = next_path
    return client.post("/m/privacy/", data)


def sign_in(client: Client, notify_dir, phone: str = "13800138000", *, e164: str | None = None):
    """Consent, send a code, read it from the SMS file, verify: the member's own way in."""
    consent(client)
    response = client.post("/m/signin/", {"step": "send", "phone": phone})
    assert response.status_code == 200, response.content
    code = last_code(notify_dir, e164 or "+86" + phone[-11:])
    response = client.post("/m/signin/", {"step": "verify", "phone": phone, "code": code})
    assert response.status_code == 302, response.content.decode()
    return response


@pytest.fixture
def member_client(db, notify_dir, settings):
    """A Django test client signed in as a member (phone 13800138000), consent given."""
    settings.PRIVACY_POLICY_VERSION = "2026-12"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, notify_dir)
    return client


@pytest.fixture
def h5_campaign(db):
    """Published, open, first-come, on the h5 channel, two questions."""
    return CampaignFactory(
        status="published",
        form=[
            {"key": "size", "label": "T-shirt size", "type": "single_choice", "required": True,
             "options": [{"value": "m", "label": "M"}, {"value": "l", "label": "L"}]},
            {"key": "note", "label": "Anything else", "type": "text", "max_length": 100},
        ],
    )  # fmt: skip
