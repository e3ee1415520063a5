"""The message templates the outbox can send, registered by the apps that own them (N2).

notify knows no campaign: an app registers its template keys with a *loader* from its
AppConfig.ready() (campaigns: campaigns.messages). A queued message stores only the template key and
references (e.g. {"campaign_id": 7, "signup_id": 42}); the worker renders it when it goes out, so an
edit made after queueing (a new title, a new time, fewer channels) reaches the member.

Rendering a batch, in two steps so a batch costs one query per app, not one per message:
- `load(contexts)` is called once per claimed batch with the contexts of that app's messages; it
  reads what they refer to and returns a `render` function;
- `render(template, context, channel)` runs per message, inside the member's language, and returns
  (subject, body), or None when the message must not go out any more (its campaign no longer notifies
  on that channel), or a `Withheld` saying why it must not: the worker then records it as cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


class Withheld(str):
    """What a render returns for a message that must not go out, with the reason the outbox records."""


Render = Callable[[str, dict, str], tuple[str, str] | Withheld | None]
Loader = Callable[[list[dict]], Render]

# What a message is for decides who may receive it (N3): "service" (a sign-up confirmed, a reminder)
# goes to every member; any other purpose ("marketing") only to members who granted it, checked when
# the message goes out by the consent check members registers in core.registry (notify and members
# are independent layers: neither imports the other).
SERVICE = "service"
MARKETING = "marketing"

_loaders: dict[str, Loader] = {}
_purposes: dict[str, str] = {}


def templates_register(keys: Iterable[str], loader: Loader, *, purpose: str = SERVICE) -> None:
    """Make `keys` sendable, rendered through `loader` (see the module docstring), for `purpose`."""
    for key in keys:
        _loaders[key] = loader
        _purposes[key] = purpose


def template_purpose(key: str) -> str:
    return _purposes.get(key, SERVICE)


def template_loader(key: str) -> Loader | None:
    return _loaders.get(key)


def template_keys() -> list[str]:
    return sorted(_loaders)
