"""The real-name check page: only after the separate consent, the number never echoed back, errors
with their codes (S4)."""

from __future__ import annotations

import pytest

from tests.h5.conftest import consent
from yunying.members.models import Member

VALID = "11010519491231002X"


def test_without_the_separate_consent_the_page_sends_the_member_to_give_it(member_client):
    page = member_client.get("/m/me/identity/")
    assert page.status_code == 200
    assert b'id="identity-needs-consent"' in page.content and b'name="number"' not in page.content
    refused = member_client.post("/m/me/identity/", {"name": "王小明", "number": VALID})
    assert refused.status_code == 400 and b'data-code="identity.consent_required"' in refused.content


def test_a_member_who_agreed_is_checked_and_the_number_is_not_shown_back(member_client):
    # given the member agrees to sensitive information
    consent(member_client, sensitive=True)
    # when
    done = member_client.post("/m/me/identity/", {"name": "王小明", "number": VALID})
    page = member_client.get(done["Location"])
    # then
    assert done.status_code == 302 and b'data-result="passed"' in page.content
    assert VALID.encode() not in page.content
    assert Member.objects.get().identity_check == "passed"


@pytest.mark.parametrize("number", [VALID[:-1] + "1", "x" * 24, ""], ids=["check-char", "junk", "empty"])
def test_a_wrong_number_is_a_400_with_its_code_and_not_echoed(member_client, number):
    consent(member_client, sensitive=True)
    refused = member_client.post("/m/me/identity/", {"name": "王小明", "number": number})
    assert refused.status_code == 400 and b'data-code="identity.number_invalid"' in refused.content
    assert not number or number.encode() not in refused.content
