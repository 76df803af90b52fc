"""``gc``: remove old versions that nothing names any more. Without --delete it only says what it would remove."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Annotated, Any

from shared.contract.params import Bounds
from shared.process import stopping
from shared.storage import aliases

if TYPE_CHECKING:
    from shared.families.model import Model
    from shared.storage.store import Store

log = logging.getLogger(__name__)


def gc(
    model: Model,
    *,
    keep: Annotated[int, Bounds(ge=1)],
    keep_events: Annotated[int, Bounds(ge=1)] = 10,
    stale_hours: Annotated[float, Bounds(gt=0, le=876_000)] = 24.0,  # at most a hundred years
    delete: bool = False,
) -> dict[str, Any]:
    """List (or, with --delete, remove) old versions: all but the newest KEEP that no alias points at.

    It also lists (and removes) what a killed ``compile`` left in the versions it keeps: a library no record
    names, once its writer is gone; with --delete, also this machine's build folders whose process is gone.

    Args:
        keep: Newest committed versions to keep, whatever else holds.
        keep_events: Also keep every version that each alias's last KEEP_EVENTS events name (pointed at or
            replaced): what a rollback could go back to.
        stale_hours: A version folder with no manifest (a training attempt) is removed only once its newest file
            is this old: a younger one may still be being written.
        delete: Remove them. Without it, nothing is removed: the result lists what would be.
    """
    from shared.estimators import compiled
    from shared.storage.store import Store

    store = Store(model._store_url)
    committed, unreadable = store.listing(model.name)
    newest = {m["version"] for m in committed[::-1][:keep]}
    named = _named(store, model.name, keep_events)
    kept: dict[str, list[str]] = {}
    for manifest in committed[::-1]:  # newest first; only what is there (an alias may name a removed version)
        version = manifest["version"]
        why = [f"one of the {keep} newest"] if version in newest else []
        why += [f"named by {alias}" for alias in sorted(named) if version in named[alias]]
        if why:
            kept[version] = why
    old = [m["version"] for m in committed if m["version"] not in kept]
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(hours=stale_hours)
    attempts = store.uncommitted(model.name)
    stale = [a["version"] for a in attempts if a["modified"] is not None and a["modified"] < cutoff]
    abandoned = store.abandoned_compiled(model.name, list(kept))
    removed: list[str] = []
    if delete and not model._dry_run:  # (the result's "removed"; else "would_remove")
        store.check_writable()
        store.remove_abandoned(model.name, abandoned)
        compiled.sweep_builds()  # this machine's build folders whose process is gone
        for version in old:
            stopping.check()
            if _remove(store, model.name, version, keep_events):
                removed.append(version)
        for version in stale:
            stopping.check()
            store.purge(model.name, version)
            removed.append(version)
    deleting = delete and not model._dry_run
    result = {
        "model": model.name,
        "delete": deleting,
        "kept": [{"version": v, "because": why} for v, why in kept.items()],
        ("removed" if deleting else "would_remove"): removed if deleting else [*old, *stale],
        "uncommitted": [{"version": a["version"], "modified": a["modified"]} for a in attempts],
        "abandoned": abandoned,
        "unreadable": [{"version": u["version"], "error": u["error"]} for u in unreadable],
    }
    return {**result, **({"dry_run": True, "command": "gc"} if model._dry_run else {})}


def _named(store: Store, model: str, events: int) -> dict[str, set[str]]:
    """Per alias, the versions its last ``events`` events point at or replace."""
    named = {}
    for alias in store.alias_names(model):
        recent = aliases.history(store, model, alias)[-events:]
        named[alias] = {v for e in recent for v in (e["version"], e.get("replaces")) if v}
    return named


def _remove(store: Store, model: str, version: str, events: int) -> bool:
    """Retire ``version``, then look again: an alias moved to it meanwhile gets it back untouched. Whether it
    was removed."""
    if any(version in names for names in _named(store, model, events).values()):
        return False
    what = f"the removal of {model} version {version}"  # a stop from here on says whether it was removed
    with stopping.committing(what, lambda: not store.exists(model, version), model=model, version=version) as done:
        body = store.retire(model, version)
        if any(version in names for names in _named(store, model, events).values()):  # promoted in between
            store.reinstate(model, version, body)
            log.warning("%s version %s was named by an alias while gc removed it; it was put back", model, version)
            return False
        done()
        store.purge(model, version)
    log.info("removed %s version %s", model, version)
    return True
