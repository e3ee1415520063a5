"""The console's audit pages say whether the hash chain holds (core.chain): verified through row N,
or broken at row N after someone edited the table behind the application's back."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from yunying.core.audit import ACCESS_TABLE, append_only_sql, pii_access_record
from yunying.core.models import PersonalDataAccess
from yunying.core.permissions import Actor, Role

OPERATOR = Actor(kind="api_key", id=7, label="运营 小王", role=Role.EXECUTION)


@pytest.mark.django_db
def test_the_access_page_shows_a_chain_verified_then_broken(console_as):
    # given
    pii_access_record(actor=OPERATOR, member_ids=[1, 2, 3], fields=["phone"], purpose="customer_service")
    client = console_as(Role.AUDITOR)
    # then
    page = client.get("/console/audit/access/").content.decode()
    assert 'data-chain="ok"' in page and "3" in page
    # when: a row is rewritten in the database
    second = PersonalDataAccess.objects.get(member_id=2)
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in append_only_sql(connection.vendor, drop=True, table=ACCESS_TABLE):
            cursor.execute(statement)
        cursor.execute(f"UPDATE {ACCESS_TABLE} SET purpose = 'x' WHERE id = %s", [second.pk])
    # then
    page = client.get("/console/audit/access/").content.decode()
    assert 'data-chain="broken"' in page and str(second.pk) in page


@pytest.mark.django_db
def test_the_audit_page_shows_the_chain_verified(console_as):
    page = console_as(Role.AUDITOR).get("/console/audit/").content.decode()
    assert 'data-chain="ok"' in page  # signing in is audited: the chain has rows
