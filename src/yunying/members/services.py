"""Member identity: the only writer of members.Member, and the only reader of its clear personal data."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

import phonenumbers
from django.db import IntegrityError
from django.utils import timezone

from yunying.core import crypto
from yunying.core.errors import DomainError
from yunying.core.masking import mask_name, mask_phone
from yunying.core.rows import row_get, row_insert
from yunying.members.errors import MemberError
from yunying.members.models import Gender, Member
from yunying.members.regions import is_valid_region

_PHONE = "member.phone"
_NAME = "member.name"
_EMAIL = "member.email"


def phone_normalize(raw: str, *, default_region: str = "CN") -> str:
    """E.164 form of a phone number typed any common way ("138 0013 8000", "+86-138…").

    Raises: member.phone_invalid."""
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise DomainError(MemberError.PHONE_INVALID, field="phone") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise DomainError(MemberError.PHONE_INVALID, field="phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# Country calling codes are prefix-free, so "+86" at the head of an E.164 number means mainland China
# and the rest is the national number: no need to parse (phonenumbers.parse is ~100 µs a call).
_MAINLAND = "+86"


def phone_display(e164: str) -> str:
    """National digits for a mainland number (13800138000), full E.164 otherwise."""
    if e164.startswith(_MAINLAND):
        return e164[len(_MAINLAND) :]
    return e164


def phone_mask(e164: str) -> str:
    """Total over whatever is stored: a number phonenumbers cannot parse is masked as plain digits."""
    if e164.startswith(_MAINLAND):
        return mask_phone(e164[len(_MAINLAND) :])
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return mask_phone("".join(ch for ch in e164 if ch.isdigit()))
    masked = mask_phone(str(parsed.national_number))
    return f"+{parsed.country_code} {masked}"


@dataclass(frozen=True)
class Profile:
    """Optional profile facts given with a sign-up; they fill blanks, never overwrite (M2)."""

    name: str | None = None
    email: str | None = None
    gender: str | None = None
    birth_date: date | None = None
    region_code: str | None = None


def _phone_index(e164: str) -> str:
    return crypto.blind_index(e164, context=_PHONE)


def member_find(*, phone: str | None = None, external_id: str | None = None) -> Member | None:
    """Raises: member.identity_conflict, member.phone_invalid."""
    return _find(phone_normalize(phone) if phone else None, external_id)


def _find(e164: str | None, external_id: str | None) -> Member | None:
    # Every sign-up looks its member up: prepared statements, not the ORM (core.rows).
    by_phone = row_get(Member, phone_index=_phone_index(e164)) if e164 else None
    by_external = row_get(Member, external_id=external_id) if external_id else None
    if by_phone and by_external and by_phone.pk != by_external.pk:
        raise DomainError(MemberError.IDENTITY_CONFLICT)
    # The phone's owner is already known to the integrator under another external id.
    if by_phone and external_id and by_phone.external_id and by_phone.external_id != external_id:
        raise DomainError(MemberError.IDENTITY_CONFLICT)
    return by_phone or by_external


EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def _validate_profile(profile: Profile) -> None:
    """Only plausible facts are stored: a birth date of 1800 or 2030 once broke every statistic."""
    if profile.region_code and not is_valid_region(profile.region_code):
        raise DomainError(MemberError.REGION_INVALID, field="region_code")
    if profile.birth_date and not EARLIEST_BIRTH_DATE <= profile.birth_date <= timezone.localdate():
        raise DomainError(
            MemberError.BIRTH_DATE_INVALID,
            field="birth_date",
            earliest=EARLIEST_BIRTH_DATE.isoformat(),
            latest=timezone.localdate().isoformat(),
        )
    if profile.name and _has_control_characters(profile.name):
        raise DomainError(MemberError.NAME_INVALID, field="name")
    if profile.gender and profile.gender not in Gender.values:
        raise DomainError("core.invalid", field="gender")


def _fill_blanks(member: Member, profile: Profile) -> list[str]:
    changed = []
    # Strip before the blank test: a whitespace-only name would encrypt "" and block a real one later.
    name = (profile.name or "").strip()
    email = (profile.email or "").strip().lower()
    if name and not member.name_encrypted:
        member.name_encrypted = crypto.encrypt(name, context=_NAME)
        member.name_index = crypto.blind_index(name, context=_NAME)
        changed += ["name_encrypted", "name_index"]
    if email and not member.email_encrypted:
        member.email_encrypted = crypto.encrypt(email, context=_EMAIL)
        member.email_index = crypto.blind_index(email, context=_EMAIL)
        changed += ["email_encrypted", "email_index"]
    if profile.gender and member.gender == Gender.UNKNOWN:
        member.gender = profile.gender
        changed.append("gender")
    if profile.birth_date and member.birth_date is None:
        member.birth_date = profile.birth_date
        changed.append("birth_date")
    if profile.region_code and not member.region_code:
        member.region_code = profile.region_code
        changed.append("region_code")
    return changed


@dataclass
class PreparedMember:
    """A member found or built in memory, with the fields a commit must write; nothing written yet."""

    member: Member
    changed: list[str]
    e164: str | None
    external_id: str | None


def member_prepare(
    *, phone: str | None, external_id: str | None, profile: Profile = Profile(), channel: str = ""
) -> PreparedMember:
    """Validate, normalise, encrypt and look up — everything but the write, so callers can keep their
    write transaction short.

    Raises: member.identity_required, member.phone_invalid, member.identity_conflict, member.region_invalid."""
    if not phone and not external_id:
        raise DomainError(MemberError.IDENTITY_REQUIRED)
    _validate_profile(profile)
    e164 = phone_normalize(phone) if phone else None
    member = _find(e164, external_id)  # already normalised: parse the phone once
    if member is None:
        member = Member(external_id=external_id or None, source_channel=channel)
        if e164:
            member.phone_encrypted = crypto.encrypt(e164, context=_PHONE)
            member.phone_index = _phone_index(e164)
        _fill_blanks(member, profile)
        return PreparedMember(member, ["*"], e164, external_id)
    changed = _fill_blanks(member, profile)
    if e164 and not member.phone_index:
        member.phone_encrypted = crypto.encrypt(e164, context=_PHONE)
        member.phone_index = _phone_index(e164)
        changed += ["phone_encrypted", "phone_index"]
    if external_id and not member.external_id:
        member.external_id = external_id
        changed.append("external_id")
    return PreparedMember(member, changed, e164, external_id)


def member_commit(prepared: PreparedMember) -> Member:
    """Write a prepared member. Safe under concurrency: two first sign-ups with one phone race on the
    unique blind index, and the loser re-reads the winner's row."""
    member = prepared.member
    if prepared.changed == ["*"]:
        # ON CONFLICT DO NOTHING rather than a savepoint to catch the IntegrityError: one statement.
        if row_insert(member, skip_conflicts=True) is not None:
            return member
        winner = _find(prepared.e164, prepared.external_id)
        if winner is None:
            raise IntegrityError("member insert conflicted, but no conflicting member was found")
        return winner
    if prepared.changed:
        member.save(update_fields=prepared.changed)
    return member


def member_resolve(
    *, phone: str | None, external_id: str | None, profile: Profile = Profile(), channel: str = ""
) -> Member:
    """The member with this phone / external id, created if new; profile facts fill blanks (M2).

    Raises: member.identity_required, member.phone_invalid, member.identity_conflict, member.region_invalid."""
    prepared = member_prepare(phone=phone, external_id=external_id, profile=profile, channel=channel)
    return member_commit(prepared)


def member_phone(member: Member) -> str | None:
    """Clear E.164 phone. Callers that show it to a person must log the access (core.audit)."""
    return crypto.decrypt(member.phone_encrypted, context=_PHONE) if member.phone_encrypted else None


def member_name(member: Member) -> str:
    return crypto.decrypt(member.name_encrypted, context=_NAME) if member.name_encrypted else ""


def member_email(member: Member) -> str | None:
    return crypto.decrypt(member.email_encrypted, context=_EMAIL) if member.email_encrypted else None


def member_contact(member: Member, *, reveal: bool) -> dict:
    """Phone and name, masked unless `reveal` (the caller checked pii.reveal and logs the access)."""
    phone = member_phone(member)
    name = member_name(member)
    if reveal:
        return {"phone": phone_display(phone) if phone else None, "name": name}
    return {"phone": phone_mask(phone) if phone else None, "name": mask_name(name)}


def member_age(member: Member, *, on: date) -> int | None:
    if member.birth_date is None:
        return None
    born = member.birth_date
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
