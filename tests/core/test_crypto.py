"""Personal data at rest (S1): AES-GCM round trips, context binding, key rotation, blind indexes."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidTag

from yunying.core import crypto


def _key(secret: str) -> str:
    return base64.urlsafe_b64encode(secret.encode()).decode().rstrip("=")


OLD = f"old:{_key('an old test-only key')}"
NEW = f"new:{_key('a new test-only key')}"


@pytest.mark.parametrize(
    "plaintext",
    [
        pytest.param("+8613800138000", id="phone"),
        pytest.param("张三", id="chinese-name"),
        pytest.param("广东省深圳市南山区科技园南区 1 栋 101 室", id="chinese-address"),
        pytest.param("", id="empty"),
        pytest.param("naïve 🎉 ¥100", id="mixed-unicode"),
        pytest.param("a:b:c", id="colons"),
    ],
)
def test_round_trip(plaintext):
    # when
    sealed = crypto.encrypt(plaintext, context="member.name", row="r1")
    # then
    assert crypto.decrypt(sealed, context="member.name", row="r1") == plaintext
    assert sealed.startswith("v2:t2:")  # the first key of the test ring encrypts
    assert not plaintext or plaintext not in sealed


def test_each_encryption_uses_a_fresh_nonce():
    # when
    sealed = {crypto.encrypt("+8613800138000", context="member.phone", row="r1") for _ in range(5)}
    # then
    assert len(sealed) == 5
    assert {crypto.decrypt(s, context="member.phone", row="r1") for s in sealed} == {"+8613800138000"}


def test_a_ciphertext_does_not_decrypt_in_another_context(db):  # a failure stores an alert
    # given
    sealed = crypto.encrypt("+8613800138000", context="member.phone", row="r1")
    # when / then
    with pytest.raises(InvalidTag):
        crypto.decrypt(sealed, context="member.name", row="r1")


def test_a_tampered_ciphertext_does_not_decrypt(db):  # a failure stores an alert
    # given
    version, key_id, token = crypto.encrypt("张三", context="member.name", row="r1").split(":")
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    # when / then
    with pytest.raises(InvalidTag):
        crypto.decrypt(f"{version}:{key_id}:{flipped}", context="member.name", row="r1")


def test_an_unknown_version_is_refused(db):  # a failure stores an alert
    # given
    _, key_id, token = crypto.encrypt("张三", context="member.name", row="r1").split(":")
    # when / then
    with pytest.raises(ValueError, match="version"):
        crypto.decrypt(f"v9:{key_id}:{token}", context="member.name", row="r1")


def test_rotation_old_ciphertext_still_decrypts_and_is_flagged(settings):
    # given: data sealed while only the old key existed
    settings.PII_KEYS = OLD
    sealed = crypto.encrypt("+8613800138000", context="member.phone", row="r1")
    assert sealed.startswith("v2:old:")
    assert not crypto.needs_rotation(sealed)
    # when: a new key is prepended
    settings.PII_KEYS = f"{NEW},{OLD}"
    resealed = crypto.encrypt("+8613800138000", context="member.phone", row="r1")
    # then
    assert crypto.decrypt(sealed, context="member.phone", row="r1") == "+8613800138000"
    assert crypto.needs_rotation(sealed)
    assert resealed.startswith("v2:new:")
    assert not crypto.needs_rotation(resealed)
    assert crypto.decrypt(resealed, context="member.phone", row="r1") == "+8613800138000"


def test_keys_with_the_same_id_but_other_material_do_not_decrypt(settings, db):  # a failure stores an alert
    # given
    settings.PII_KEYS = OLD
    sealed = crypto.encrypt("张三", context="member.name", row="r1")
    # when
    settings.PII_KEYS = f"old:{_key('someone else')}"
    # then
    with pytest.raises(InvalidTag):
        crypto.decrypt(sealed, context="member.name", row="r1")


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param("", id="empty"),
        pytest.param("no-material", id="no-colon"),
        pytest.param(":bWF0ZXJpYWw", id="no-id"),
        pytest.param(f"{NEW},", id="trailing-comma"),
    ],
)
def test_a_malformed_key_ring_is_refused(settings, spec):
    # given
    settings.PII_KEYS = spec
    # when / then
    with pytest.raises(ValueError, match="id:base64key"):
        crypto.encrypt("张三", context="member.name", row="r1")


def test_blind_index_is_deterministic_and_keyed(settings):
    # given
    index = crypto.blind_index("+8613800138000", context="member.phone")
    # when
    same = crypto.blind_index("+8613800138000", context="member.phone")
    other_value = crypto.blind_index("+8613800138001", context="member.phone")
    other_context = crypto.blind_index("+8613800138000", context="member.name")
    settings.BLIND_INDEX_KEY = "another-test-only-blind-index-key"
    other_key = crypto.blind_index("+8613800138000", context="member.phone")
    # then
    assert index == same
    assert len(index) == 40
    assert int(index, 16) >= 0
    assert len({index, other_value, other_context, other_key}) == 4


def test_blind_index_does_not_depend_on_the_encryption_keys(settings):
    # given
    index = crypto.blind_index("张三", context="member.name")
    # when
    settings.PII_KEYS = NEW
    # then
    assert crypto.blind_index("张三", context="member.name") == index


def test_a_value_whose_key_left_the_ring_says_so(settings, db):  # a failure stores an alert
    settings.PII_KEYS = "gone:b2xkLWtleS1tYXRlcmlhbA"
    token = crypto.encrypt("13800138000", context="member.phone", row="r1")
    settings.PII_KEYS = "new:bmV3LWtleS1tYXRlcmlhbA"
    with pytest.raises(ValueError, match="no longer in the key ring"):
        crypto.decrypt(token, context="member.phone", row="r1")


def test_a_key_id_twice_in_the_ring_is_refused(settings):
    settings.PII_KEYS = "k1:YWFhYWFhYWE,k1:YmJiYmJiYmI"
    with pytest.raises(ValueError, match="twice"):
        crypto.encrypt("x", context="member.phone", row="r1")


# --- row binding, per-field keys, the v1 format -----------------------------------------------------


def test_a_ciphertext_moved_to_another_row_does_not_decrypt(db):  # a failure stores an alert
    # given: member A's phone, as stored
    sealed = crypto.encrypt("+8613800138000", context="member.phone", row="row-of-a")
    # then: copied into member B's row, it is refused; in its own row it reads
    with pytest.raises(InvalidTag):
        crypto.decrypt(sealed, context="member.phone", row="row-of-b")
    assert crypto.decrypt(sealed, context="member.phone", row="row-of-a") == "+8613800138000"


def test_a_ciphertext_cannot_be_made_without_a_row():
    with pytest.raises(ValueError, match="row"):
        crypto.encrypt("x", context="member.phone", row="")


def _v1(plaintext: str, context: str) -> str:
    """A value as the previous format wrote it: bound to the column only."""
    import base64
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    active, keys = crypto._key_ring(settings_module().PII_KEYS)
    nonce = os.urandom(12)
    token = base64.urlsafe_b64encode(
        nonce + AESGCM(keys[active]).encrypt(nonce, plaintext.encode(), context.encode())
    )
    return f"v1:{active}:{token.decode().rstrip('=')}"


def settings_module():
    from django.conf import settings

    return settings


def test_v1_values_still_read_and_are_flagged_for_resealing():
    old = _v1("张三", "member.name")
    assert crypto.decrypt(old, context="member.name", row="any") == "张三"
    assert crypto.needs_rotation(old)


def test_each_field_has_its_own_derived_index_key(settings):
    # given: the same value in two fields
    phone_index = crypto.blind_index("13800138000", context="member.phone")
    other_field = crypto.blind_index("13800138000", context="ratelimit.member_phone")
    # then: not the old single-key scheme (HMAC of "context\0value" under the master key), and
    # the two fields' indexes of one value do not match
    import hashlib
    import hmac

    master = settings.BLIND_INDEX_KEY.encode()
    legacy = hmac.new(master, b"member.phone\x0013800138000", hashlib.sha256).hexdigest()[:40]
    assert phone_index not in (legacy, other_field)
