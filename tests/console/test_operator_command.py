import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from yunying.console.access import role_of
from yunying.core.models import AuditEntry
from yunying.core.permissions import Role


def _run(*args, stdin: str = "") -> str:
    import sys

    out, old = io.StringIO(), sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command("operator", *args, stdout=out)
    finally:
        sys.stdin = old
    return out.getvalue()


def test_an_operator_is_created_with_a_role_changed_and_disabled_all_audited(db):
    _run(
        "create",
        "--username",
        "li.na",
        "--role",
        "execution",
        "--password-stdin",
        stdin="long-enough-pass-77\n",
    )
    user = authenticate(username="li.na", password="long-enough-pass-77")
    assert role_of(user) == Role.EXECUTION
    _run("role", "li.na", "support")
    user.refresh_from_db()
    assert role_of(user) == Role.SUPPORT and user.groups.count() == 1
    assert "li.na\tsupport\tactive\ttwo-factor off" in _run("list")
    _run("disable", "li.na")
    assert authenticate(username="li.na", password="long-enough-pass-77") is None
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["operator.created", "operator.role_changed", "operator.disabled"]


def test_a_weak_password_is_refused_by_the_validators(db):
    with pytest.raises(CommandError):
        _run("create", "--username", "li.na", "--role", "auditor", "--password-stdin", stdin="12345678\n")
    assert not AuditEntry.objects.exists()
