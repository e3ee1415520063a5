def test_the_roles_table_in_the_api_docs_is_the_code_s():
    """docs/api.md "Roles and permissions" against ROLE_PERMISSIONS (it drifted: the auditor was shown
    with campaign.view, promotions were missing — attacker review). scripts/roles_table.py rewrites it."""
    import re
    from pathlib import Path

    from yunying.core.permissions import ROLE_PERMISSIONS, Perm, Role

    doc = (Path(__file__).resolve().parents[2] / "docs/api.md").read_text()
    row = re.compile(r"^\| `([a-z_.]+)` — .*? \|((?: ?✓? ?\|){5})$")
    roles = [Role.STRATEGY, Role.EXECUTION, Role.SUPPORT, Role.INTEGRATION, Role.AUDITOR]
    table = {}
    for line in doc.splitlines():
        if m := row.match(line):
            cells = m.group(2).split("|")[:5]
            table[m.group(1)] = {role for role, cell in zip(roles, cells, strict=True) if "✓" in cell}
    code = {perm.value: {role for role in roles if perm in ROLE_PERMISSIONS[role]} for perm in Perm}
    assert table == code
