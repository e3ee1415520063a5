"""Member identity: the only writer of members.Member, and the only reader of its clear personal data."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from yunying.core import crypto
from yunying.core.activity import Activity, ActivityKind, activity_publish
from yunying.core.audit import audit_changes, audit_record, pii_access_record
from yunying.core.errors import CoreError, DomainError, FieldError, ValidationFailed
from yunying.core.masking import mask_date, mask_email, mask_name, mask_phone
from yunying.core.permissions import Actor, Perm
from yunying.core.ratelimit import ratelimit_hit
from yunying.core.rows import row_get, row_insert, rows_insert
from yunying.members.errors import MemberError
from yunying.members.models import (
    ERASED_PREFIX,
    INVITE_ALPHABET,
    INVITE_CODE_LENGTH,
    Gender,
    Member,
)
from yunying.members.regions import is_valid_region

_PHONE = "member.phone"
_NAME = "member.name"
_EMAIL = "member.email"


_MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def phone_normalize(raw: str, *, default_region: str = "CN", mobile: bool = False) -> str:
    """E.164 form of a phone number typed any common way ("138 0013 8000", "+86-138…"). With
    `mobile`, only a number that can receive SMS: a member's own phone, not a landline or 400 line.

    Raises: member.phone_invalid, member.phone_not_mobile."""
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise DomainError(MemberError.PHONE_INVALID, field="phone") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise DomainError(MemberError.PHONE_INVALID, field="phone")
    if mobile and phonenumbers.number_type(parsed) not in _MOBILE_TYPES:
        raise DomainError(MemberError.PHONE_NOT_MOBILE, field="phone")
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


@dataclass(frozen=True)
class Acquisition:
    """Where a new member came from (M4): the UTM parameters of the landing URL and the invite code
    they arrived with. Recorded once, when the member is created; never overwritten."""

    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    invite_code: str = ""


UTM_MAX = 64


def _utm_clean(value: str) -> str:
    """A UTM value as stored: printable, trimmed to the column."""
    return "".join(ch for ch in (value or "") if ch.isprintable()).strip()[:UTM_MAX]


def invite_code_normalize(raw: str) -> str:
    """An invite code as typed or linked ("ab3d-k7mp " → "AB3DK7MP"); "" when it cannot be one."""
    code = unicodedata.normalize("NFKC", raw or "").upper().replace("-", "").replace(" ", "")
    if len(code) != INVITE_CODE_LENGTH or any(ch not in INVITE_ALPHABET for ch in code):
        return ""
    return code


def inviter_find(invite_code: str) -> Member | None:
    """The member whose invite code this is, or None (unknown or malformed codes are ignored: M4)."""
    code = invite_code_normalize(invite_code)
    return Member.objects.filter(invite_code=code).first() if code else None


def _acquire(member: Member, acquisition: Acquisition) -> None:
    """Set a new member's acquisition facts in memory (the caller writes the row)."""
    member.utm_source = _utm_clean(acquisition.utm_source)
    member.utm_medium = _utm_clean(acquisition.utm_medium)
    member.utm_campaign = _utm_clean(acquisition.utm_campaign)
    inviter = inviter_find(acquisition.invite_code) if acquisition.invite_code else None
    # Self-invite: a new member's own code cannot be known before the row exists, but the random
    # default could in principle equal the code given; never point a member at themselves.
    if inviter is not None and inviter.invite_code != member.invite_code:
        member.invited_by = inviter


def _phone_index(e164: str) -> str:
    return crypto.blind_index(e164, context=_PHONE)


def member_find(*, phone: str | None = None, external_id: str | None = None) -> Member | None:
    """Raises: member.identity_mismatch, member.phone_invalid."""
    return _find(phone_normalize(phone) if phone else None, external_id)


def _find(e164: str | None, external_id: str | None) -> Member | None:
    """The member the identifiers name. Each identifier given must be the member's own: a phone and
    an external id of two members, or an identifier the member found by the other one does not have
    (another, or none yet), is member.identity_mismatch — one code for every case, so the answer never
    tells whether the phone is known, linked elsewhere or unlinked (S3). Binding a new identifier to a
    known member is member_link's, an operator's audited action.

    Raises: member.identity_mismatch."""
    # Every sign-up looks its member up: prepared statements, not the ORM (core.rows).
    by_phone = row_get(Member, phone_index=_phone_index(e164)) if e164 else None
    by_external = row_get(Member, external_id=external_id) if external_id else None
    member = by_phone or by_external
    if member is None:
        return None
    if e164 and member.phone_index != _phone_index(e164):
        raise DomainError(MemberError.IDENTITY_MISMATCH)
    if external_id and member.external_id != external_id:
        raise DomainError(MemberError.IDENTITY_MISMATCH)
    return member


EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def profile_errors(profile: Profile) -> list[DomainError]:
    """Every implausible fact of a profile (each error names its field); [] when all are fine."""
    errors = []
    if profile.region_code and not is_valid_region(profile.region_code):
        errors.append(DomainError(MemberError.REGION_INVALID, field="region_code"))
    if profile.birth_date and not EARLIEST_BIRTH_DATE <= profile.birth_date <= timezone.localdate():
        errors.append(
            DomainError(
                MemberError.BIRTH_DATE_INVALID,
                field="birth_date",
                earliest=EARLIEST_BIRTH_DATE.isoformat(),
                latest=timezone.localdate().isoformat(),
            )
        )
    if profile.name and _has_control_characters(profile.name):
        errors.append(DomainError(MemberError.NAME_INVALID, field="name"))
    if profile.gender and profile.gender not in Gender.values:
        errors.append(DomainError("core.invalid", field="gender"))
    return errors


def _validate_profile(profile: Profile) -> None:
    """Only plausible facts are stored: a birth date of 1800 or 2030 once broke every statistic."""
    errors = profile_errors(profile)
    if errors:
        raise errors[0]


def _fill_blanks(member: Member, profile: Profile, *, known: bool) -> list[str]:
    """Profile facts fill what is blank. Of a known member, never the e-mail: it is an address
    notices go to, and setting it is binding a contact (member_link / member_correct, audited)."""
    changed = []
    # Strip before the blank test: a whitespace-only name would encrypt "" and block a real one later.
    name = (profile.name or "").strip()
    email = (profile.email or "").strip().lower()
    if name and not member.name_encrypted:
        member.name_encrypted = crypto.encrypt(name, context=_NAME, row=member.row_token)
        changed += ["name_encrypted"]
    if email and not known and not member.email_encrypted:
        member.email_encrypted = crypto.encrypt(email, context=_EMAIL, row=member.row_token)
        changed += ["email_encrypted"]
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
    """A member found or built in memory, with the fields a commit must write; nothing written yet.
    `asked` is what member_prepare was given: a commit that finds the member erased since prepares
    the person again."""

    member: Member
    changed: list[str]
    e164: str | None
    external_id: str | None
    asked: dict  # member_prepare's own arguments


def member_risk_ref(member: Member) -> str:
    """How risk control names a member (RiskInput.member_ref): the same before the member's row
    exists and after, so a first sign-up that is challenged or refused and its retry are one member.
    (The row token of a member not yet saved is drawn afresh on every attempt.) A keyed digest of the
    phone, else of the external id: never the value itself."""
    if member.phone_index:
        return f"p:{member.phone_index}"
    return f"x:{crypto.blind_index(member.external_id or '', context='risk.member_ref')}"


def member_id_by_risk_ref(ref: str) -> int | None:
    """The member a phone-based risk reference names ("p:…"), or None: an external-id reference is a
    one-way digest, and a member not registered yet has no row."""
    if not ref.startswith("p:"):
        return None
    return Member.objects.filter(phone_index=ref[2:]).values_list("pk", flat=True).first()


def member_risk_refs(member_ids: list[int]) -> dict[int, str]:
    """member_risk_ref of each member by id (one statement)."""
    members = Member.objects.filter(pk__in=member_ids).only("phone_index", "external_id")
    return {member.pk: member_risk_ref(member) for member in members}


def member_prepare(
    *,
    phone: str | None,
    external_id: str | None,
    profile: Profile = Profile(),
    channel: str = "",
    acquisition: Acquisition | None = None,
) -> PreparedMember:
    """Validate, normalise, encrypt and look up — everything but the write, so callers can keep their
    write transaction short.

    Raises: member.identity_required, member.phone_invalid, member.identity_mismatch, member.region_invalid."""
    if not phone and not external_id:
        raise DomainError(MemberError.IDENTITY_REQUIRED)
    _validate_profile(profile)
    asked = {"phone": phone, "external_id": external_id, "profile": profile, "channel": channel,
             "acquisition": acquisition}  # fmt: skip
    e164 = phone_normalize(phone, mobile=True) if phone else None
    member = _find(e164, external_id)  # already normalised: parse the phone once
    if member is None:
        member = Member(external_id=external_id or None, source_channel=channel)
        if acquisition is not None:
            _acquire(member, acquisition)
        if e164:
            member.phone_encrypted = crypto.encrypt(e164, context=_PHONE, row=member.row_token)
            member.phone_index = _phone_index(e164)
        _fill_blanks(member, profile, known=False)
        return PreparedMember(member, ["*"], e164, external_id, asked)
    # _find made sure every identifier given is already the member's: nothing to bind here.
    changed = _fill_blanks(member, profile, known=True)
    return PreparedMember(member, changed, e164, external_id, asked)


def member_commit(prepared: PreparedMember) -> Member:
    """Write a prepared member, in the caller's transaction. Safe under concurrency: two first
    sign-ups with one phone race on the unique blind index, and the loser re-reads the winner's row.
    A known member is locked and read again (_member_lock_live): one erased since it was prepared is
    nobody's now, so the person is prepared again — as a new member, the erasure having freed the
    phone (faults review: a sign-up racing the erasure wrote the name back onto the erased row and
    attached itself to it).

    Raises: core.busy (the member changed under us three times)."""
    for _ in range(3):
        member = prepared.member
        if prepared.changed == ["*"]:
            # ON CONFLICT DO NOTHING rather than a savepoint to catch the IntegrityError: one statement.
            if row_insert(member, skip_conflicts=True) is not None:
                _announce_registered(member)
                return member
            winner = _find(prepared.e164, prepared.external_id)
            if winner is None:
                raise IntegrityError("member insert conflicted, but no conflicting member was found")
            return winner
        live = _member_lock_live(member.pk)
        if live is not None:
            # the blanks as they are now, under the lock (the prepared ones were read before it)
            changed = _fill_blanks(live, prepared.asked["profile"], known=True) if prepared.changed else []
            if changed:
                live.save(update_fields=changed)
            return live
        prepared = member_prepare(**prepared.asked)
    raise DomainError(CoreError.BUSY)


def members_lock_live(member_ids: set[int]) -> set[int]:
    """Of these members, the ones not erased, locked as _member_lock_live locks one (in id order, so
    two callers cannot deadlock). For writers that found their members before their transaction.
    Needs the caller's transaction."""
    ordered = sorted(member_ids)
    live: set[int] = set()
    for start in range(0, len(ordered), _LOOKUP_BATCH):
        live.update(
            Member.objects.select_for_update(no_key=True)
            .filter(pk__in=ordered[start : start + _LOOKUP_BATCH])
            .exclude(external_id__startswith=ERASED_PREFIX)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    return live


def _member_lock_live(member_id: int) -> Member | None:
    """The member, locked until the caller's transaction ends — or None once erased: an erased row is
    nobody's, and nothing may write a person back onto it. FOR NO KEY UPDATE, as an UPDATE takes: an
    erasure (FOR UPDATE) waits for us or we for it, while rows that only point at the member (a
    sign-up, an order) can still be inserted. Needs the caller's transaction."""
    return (
        Member.objects.select_for_update(no_key=True)
        .filter(pk=member_id)
        .exclude(external_id__startswith=ERASED_PREFIX)
        .first()
    )


def _announce_registered(member: Member) -> None:
    """A new member, for the apps that reward it (loyalty's welcome points), in the caller's
    transaction; keyed by the member id, so it rewards once."""
    activity_publish(
        Activity(
            kind=ActivityKind.MEMBER_REGISTERED,
            member_id=member.pk,
            key=str(member.pk),
            at=member.created_at or timezone.now(),
            data={"inviter_id": member.invited_by_id},
        )
    )


def member_resolve(
    *,
    phone: str | None,
    external_id: str | None,
    profile: Profile = Profile(),
    channel: str = "",
    acquisition: Acquisition | None = None,
) -> Member:
    """The member with this phone / external id, created if new; profile facts fill blanks (M2).
    `acquisition` is recorded only when the member is created here (M4: never overwritten).

    Raises: member.identity_required, member.phone_invalid, member.identity_mismatch, member.region_invalid."""
    prepared = member_prepare(
        phone=phone, external_id=external_id, profile=profile, channel=channel, acquisition=acquisition
    )
    with transaction.atomic():  # the member and what its registration earns commit together
        return member_commit(prepared)


def member_profile_fill(*, member_id: int, profile: Profile) -> list[str]:
    """Fill the member's blank profile facts from what they answered themselves (M2): a fact already
    known is never overwritten (correcting one is member_correct's, audited). Returns the fields set.

    Raises: member.not_found, member.region_invalid, member.birth_date_invalid."""
    _validate_profile(profile)
    with transaction.atomic():
        member = _member_lock_live(member_id)
        if member is None:
            raise DomainError(MemberError.NOT_FOUND, id=member_id)
        changed = _fill_blanks(member, profile, known=True)
        if changed:
            member.save(update_fields=changed)
    return changed


@dataclass(frozen=True)
class MemberRef:
    """A member named by a normalised phone (E.164) and/or an external id, for the bulk path."""

    e164: str | None
    external_id: str | None


def members_match(refs: Sequence[MemberRef]) -> list[Member | DomainError | None]:
    """For each ref, its member, None when neither identifier is known yet, or the
    member.identity_mismatch error of _find (the two identifiers name two members, or the member
    found has another identifier). Two queries for the lot: the bulk import's look-up, read only."""
    indexes = {ref.e164: _phone_index(ref.e164) for ref in refs if ref.e164}
    external_ids = {ref.external_id for ref in refs if ref.external_id}
    by_index: dict[str, Member] = {}
    by_external: dict[str, Member] = {}
    index_values = list(set(indexes.values()))
    external_values = list(external_ids)
    for start in range(0, len(index_values), _LOOKUP_BATCH):
        for member in Member.objects.filter(phone_index__in=index_values[start : start + _LOOKUP_BATCH]):
            by_index[member.phone_index] = member
    for start in range(0, len(external_values), _LOOKUP_BATCH):
        for member in Member.objects.filter(external_id__in=external_values[start : start + _LOOKUP_BATCH]):
            by_external[member.external_id] = member
    matched: list[Member | DomainError | None] = []
    for ref in refs:
        index = indexes.get(ref.e164) if ref.e164 else None
        member = (by_index.get(index) if index else None) or (
            by_external.get(ref.external_id) if ref.external_id else None
        )
        if member is not None and (
            (index and member.phone_index != index)
            or (ref.external_id and member.external_id != ref.external_id)
        ):
            matched.append(DomainError(MemberError.IDENTITY_MISMATCH))
        else:
            matched.append(member)
    return matched


_LOOKUP_BATCH = 500  # under SQLite's bound-parameter limit on every build


def members_ids(refs: Sequence[MemberRef]) -> list[int | DomainError | None]:
    """members_match's answer as member ids only (the order import's look-up, a batch at a time):
    the same rules, without building a Member per row. A hand-written SELECT of three columns: the
    ORM compiled each IN list of 500 values in ~10 ms, most of an import's look-up time (tested
    against members_match, the oracle)."""
    indexes = {ref.e164: _phone_index(ref.e164) for ref in refs if ref.e164}
    by_index: dict[str, tuple] = {}
    by_external: dict[str, tuple] = {}
    table = connection.ops.quote_name(Member._meta.db_table)
    for column, values, found in (
        ("phone_index", list(set(indexes.values())), by_index),
        ("external_id", list({ref.external_id for ref in refs if ref.external_id}), by_external),
    ):
        for start in range(0, len(values), _LOOKUP_BATCH):
            chunk = values[start : start + _LOOKUP_BATCH]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, phone_index, external_id FROM {table} "  # noqa: S608 - names from meta
                    f"WHERE {column} IN ({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )
                for row in cursor.fetchall():
                    found[row[1] if column == "phone_index" else row[2]] = row
    answers: list[int | DomainError | None] = []
    for ref in refs:
        index = indexes.get(ref.e164) if ref.e164 else None
        row = (by_index.get(index) if index else None) or (
            by_external.get(ref.external_id) if ref.external_id else None
        )
        if row is not None and (
            (index and row[1] != index) or (ref.external_id and row[2] != ref.external_id)
        ):
            answers.append(DomainError(MemberError.IDENTITY_MISMATCH))
        else:
            answers.append(row[0] if row is not None else None)
    return answers


@dataclass
class BulkResolved:
    members: list[Member | DomainError]  # one per ref, in order
    created: int
    updated: int


def members_resolve_bulk(
    refs: Sequence[MemberRef],
    *,
    profiles: Sequence[Profile] | None = None,
    channels: Sequence[str] | None = None,
) -> BulkResolved:
    """member_resolve for many members at once, inside the caller's transaction: the members the
    refs name, created when new (encrypted phone, blind index), their profile facts filling blanks
    (M2, as member_prepare). Refs naming one member twice get it once. The bulk import's path: a
    few statements per batch instead of several per member. Profiles must be valid (profile_errors)."""
    profiles = profiles or [Profile()] * len(refs)
    channels = channels or [""] * len(refs)
    matched = members_match(refs)
    found_ids = {m.pk for m in matched if isinstance(m, Member)}
    if members_lock_live(found_ids) != found_ids:
        # one was erased since the match: it is nobody's, and the match again finds the person new
        # (as member_commit does for one member)
        matched = members_match(refs)
    new: dict[tuple, Member] = {}
    updated: dict[int, tuple[Member, set[str]]] = {}
    for ref, profile, channel, found in zip(refs, profiles, channels, matched, strict=True):
        if isinstance(found, DomainError):
            continue
        if found is None:
            key = (ref.e164, ref.external_id)
            member = new.get(key)
            if member is None:
                member = Member(external_id=ref.external_id or None, source_channel=channel)
                if ref.e164:
                    member.phone_encrypted = crypto.encrypt(ref.e164, context=_PHONE, row=member.row_token)
                    member.phone_index = _phone_index(ref.e164)
                new[key] = member
            _fill_blanks(member, profile, known=False)
        else:
            changed = _fill_blanks(found, profile, known=True)
            if changed:
                updated.setdefault(found.pk, (found, set()))[1].update(changed)
    for member, fields in updated.values():
        member.save(update_fields=sorted(fields))
    created = 0
    if new:
        # A concurrent sign-up or import may have taken a phone or an id since the match: skipped
        # here (and not counted as created), and the second match below finds that member.
        created = rows_insert(list(new.values()), skip_conflicts=True)
    final = members_match(refs) if new else matched
    resolved: list[Member | DomainError] = []
    for found in final:
        resolved.append(found if found is not None else DomainError(MemberError.IDENTITY_MISMATCH))
    return BulkResolved(resolved, created=created, updated=len(updated))


def member_phone(member: Member) -> str | None:
    """Clear E.164 phone. Callers that show it to a person must log the access (core.audit)."""
    return (
        crypto.decrypt(member.phone_encrypted, context=_PHONE, row=member.row_token)
        if member.phone_encrypted
        else None
    )


def member_name(member: Member) -> str:
    return (
        crypto.decrypt(member.name_encrypted, context=_NAME, row=member.row_token)
        if member.name_encrypted
        else ""
    )


def member_email(member: Member) -> str | None:
    return (
        crypto.decrypt(member.email_encrypted, context=_EMAIL, row=member.row_token)
        if member.email_encrypted
        else None
    )


class MemberRecipient:
    """How the outbox reaches a member (settings.NOTIFY_RECIPIENTS): the language to write in and
    the address per channel, decrypted only when a message needs it."""

    __slots__ = ("member",)

    def __init__(self, member: Member) -> None:
        self.member = member

    @property
    def language(self) -> str:
        return self.member.language

    def address(self, channel: str) -> str | None:
        if channel == "email":
            return member_email(self.member)
        if channel == "push":
            return self.member.external_id
        return member_phone(self.member)


def member_recipients(member_ids: set[int]) -> dict[int, MemberRecipient]:
    """The recipients of a batch of messages, in one query (members gone are left out)."""
    return {pk: MemberRecipient(member) for pk, member in Member.objects.in_bulk(member_ids).items()}


def member_contact(member: Member, *, reveal: bool) -> dict:
    """Phone and name, masked unless `reveal` (the caller checked pii.reveal and logs the access)."""
    phone = member_phone(member)
    name = member_name(member)
    if reveal:
        return {"phone": phone_display(phone) if phone else None, "name": name}
    return {"phone": phone_mask(phone) if phone else None, "name": mask_name(name)}


def member_profile(member: Member, *, reveal: bool) -> dict:
    """Phone, name, e-mail and birth date, masked unless `reveal` (the caller checked pii.reveal and
    logs the access)."""
    email = member_email(member)
    born = member.birth_date
    if reveal:
        return member_contact(member, reveal=True) | {
            "email": email, "birth_date": born.isoformat() if born else None,
        }  # fmt: skip
    return member_contact(member, reveal=False) | {
        "email": mask_email(email) if email else None, "birth_date": mask_date(born) if born else None,
    }  # fmt: skip


def member_age(member: Member, *, on: date) -> int | None:
    if member.birth_date is None:
        return None
    born = member.birth_date
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


LOOKUP_WINDOW_SECONDS = 3600


def member_search(
    *,
    actor: Actor,
    phone: str | None = None,
    external_id: str | None = None,
    reveal: bool = False,
    purpose: str = "",
) -> Member | None:
    """Find a member by a full identifier for an operator or an integrator, or None — for every search
    by phone or external id (a look-up, a sign-up list filtered by phone). Such a search answers "is
    this number a member", so it is an oracle: tried 10,000 times it turns a masked phone
    (138****1234) back into the number. So it needs member.lookup, is counted per caller per hour, and
    is audited with the phone masked (the attacker review unmasked phones through the sign-up filter).

    Raises: core.permission_denied, core.rate_limited, member.phone_invalid, member.identity_conflict."""
    actor.require(Perm.MEMBER_LOOKUP)
    ratelimit_hit(
        scope="member_lookup", key=f"{actor.kind}:{actor.id}",
        limit=settings.RATE_LIMITS["member_lookup_hour"], window_seconds=LOOKUP_WINDOW_SECONDS,
    )  # fmt: skip
    e164 = phone_normalize(phone) if phone else None
    member = _find(e164, external_id)
    query = {"phone": phone_mask(e164)} if e164 else {"external_id": external_id}
    audit_record(
        actor=actor, action="member.lookup", object_type="member", object_id=member.pk if member else None,
        after={"query": query, "found": member is not None, "revealed": reveal and member is not None},
        reason=purpose,
    )  # fmt: skip
    return member


def member_lookup(
    *,
    actor: Actor,
    phone: str | None = None,
    external_id: str | None = None,
    reveal: bool = False,
    purpose: str = "",
) -> Member:
    """member_search for support's look-up, which must find someone. With `reveal` (the caller checked
    pii.reveal and a purpose) the access is logged for the member to see, in the same transaction as
    the audit row.

    Raises: core.permission_denied, core.rate_limited, member.phone_invalid,
    member.identity_conflict, member.not_found."""
    with transaction.atomic():
        member = member_search(
            actor=actor, phone=phone, external_id=external_id, reveal=reveal, purpose=purpose
        )
        if reveal and member is not None:
            pii_access_record(
                actor=actor, member_ids=[member.pk], fields=list(PROFILE_FIELDS), purpose=purpose
            )
    if member is None:
        raise DomainError(MemberError.NOT_FOUND)
    return member


PROFILE_FIELDS = ("phone", "name", "email", "birth_date")
MAX_AGE_YEARS = 120
CORRECTABLE_FIELDS = ("name", "gender", "birth_date", "region_code", "email")


def _profile_view(member: Member) -> dict:
    return {
        "name": member_name(member),
        "gender": member.gender,
        "birth_date": member.birth_date,
        "region_code": member.region_code,
        "email": member_email(member) or "",
    }


def _masked(values: dict) -> dict:
    """What the audit trail may hold: personal fields masked; gender and region are stored in clear
    and shown in every masked view already."""
    maskers = {"name": mask_name, "email": lambda v: mask_email(v) if v else "", "birth_date": mask_date}
    return {k: (maskers[k](v) if k in maskers and v not in (None, "") else v) for k, v in values.items()}


def member_correct(*, member_id: int, actor: Actor, changes: dict, reason: str) -> Member:
    """Correct a member's profile (an operator acting on the member's request or a known error),
    with a required reason; audited with the changed fields before and after, masked.

    Raises: member.not_found, core.invalid (unknown field, no reason, blank name),
    member.region_invalid."""
    name = changes.get("name")
    email = changes.get("email")
    errors = [
        FieldError(f, CoreError.INVALID, gettext("unknown field"))
        for f in sorted(set(changes) - set(CORRECTABLE_FIELDS))
    ]
    if not reason.strip():
        errors.append(FieldError("reason", CoreError.INVALID, gettext("State why the profile is corrected.")))
    if name is not None and not name.strip():
        errors.append(FieldError("name", CoreError.INVALID, gettext("The name cannot be blank.")))
    born = changes.get("birth_date")
    today = timezone.localdate()
    if born is not None and not (today.replace(year=today.year - MAX_AGE_YEARS, day=1) <= born <= today):
        errors.append(
            FieldError("birth_date", CoreError.INVALID, gettext("The birth date is not plausible."))
        )
    if errors:
        raise ValidationFailed(errors)
    _validate_profile(
        Profile(
            gender=changes.get("gender"), birth_date=changes.get("birth_date"),
            region_code=changes.get("region_code"),
        )
    )  # fmt: skip
    with transaction.atomic():
        member = _member_lock_live(member_id)  # an erased member is nobody's to correct or link
        if member is None:
            raise DomainError(MemberError.NOT_FOUND, id=member_id)
        current = _profile_view(member)
        proposed = current | {k: v for k, v in changes.items() if v is not None}
        if name is not None:
            proposed["name"] = name.strip()
        if email is not None:
            proposed["email"] = email.strip().lower()
        before, after = audit_changes(current, proposed)
        fields = []
        if "name" in after:
            member.name_encrypted = crypto.encrypt(after["name"], context=_NAME, row=member.row_token)
            fields += ["name_encrypted"]
        if "email" in after:
            member.email_encrypted = (
                crypto.encrypt(after["email"], context=_EMAIL, row=member.row_token) if after["email"] else ""
            )
            fields += ["email_encrypted"]
        for field in ("gender", "birth_date", "region_code"):
            if field in after:
                setattr(member, field, after[field])
                fields.append(field)
        if fields:
            member.save(update_fields=fields)
        audit_record(
            actor=actor, action="member.correct", object_type="member", object_id=member.pk,
            before=_masked(before), after=_masked(after), reason=reason,
        )  # fmt: skip
    return member


def member_link(
    *, member_id: int, actor: Actor, reason: str, phone: str | None = None, external_id: str | None = None
) -> Member:
    """Bind a phone or an external id to a known member (or replace theirs), after the member proved
    it to an operator or to the storefront (an SMS code, a verified login). A sign-up never binds
    one (member_prepare refuses with member.identity_mismatch); this is the one way, permitted
    (member.link) and audited with both sides masked.

    Binding a phone hands the account to whoever holds that number (the H5 pages sign in by phone):
    replacing the member's phone or adding one to a member who had none both take
    member.phone_replace, which only the strategy role holds (the attacker reviews took a member's
    account with a support key's one call, first by replacing, then by adding). Adding or replacing
    an external id takes member.link alone: nobody signs in to these pages with one.

    Raises: core.invalid (nothing to link, no reason), core.permission_denied, member.phone_invalid,
    member.not_found, member.link_conflict (the identifier is another member's)."""
    errors = []
    if not phone and not external_id:
        errors.append(
            FieldError("phone", CoreError.INVALID, gettext("Give a phone or an external id to link."))
        )
    if not reason.strip():
        errors.append(FieldError("reason", CoreError.INVALID, gettext("A reason is required.")))
    if errors:
        raise ValidationFailed(errors)
    e164 = phone_normalize(phone, mobile=True) if phone else None
    with transaction.atomic():
        member = _member_lock_live(member_id)  # an erased member is nobody's to correct or link
        if member is None:
            raise DomainError(MemberError.NOT_FOUND, id=member_id)
        old_phone = member_phone(member)
        before, after, fields = {}, {}, []
        if e164 and member.phone_index != _phone_index(e164):
            actor.require(Perm.MEMBER_PHONE_REPLACE)
            before["phone"] = phone_mask(old_phone) if old_phone else None
            after["phone"] = phone_mask(e164)
            member.phone_encrypted = crypto.encrypt(e164, context=_PHONE, row=member.row_token)
            member.phone_index = _phone_index(e164)
            fields += ["phone_encrypted", "phone_index"]
        if external_id and member.external_id != external_id:
            before["external_id"], after["external_id"] = member.external_id, external_id
            member.external_id = external_id
            fields.append("external_id")
        if fields:
            try:
                with transaction.atomic():  # a savepoint: the unique indexes decide a race
                    member.save(update_fields=fields)
            except IntegrityError as exc:
                raise DomainError(MemberError.LINK_CONFLICT) from exc
        audit_record(
            actor=actor, action="member.link", object_type="member", object_id=member.pk,
            before=before, after=after, reason=reason,
        )  # fmt: skip
    return member


_SEALED = (("phone_encrypted", _PHONE), ("name_encrypted", _NAME), ("email_encrypted", _EMAIL))


def member_reseal(member: Member) -> list[str]:
    """Bring one member's stored personal data up to date, in memory: every value re-encrypted under
    the active PII key and bound to its row (if it is not already), the phone's blind index recomputed
    under the current blind-index key. Returns the fields to save (none when all is current)."""
    fields = []
    for attr, context in _SEALED:
        sealed = getattr(member, attr)
        if sealed and crypto.needs_rotation(sealed):
            clear = crypto.decrypt(sealed, context=context, row=member.row_token)
            setattr(member, attr, crypto.encrypt(clear, context=context, row=member.row_token))
            fields.append(attr)
    phone = member_phone(member)
    if phone and member.phone_index != _phone_index(phone):
        member.phone_index = _phone_index(phone)
        fields.append("phone_index")
    return fields


def members_reseal(*, batch: int = 500, model: type[Member] = Member) -> int:
    """member_reseal over every member, a locked batch per transaction; returns how many changed.
    `model` lets a data migration pass its historical model."""
    changed, last = 0, 0
    while True:
        with transaction.atomic():
            rows = list(model.objects.select_for_update().filter(pk__gt=last).order_by("pk")[:batch])
            if not rows:
                return changed
            for member in rows:
                fields = member_reseal(member)
                if fields:
                    member.save(update_fields=fields)
                    changed += 1
            last = rows[-1].pk


_MAX_ID = 2**63 - 1


def member_get(member_id: int) -> Member:
    """Raises: member.not_found (also for an id no database column can hold)."""
    if not 1 <= member_id <= _MAX_ID:
        raise DomainError(MemberError.NOT_FOUND, id=member_id)
    member = Member.objects.filter(pk=member_id).select_related("invited_by").first()
    if member is None:
        raise DomainError(MemberError.NOT_FOUND, id=member_id)
    return member


def member_reveal(*, actor: Actor, member_id: int, purpose: str) -> Member:
    """One member's profile for showing in clear, by id (the 360 page, GET /members/{id}): the caller
    checked the reveal (core.purposes.reveal_authorize); the access is logged for the member to see
    and audited, in one transaction.

    Raises: member.not_found."""
    member = member_get(member_id)
    with transaction.atomic():
        audit_record(
            actor=actor, action="member.reveal", object_type="member", object_id=member.pk,
            after={"fields": list(PROFILE_FIELDS)}, reason=purpose,
        )  # fmt: skip
        pii_access_record(actor=actor, member_ids=[member.pk], fields=list(PROFILE_FIELDS), purpose=purpose)
    return member


def member_list(
    *,
    tag: str | None = None,
    source_channel: str | None = None,
    registered_from: date | None = None,
    registered_to: date | None = None,
) -> QuerySet[Member]:
    """Members matching every filter given, newest first; the registration days are inclusive, in the
    configured time zone. Not by phone or external id: that is member_search (limited, audited)."""
    # Newest first by id (the primary key's index), not by created_at, which has none: ids rise with
    # creation, and a page of 1,000,000 members then needs no sort.
    query = Member.objects.order_by("-id")
    if tag:
        query = query.filter(tag_links__tag__name=tag)
    if source_channel:
        query = query.filter(source_channel=source_channel)
    if registered_from is not None:
        query = query.filter(created_at__gte=_day_start(registered_from))
    if registered_to is not None and registered_to < _LAST_DAY:
        query = query.filter(created_at__lt=_day_start(registered_to + timedelta(days=1)))
    return query


_FIRST_DAY, _LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def _day_start(day: date) -> datetime:
    """The start of `day` in the configured zone; days outside 1900..9998 are clamped, so year 1 or
    9999 matches every member or none instead of overflowing the UTC conversion."""
    day = min(max(day, _FIRST_DAY), _LAST_DAY)
    return datetime.combine(day, time.min, timezone.get_current_timezone())
