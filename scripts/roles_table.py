"""Rewrite the roles table in docs/api.md from core.permissions.ROLE_PERMISSIONS (the one source):
each row keeps its description, check marks come from the code, permissions missing from the table
get a row with their console label. `tests/core/test_permissions_labels.py` fails when they drift.

    DJANGO_SETTINGS_MODULE=yunying.settings .venv/bin/python scripts/roles_table.py"""

import re
from pathlib import Path

import django

django.setup()

from yunying.core.permissions import PERM_LABELS, ROLE_PERMISSIONS, Perm, Role  # noqa: E402

DOC = Path(__file__).resolve().parent.parent / "docs/api.md"
ROLES = [Role.STRATEGY, Role.EXECUTION, Role.SUPPORT, Role.INTEGRATION, Role.AUDITOR]
ROW = re.compile(r"^\| `([a-z_.]+)` — (.*?) \|(?: ?✓? ?\|){5}$")


def table_rows(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for line in text.splitlines() if (m := ROW.match(line))}


def render(descriptions: dict[str, str]) -> list[str]:
    from django.utils import translation

    lines = []
    with translation.override("en"):
        for perm in Perm:
            text = descriptions.get(perm.value) or str(PERM_LABELS[perm])
            marks = "".join(" ✓ |" if perm in ROLE_PERMISSIONS[role] else " |" for role in ROLES)
            lines.append(f"| `{perm.value}` — {text} |{marks}")
    return lines


def main() -> None:
    text = DOC.read_text()
    lines = text.splitlines()
    rows = [i for i, line in enumerate(lines) if ROW.match(line)]
    new = render(table_rows(text))
    lines[rows[0] : rows[-1] + 1] = new
    DOC.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
