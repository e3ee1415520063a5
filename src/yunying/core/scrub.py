"""Scrub addresses out of text that came from outside (a provider's error, an exception message)
before it is logged or stored: e-mail addresses and phone numbers are personal data (PIPL), and a
provider's "invalid recipient 13800138000" would otherwise sit in the outbox table and the logs."""

from __future__ import annotations

import re

# ASCII on purpose: in Python `\w` is also every Chinese character, so "请联系zhang@qq.com" would
# swallow the words before the address, and "电话13800138000" would have no word boundary at all.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+[@＠][A-Za-z0-9-]+(?:[.．][A-Za-z0-9-]+)+")
# A run of 7 or more digits, maybe with a leading + and spaces, dots or dashes between groups
# ("+86 138-0013-8000", "13800138000", "(021) 6123 4567"): long enough for a phone, not for a count.
_PHONE = re.compile(r"(?<![0-9A-Za-z])\+?\(?\d[\d\s()._-]{5,}\d(?![0-9A-Za-z])")
_DIGITS_IN_PHONE = 7
# A resident identity number (GB 11643): 17 digits and a check digit or X. Before the phone pattern,
# which stops short of a trailing X and so left "11010119900307001X" whole (attacker review).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def scrub_personal(text: str) -> str:
    """The text with e-mail addresses, identity numbers and phone numbers replaced by placeholders."""
    text = _EMAIL.sub("[email]", text)
    text = _ID_NUMBER.sub("[id]", text)
    return _PHONE.sub(
        lambda m: "[phone]" if sum(c.isdigit() for c in m[0]) >= _DIGITS_IN_PHONE else m[0], text
    )
