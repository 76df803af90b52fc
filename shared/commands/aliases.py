"""``aliases``: where each alias of a model points, and with --history every move it made, who made it and why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.commands.promote import Alias
from shared.storage import aliases as alias_log

if TYPE_CHECKING:
    from shared.families.model import Model


def aliases(model: Model, *, alias: Alias | None = None, history: bool = False) -> dict[str, Any]:
    """Show where each alias points (and 'latest', the newest commit); --history lists every move of each.

    Args:
        alias: Show only this alias.
        history: List every event of each alias, oldest first: version, what it replaced, why, who, when.
    """
    from shared.storage.store import Store

    store = Store(model._store_url)
    names = [alias] if alias is not None else store.alias_names(model.name)
    shown: dict[str, Any] = {}
    for name in names:
        events = alias_log.history(store, model.name, name)
        if not events and alias is not None:
            shown[name] = [] if history else None
        elif events:
            shown[name] = events if history else alias_log.result(events[-1])
    versions = store.versions(model.name)
    return {"model": model.name, "latest": versions[-1]["version"] if versions else None, "aliases": shown}
