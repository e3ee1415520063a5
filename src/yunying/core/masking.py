"""Masked renderings of personal data, shown to everyone not allowed to see it in clear (S1)."""

from __future__ import annotations


def mask_phone(national_number: str) -> str:
    """138****1234 for an 11-digit mainland mobile; otherwise keep the first 3 and last 2 digits."""
    digits = national_number
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 5:
        return f"{digits[:3]}{'*' * (len(digits) - 5)}{digits[-2:]}"
    return "*" * len(digits)


def mask_name(name: str) -> str:
    """张** — keep the first character only (of names longer than one)."""
    if len(name) <= 1:
        return "*" * len(name)  # a one-character name would show in full
    return name[0] + "*" * (len(name) - 1)


TEXT_HEAD = 2


def mask_text(text: str) -> str:
    """An address line or free text that may identify someone: a head of two characters, digits
    hidden even there. Four characters kept the street and the start of the house number ("曾路52**"),
    and an answer beginning with a phone kept its first digits (attacker review)."""
    if len(text) <= 4:
        return "*" * len(text)
    head = "".join("*" if c.isdigit() else c for c in text[:TEXT_HEAD])
    return head + "****"


def mask_email(email: str) -> str:
    """z***@example.com — the first character of the local part and the domain."""
    local, at, domain = email.partition("@")
    if not at:
        return mask_text(email)
    return f"{local[:1]}***@{domain}"


def mask_date(day) -> str:
    """1990-**-** — the year of a birth date, enough for an age band and no more."""
    return f"{day.year:04d}-**-**"
