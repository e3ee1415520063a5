"""An operator's saved list filters: the only writer of console.SavedFilter.

A saved filter is a name and the query string of a list page, kept per operator (each sees and
deletes only their own). Saving and deleting are audited like every operator action."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from yunying.console.models import SavedFilter
from yunying.core.audit import audit_record
from yunying.core.errors import DomainError, FieldError, ValidationFailed
from yunying.core.permissions import Actor

MAX_PER_OPERATOR = 30


def saved_filter_list(*, user, section: str) -> QuerySet[SavedFilter]:
    return SavedFilter.objects.filter(user=user, section=section).order_by("name", "id")


def saved_filter_save(*, user, actor: Actor, section: str, name: str, query: str) -> SavedFilter:
    """Save (or replace, by name) this operator's filter. Raises: core.invalid (too many)."""
    try:
        return _save(user=user, actor=actor, section=section, name=name, query=query)
    except IntegrityError:
        # the same name saved at the same moment (two tabs): the row exists now, so this replaces it,
        # as any save by name does (no row to lock before the first insert; the review found a 500)
        return _save(user=user, actor=actor, section=section, name=name, query=query)


def _save(*, user, actor: Actor, section: str, name: str, query: str) -> SavedFilter:
    from django.utils.translation import gettext

    name = name.strip()[:60]
    with transaction.atomic():
        existing = (
            SavedFilter.objects.select_for_update().filter(user=user, section=section, name=name).first()
        )
        if existing is None and saved_filter_list(user=user, section=section).count() >= MAX_PER_OPERATOR:
            message = gettext("You can keep at most %(n)s saved filters; delete one first.") % {
                "n": MAX_PER_OPERATOR
            }
            raise ValidationFailed([FieldError("name", "core.invalid", message)])
        saved = existing or SavedFilter(user=user, section=section, name=name)
        saved.query = query[:1000]
        saved.save()
        audit_record(
            actor=actor, action="console.saved_filter_save", object_type="saved_filter", object_id=saved.pk,
            after={"section": section, "name": name, "query": saved.query},
        )  # fmt: skip
    return saved


def saved_filter_delete(*, user, actor: Actor, filter_id: int) -> None:
    """Raises: core.not_found (also for another operator's filter)."""
    with transaction.atomic():
        saved = SavedFilter.objects.filter(user=user, pk=filter_id).first()
        if saved is None:
            raise DomainError("core.not_found", id=filter_id)
        before = {"section": saved.section, "name": saved.name, "query": saved.query}
        saved.delete()
        audit_record(
            actor=actor, action="console.saved_filter_delete", object_type="saved_filter",
            object_id=filter_id, before=before,
        )  # fmt: skip
