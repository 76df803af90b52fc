"""``rollback``: point an alias back at the version it pointed at before, as a new event in its log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.commands.promote import Alias, RunId
from shared.errors import MissingInput
from shared.storage import aliases as alias_log
from shared.storage import signing

if TYPE_CHECKING:
    from shared.families.model import Model


def rollback(model: Model, *, alias: Alias, reason: str | None = None, run_id: RunId | None = None) -> dict[str, Any]:
    """Point ALIAS back at the version it replaced. The rollback is an event too: the history keeps both moves.

    Args:
        alias: The alias to move back, e.g. champion.
        reason: Why, for the history (e.g. "the new champion's scores drifted").
        run_id: The run that moves it; a retry with the same id moves nothing again.
    """
    from shared.storage import artifacts
    from shared.storage.store import Store

    store = Store(model._store_url)
    signing.check_writer("rollback")
    now = alias_log.current(store, model.name, alias)
    if now is None:
        msg = f"alias {alias!r} of {model.name!r} was never set; nothing to roll back"
        raise MissingInput(msg)
    if run_id is not None:
        done = [e for e in alias_log.history(store, model.name, alias) if e.get("run_id") == run_id]
        if done and done[-1].get("action") == "rollback":
            return alias_log.result({**done[-1], "already_recorded": True})
    if now["replaces"] is None:
        msg = (
            f"alias {alias!r} of {model.name!r} points at {now['version']}, its first version (generation "
            f"{now['generation']}): there is none before it to roll back to; promote another version instead"
        )
        raise MissingInput(msg)
    target = artifacts.load(model, now["replaces"]).manifest["version"]  # still there and loadable
    if model._dry_run:
        return {
            "dry_run": True,
            "model": model.name,
            "command": "rollback",
            "version": target,
            "alias": alias,
            "replaces": now["version"],
        }
    # Compare-and-set on what was read: a move made meanwhile is never rolled back unseen (76).
    event = alias_log.move(
        store, model.name, alias, target, action="rollback", reason=reason, run_id=run_id, expect=now["version"]
    )
    return alias_log.result(event)
