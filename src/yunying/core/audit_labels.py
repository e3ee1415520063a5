"""Audit codes in words, for the console: an operator reads 登记隐私请求, not privacy.request_create.

The codes stay what they are (the API and `yunying audit` return them, auditors search by them); only
what a page shows changes. Each app registers the words for its own actions, object types, the
before/after fields of its rows and its system actors from its AppConfig.ready(), as it registers its
error messages (core.errors.register_messages). Registering twice replaces (ready() may run again).

tests/core/test_audit_labels.py reads every audit_record call in the source: an action or object type
without words here fails it.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

Label = str | Promise

_actions: dict[str, Label] = {}
_groups: dict[str, Label] = {}
_object_types: dict[str, Label] = {}
_fields: dict[str, Label] = {}
_system_actors: dict[str, Label] = {}


def audit_labels_register(
    *,
    actions: Mapping[str, Label] | None = None,
    groups: Mapping[str, Label] | None = None,
    object_types: Mapping[str, Label] | None = None,
    fields: Mapping[str, Label] | None = None,
    system_actors: Mapping[str, Label] | None = None,
) -> None:
    """Words for audit codes. `groups` names an action prefix ("campaign" for campaign.*), the
    filter's heading; `system_actors` maps the label of a kind="system" Actor to what it is."""
    _actions.update(actions or {})
    _groups.update(groups or {})
    _object_types.update(object_types or {})
    _fields.update(fields or {})
    _system_actors.update(system_actors or {})


def action_label(code: str) -> str:
    """The action in words; an unknown code as itself."""
    return str(_actions.get(code, code))


def action_labels() -> dict[str, Label]:
    return dict(_actions)


def group_label(prefix: str) -> str:
    return str(_groups.get(prefix, prefix))


def object_type_label(code: str) -> str:
    return str(_object_types.get(code, code))


def object_type_labels() -> dict[str, Label]:
    return dict(_object_types)


def field_label(name: str) -> str:
    """A before/after field in words; a field without a label as its name."""
    return str(_fields.get(name, name))


def actor_text(kind: str, label: str) -> str:
    """Who acted, as a row records it (actor_kind, actor_label): a system actor in words, a member as
    the member; an operator or an API key by its name."""
    if kind == "system":
        if label in _system_actors:
            return str(_system_actors[label])
        if label.startswith("command line (") and label.endswith(")"):
            return gettext("Command line (%(user)s)") % {"user": label[len("command line (") : -1]}
    if kind == "member":
        return gettext("The member")
    return label


# core's own: API keys, and the actors core defines (core.permissions.SYSTEM).
audit_labels_register(
    actions={
        "apikey.create": _("Create API key"),
        "apikey.owner": _("Change API key holder"),
        "apikey.revoke": _("Revoke API key"),
    },
    groups={"apikey": _("API keys")},
    object_types={
        "apikey": pgettext_lazy("audit object", "API key"),
        "user": pgettext_lazy("audit object", "Operator"),
    },
    fields={
        "name": pgettext_lazy("audit field", "Name"),
        "status": pgettext_lazy("audit field", "Status"),
        "state": pgettext_lazy("audit field", "State"),
        "kind": pgettext_lazy("audit field", "Kind"),
        "reason": pgettext_lazy("audit field", "Reason"),
        "note": pgettext_lazy("audit field", "Note"),
        "notes": pgettext_lazy("audit field", "Notes"),
        "role": pgettext_lazy("audit field", "Role"),
        "owner": pgettext_lazy("audit field", "Holder"),
        "channel": pgettext_lazy("audit field", "Channel"),
        "channels": pgettext_lazy("audit field", "Channels"),
        "code": pgettext_lazy("audit field", "Code"),
        "description": pgettext_lazy("audit field", "Description"),
        "due_at": pgettext_lazy("audit field", "Due"),
        "done_at": pgettext_lazy("audit field", "Done at"),
        "revoked_at": pgettext_lazy("audit field", "Revoked at"),
        "member": pgettext_lazy("audit field", "Member"),
        "member_id": pgettext_lazy("audit field", "Member ID"),
        "member_ids": pgettext_lazy("audit field", "Member IDs"),
        "members": pgettext_lazy("audit field", "Members"),
        "points": pgettext_lazy("audit field", "Points"),
        "amount_fen": pgettext_lazy("audit field", "Amount (fen)"),
        "total_fen": pgettext_lazy("audit field", "Total (fen)"),
        "key": pgettext_lazy("audit field", "Key"),
        "scope": pgettext_lazy("audit field", "Scope"),
        "source": pgettext_lazy("audit field", "Source"),
        "format": pgettext_lazy("audit field", "Format"),
        "fields": pgettext_lazy("audit field", "Fields"),
        "rows": pgettext_lazy("audit field", "Rows"),
        "username": pgettext_lazy("audit field", "User name"),
        "external_id": pgettext_lazy("audit field", "External ID"),
        "tag": pgettext_lazy("audit field", "Tag"),
        "category": pgettext_lazy("audit field", "Category"),
        "outcome": pgettext_lazy("audit field", "Outcome"),
        "result": pgettext_lazy("audit field", "Result"),
        "subject": pgettext_lazy("audit field", "Subject"),
        "reference": pgettext_lazy("audit field", "Reference"),
        "query": pgettext_lazy("audit field", "Search"),
        "size": pgettext_lazy("audit field", "Size"),
        "month": pgettext_lazy("audit field", "Month"),
        "mode": pgettext_lazy("audit field", "Mode"),
        "campaign": pgettext_lazy("audit field", "Campaign"),
        "campaign_id": pgettext_lazy("audit field", "Campaign ID"),
    },
    system_actors={"system": _("System")},
)
