"""Upgrading a database written before row binding and per-field index keys: the members migration
gives each row its token, re-encrypts its values bound to the row and recomputes the phone index, so
members written by the old code are still found by phone and read."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from yunying.core import crypto
from yunying.members.services import member_find, member_name, member_phone

BEFORE = [("members", "0001_initial")]


def _v1(plaintext: str, context: str) -> str:
    active, keys = crypto._key_ring(settings.PII_KEYS)
    nonce = os.urandom(12)
    token = base64.urlsafe_b64encode(
        nonce + AESGCM(keys[active]).encrypt(nonce, plaintext.encode(), context.encode())
    )
    return f"v1:{active}:{token.decode().rstrip('=')}"


def _old_index(value: str, context: str) -> str:
    return hmac.new(
        settings.BLIND_INDEX_KEY.encode(), f"{context}\x00{value}".encode(), hashlib.sha256
    ).hexdigest()[:40]


@pytest.mark.django_db(transaction=True)
def test_members_written_by_the_old_code_are_found_and_read_after_the_upgrade():
    # given: the schema and a row as the previous version left them
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()  # every app: those depending on members (loyalty) too
    executor.migrate(BEFORE)
    old = MigrationExecutor(connection).loader.project_state(BEFORE).apps.get_model("members", "Member")
    old.objects.create(
        phone_encrypted=_v1("+8613800000001", "member.phone"),
        phone_index=_old_index("+8613800000001", "member.phone"),
        name_encrypted=_v1("张三", "member.name"),
        name_index=_old_index("张三", "member.name"),
    )
    # when
    MigrationExecutor(connection).migrate(latest)
    # then
    member = member_find(phone="13800000001")
    assert member is not None
    assert (member_phone(member), member_name(member)) == ("+8613800000001", "张三")
    assert member.phone_encrypted.startswith("v2:") and member.row_token
