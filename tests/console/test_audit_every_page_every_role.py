"""Every page and action of the review, attendance, member, API key and audit sections refuses (403)
each role that lacks its permission, by GET and by POST — read from the views' own declared perm."""

from __future__ import annotations

import pytest

from yunying.console.views import apikeys, attendance, audit, members, review
from yunying.core.permissions import ROLE_PERMISSIONS, Role

OPERATOR_ROLES = [Role.STRATEGY, Role.EXECUTION, Role.SUPPORT, Role.AUDITOR]
PATTERNS = [p for module in (review, attendance, members, apikeys, audit) for p in module.urlpatterns]


def _url(pattern) -> str:
    return "/console/" + str(pattern.pattern).replace("<int:key_id>", "1")


CASES = [
    pytest.param(pattern, role, id=f"{pattern.name}-{role}")
    for pattern in PATTERNS
    for role in OPERATOR_ROLES
    if pattern.callback.console_perm not in ROLE_PERMISSIONS[role]
]


def test_every_view_declares_its_permission():
    assert all(pattern.callback.console_perm is not None for pattern in PATTERNS)


@pytest.mark.parametrize(("pattern", "role"), CASES)
def test_a_role_without_the_permission_gets_403(console_as, pattern, role):
    client = console_as(role)
    assert client.get(_url(pattern)).status_code == 403
    assert client.post(_url(pattern), {"ticket": "x", "code": "x"}).status_code == 403
