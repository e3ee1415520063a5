"""`yunying reindex-pii`: after a key rotation every value is re-encrypted under the active key and
bound to its row, the phone index recomputed; members stay findable and readable. A stored value
copied into another member's row does not decrypt there."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from django.core.management import call_command

from tests.campaigns.helpers import sign_up
from tests.members.factories import mobile
from yunying.campaigns.services.admission import answers_read
from yunying.core import crypto
from yunying.members.models import Member
from yunying.members.services import Profile, member_find, member_name, member_phone, member_resolve


def test_a_phone_copied_into_another_members_row_does_not_decrypt(db):
    # given
    a = member_resolve(phone=mobile(1), external_id=None)
    b = member_resolve(phone=mobile(2), external_id=None)
    # when: someone with database access moves A's ciphertext into B's row
    Member.objects.filter(pk=b.pk).update(phone_encrypted=a.phone_encrypted)
    b.refresh_from_db()
    # then
    with pytest.raises(InvalidTag):
        member_phone(b)


def test_reindex_after_rotating_both_keys_keeps_members_findable_and_readable(
    settings, open_campaign, capsys
):
    # given: data written under the old keys
    member = member_resolve(phone=mobile(1), external_id=None, profile=Profile(name="张三"))
    signup = sign_up(open_campaign, mobile(2), answers={})
    settings.PII_KEYS = "k9:bmV3LXRlc3Qtb25seS1waWkta2V5LW5pbmUtbmluZQ," + settings.PII_KEYS
    settings.BLIND_INDEX_KEY = "another-test-only-blind-index-key-for-rotation"
    assert member_find(phone=mobile(1)) is None  # the index is under the old key
    # when
    call_command("reindex_pii")
    # then: found by phone, readable, every value under the new key
    found = member_find(phone=mobile(1))
    assert found is not None and found.pk == member.pk
    assert (member_phone(found), member_name(found)) == (mobile(1), "张三")
    assert found.phone_encrypted.startswith("v2:k9:") and found.name_encrypted.startswith("v2:k9:")
    signup.refresh_from_db()
    assert signup.answers_encrypted.startswith("v2:k9:") and answers_read(signup) == {}
    assert "resealed: members=2 signups=1" in capsys.readouterr().out
    # and a second run has nothing to do
    call_command("reindex_pii")
    assert "resealed: members=0 signups=0 campaigns=0" in capsys.readouterr().out


def test_reindex_rewrites_v1_values_bound_to_their_row(db):
    # given: a member whose phone was written in the old format (column-bound only)
    from tests.core.test_crypto import _v1

    member = member_resolve(phone=mobile(1), external_id=None)
    Member.objects.filter(pk=member.pk).update(phone_encrypted=_v1(mobile(1), "member.phone"))
    # when
    call_command("reindex_pii")
    # then
    member.refresh_from_db()
    assert member.phone_encrypted.startswith("v2:")
    assert crypto.decrypt(member.phone_encrypted, context="member.phone", row=member.row_token) == mobile(1)
    with pytest.raises(InvalidTag):
        crypto.decrypt(member.phone_encrypted, context="member.phone", row="another-row")


def test_only_the_phone_has_a_blind_index():
    # nothing looks members up by name or e-mail: no index of them to leak. The identity number's
    # keyed hash is what the real-name check keeps instead of the number (members.identity).
    indexed = {f.name for f in Member._meta.get_fields() if f.name.endswith("_index")}
    assert indexed == {"phone_index", "identity_index"}
