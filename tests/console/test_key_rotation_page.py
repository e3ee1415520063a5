"""The key-rotation page (audit section): the strategy role sees each sealed column's share under the
active key and which key ids still seal values; roles without pii.keys_manage get 403."""

from __future__ import annotations

import pytest

from tests.members.factories import mobile
from yunying.core.permissions import Role
from yunying.core.registry import sealed_columns
from yunying.members.services import member_resolve
from yunying.privacy.keys import rotation_batch

URL = "/console/audit/keys/"
NEW = "k9:bmV3LXRlc3Qtb25seS1waWkta2V5LW5pbmUtbmluZQ"


def test_strategy_sees_progress_per_column_and_keys_in_use(console_as, settings):
    for n in range(1, 5):
        member_resolve(phone=mobile(n), external_id=None)
    client = console_as(Role.STRATEGY)
    settings.PII_KEYS = f"{NEW},{settings.PII_KEYS}"
    phone = next(c for c in sealed_columns() if c.label == "members.Member.phone_encrypted")
    rotation_batch(phone, batch=2)
    # when
    response = client.get(URL)
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert 'aria-label="members.Member.phone_encrypted" aria-valuenow="50"' in page
    assert "<code>t2</code>: 2" in page and "<code>k9</code>: 2" in page
    assert "2/4 → <code>k9</code>" in page
    # t1 seals nothing: it can go; t2 still seals the other two phones
    rows = {line.split("</code>")[0]: line for line in page.split("<tr>") if "<td><code>t" in line}
    assert "可以停用" in rows["\n    <td><code>t1"] and "请保留" in rows["\n    <td><code>t2"]


@pytest.mark.parametrize("role", [Role.EXECUTION, Role.SUPPORT, Role.AUDITOR])
def test_roles_without_the_permission_get_403(console_as, role):
    assert console_as(role).get(URL).status_code == 403


def test_the_audit_tabs_show_the_page_only_to_who_may_open_it(console_as):
    assert URL in console_as(Role.STRATEGY).get("/console/audit/").content.decode()
    assert URL not in console_as(Role.AUDITOR).get("/console/audit/").content.decode()
