"""Manual tags (M5, M7): the only writer of members.Tag and members.MemberTag for operators.

Rule-based tags are filled by the segments' recompute (analytics); here they are read-only: an
operator can neither rename, delete, put on nor take off one, or the next recompute would silently
undo it. Every change is audited in its own transaction.
"""

from __future__ import annotations

import unicodedata

from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet

from yunying.core.audit import audit_record
from yunying.core.errors import DomainError
from yunying.core.permissions import Actor
from yunying.members.errors import MemberError, TagError
from yunying.members.models import Member, MemberTag, Tag, TagKind

MAX_NAME = 40
MAX_DESCRIPTION = 200
MAX_BULK = 1000


def tag_name_clean(raw: str) -> str:
    """A tag's name as stored: trimmed, 1..MAX_NAME characters, no control characters and no "/"
    (names travel in API paths: /members/{id}/tags/{name}).

    Raises: tag.name_invalid."""
    name = (raw or "").strip()
    if (
        not name
        or len(name) > MAX_NAME
        or "/" in name
        or any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in name)
    ):
        raise DomainError(TagError.NAME_INVALID, field="name", max_length=MAX_NAME)
    return name


def tag_list() -> QuerySet[Tag]:
    """Every tag with `members` (how many members carry it), manual ones first, by name."""
    return Tag.objects.annotate(members=Count("member_links")).order_by("kind", "name")


def tag_names(*, kind: str | None = None) -> list[str]:
    """Tag names by name (a form's choices): no member counts, so no scan of every member's tags."""
    query = Tag.objects.order_by("name")
    if kind is not None:
        query = query.filter(kind=kind)
    return list(query.values_list("name", flat=True))


def tag_get(name: str) -> Tag:
    """Raises: tag.not_found."""
    tag = Tag.objects.filter(name=(name or "").strip()).first()
    if tag is None:
        raise DomainError(TagError.NOT_FOUND, name=name[:MAX_NAME] if name else "")
    return tag


def member_tags(member_id: int) -> list[MemberTag]:
    """A member's tags (manual and rule-based), by name, with the tag (one query)."""
    return list(MemberTag.objects.filter(member_id=member_id).select_related("tag").order_by("tag__name"))


def tag_names_of(member_ids: list[int]) -> dict[int, list[str]]:
    """The tag names of each of these members, by name (one query: a list page's tags column)."""
    names: dict[int, list[str]] = {}
    links = MemberTag.objects.filter(member_id__in=member_ids).select_related("tag").order_by("tag__name")
    for link in links:
        names.setdefault(link.member_id, []).append(link.tag.name)
    return names


def _manual(tag: Tag) -> Tag:
    if tag.kind != TagKind.MANUAL:
        raise DomainError(TagError.RULE_BASED, name=tag.name)
    return tag


def tag_create(*, name: str, description: str = "", actor: Actor) -> Tag:
    """Create a manual tag.

    Raises: tag.name_invalid, tag.name_taken."""
    name = tag_name_clean(name)
    description = (description or "").strip()[:MAX_DESCRIPTION]
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: the unique name decides a race
                tag = Tag.objects.create(name=name, kind=TagKind.MANUAL, description=description)
        except IntegrityError as exc:
            raise DomainError(TagError.NAME_TAKEN, name=name) from exc
        audit_record(
            actor=actor, action="tag.create", object_type="tag", object_id=tag.pk,
            after={"name": name, "description": description},
        )  # fmt: skip
    return tag


def tag_update(*, tag_id: int, name: str, description: str, actor: Actor) -> Tag:
    """Rename a manual tag or change its description; its members keep it.

    Raises: tag.not_found, tag.rule_based, tag.name_invalid, tag.name_taken."""
    name = tag_name_clean(name)
    description = (description or "").strip()[:MAX_DESCRIPTION]
    with transaction.atomic():
        tag = Tag.objects.select_for_update().filter(pk=tag_id).first()
        if tag is None:
            raise DomainError(TagError.NOT_FOUND, id=tag_id)
        _manual(tag)
        before = {"name": tag.name, "description": tag.description}
        tag.name, tag.description = name, description
        try:
            with transaction.atomic():
                tag.save(update_fields=["name", "description"])
        except IntegrityError as exc:
            raise DomainError(TagError.NAME_TAKEN, name=name) from exc
        audit_record(
            actor=actor, action="tag.update", object_type="tag", object_id=tag.pk,
            before=before, after={"name": name, "description": description},
        )  # fmt: skip
    return tag


def tag_delete(*, tag_id: int, actor: Actor) -> int:
    """Delete a manual tag and take it off every member; returns how many members had it.

    Raises: tag.not_found, tag.rule_based."""
    with transaction.atomic():
        tag = Tag.objects.select_for_update().filter(pk=tag_id).first()
        if tag is None:
            raise DomainError(TagError.NOT_FOUND, id=tag_id)
        _manual(tag)
        members = MemberTag.objects.filter(tag=tag).count()
        MemberTag.objects.filter(tag=tag).delete()
        audit_record(
            actor=actor, action="tag.delete", object_type="tag", object_id=tag.pk,
            before={"name": tag.name, "members": members},
        )  # fmt: skip
        tag.delete()
    return members


def _locked(tag: Tag) -> Tag:
    """The tag's row, locked for this transaction: a tag_delete at the same moment waits for the
    tagging, or the tagging finds the tag gone (the faults review: a 500 at COMMIT on PostgreSQL, a
    missing row on SQLite, when a tag was deleted while members were being tagged).

    Raises: tag.not_found."""
    if not Tag.objects.select_for_update().filter(pk=tag.pk).exists():
        raise DomainError(TagError.NOT_FOUND, name=tag.name)
    return tag


def member_tag_add(*, member_id: int, tag_name: str, actor: Actor) -> MemberTag:
    """Put a manual tag on a member; already there is no change (and no second row).

    Raises: member.not_found, tag.not_found, tag.rule_based."""
    tag = _manual(tag_get(tag_name))
    with transaction.atomic():
        _locked(tag)
        if not Member.objects.filter(pk=member_id).exists():
            raise DomainError(MemberError.NOT_FOUND, id=member_id)
        # ON CONFLICT DO NOTHING: two operators tagging at once both succeed, one row results.
        MemberTag.objects.bulk_create(
            [MemberTag(member_id=member_id, tag=tag, added_by=actor.label[:80])], ignore_conflicts=True
        )
        link = MemberTag.objects.select_related("tag").get(member_id=member_id, tag=tag)
        audit_record(
            actor=actor, action="member.tag_add", object_type="member", object_id=member_id,
            after={"tag": tag.name},
        )  # fmt: skip
    return link


def member_tag_remove(*, member_id: int, tag_name: str, actor: Actor) -> bool:
    """Take a manual tag off a member; returns whether the member had it.

    Raises: member.not_found, tag.not_found, tag.rule_based."""
    tag = _manual(tag_get(tag_name))
    with transaction.atomic():
        if not Member.objects.filter(pk=member_id).exists():
            raise DomainError(MemberError.NOT_FOUND, id=member_id)
        removed, _ = MemberTag.objects.filter(member_id=member_id, tag=tag).delete()
        audit_record(
            actor=actor, action="member.tag_remove", object_type="member", object_id=member_id,
            before={"tag": tag.name}, after={"removed": bool(removed)},
        )  # fmt: skip
    return bool(removed)


def members_tag_add(*, member_ids: list[int], tag_name: str, actor: Actor) -> int:
    """Put a manual tag on many members at once; all or nothing: one unknown id refuses the whole
    list (member.not_found names them), so a typo is fixed and re-run, not half applied. Returns how
    many members newly got the tag.

    Raises: tag.not_found, tag.rule_based, tag.too_many_members, member.not_found."""
    tag = _manual(tag_get(tag_name))
    wanted = sorted(set(member_ids))
    if len(wanted) > MAX_BULK:
        raise DomainError(TagError.TOO_MANY_MEMBERS, limit=MAX_BULK)
    with transaction.atomic():
        _locked(tag)
        known = set(Member.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        unknown = [pk for pk in wanted if pk not in known]
        if unknown:
            raise DomainError(MemberError.NOT_FOUND, ids=unknown[:20])
        had = set(MemberTag.objects.filter(tag=tag, member_id__in=wanted).values_list("member_id", flat=True))
        MemberTag.objects.bulk_create(
            [MemberTag(member_id=pk, tag=tag, added_by=actor.label[:80]) for pk in wanted if pk not in had],
            ignore_conflicts=True,
        )
        added = len(wanted) - len(had)
        audit_record(
            actor=actor, action="tag.bulk_add", object_type="tag", object_id=tag.pk,
            after={"tag": tag.name, "members": len(wanted), "added": added},
        )  # fmt: skip
    return added


# --- rule-based tags: their members follow a segment (analytics), synced at each recompute -----


def rule_tag_ensure(*, name: str) -> Tag | None:
    """The rule-based tag called `name`, created when missing; None when a manual tag has the name
    (a rule must never take over the members an operator tagged by hand)."""
    tag, _created = Tag.objects.get_or_create(name=name, defaults={"kind": TagKind.RULE})
    return tag if tag.kind == TagKind.RULE else None


def rule_tag_sync(*, tag_id: int, member_ids: set[int]) -> tuple[int, int]:
    """Make a rule-based tag's members exactly `member_ids` (its segment's at a recompute); returns
    (added, removed). Runs in the caller's transaction."""
    tag = Tag.objects.get(pk=tag_id, kind=TagKind.RULE)
    current = set(MemberTag.objects.filter(tag=tag).values_list("member_id", flat=True))
    removed = current - member_ids
    added = member_ids - current
    for chunk in _chunked(sorted(removed)):
        MemberTag.objects.filter(tag=tag, member_id__in=chunk).delete()
    MemberTag.objects.bulk_create(
        [MemberTag(tag=tag, member_id=m, added_by="rule") for m in sorted(added)],
        batch_size=1000,
        ignore_conflicts=True,
    )
    return len(added), len(removed)


def _chunked(values: list[int], size: int = 900) -> list[list[int]]:
    """Under SQLite's bound-parameter limit."""
    return [values[i : i + size] for i in range(0, len(values), size)]
