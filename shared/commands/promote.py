"""``promote``: point an alias (champion, production, ...) at a version, as a new event in the alias's log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from shared.contract import params
from shared.contract.params import Check
from shared.errors import BadArgument
from shared.storage import aliases as alias_log
from shared.storage import signing, versions

if TYPE_CHECKING:
    from shared.families.model import Model

Alias = Annotated[str, params.Shown("alias"), Check(alias_log.check_alias_text)]
Expected = Annotated[str, params.Shown("version id or 'none'"), Check(alias_log.check_expected)]
RunId = Annotated[str, params.Shown("run id"), Check(versions.check_run_id)]


def promote(
    model: Model,
    *,
    alias: Alias,
    version: Annotated[  # its own variable only: MODELFLEET_<MODEL>_VERSION says what score uses, not what to promote
        str, params.Shown("version id, alias or 'latest'"), Check(versions.check_version), params.PerCommand()
    ] = "latest",
    reason: str | None = None,
    expect: Expected | None = None,
    run_id: RunId | None = None,
) -> dict[str, Any]:
    """Point ALIAS at a version: score and evaluate take --version=ALIAS. Every move is kept (aliases --history).

    Args:
        alias: The alias to move, e.g. champion.
        version: The version it points at from now on: a version id, another alias, or 'latest' (the newest
            commit, resolved now and recorded).
        reason: Why, for the history (e.g. "beats the champion on the October holdout").
        expect: Move it only if it points at this version now ('none': only if it was never set); else exit 76.
        run_id: The run that moves it, e.g. the Airflow run id; a retry with the same id moves nothing again.
    """
    from shared.storage import artifacts
    from shared.storage.store import Store

    store = Store(model._store_url)
    signing.check_writer("promote")
    if store.exists(model.name, alias):
        msg = f"--alias={alias} is the id of a version of {model.name}; an alias by that name would be mistaken for it"
        raise BadArgument(msg)
    manifest = artifacts.load(model, version).manifest  # a version that cannot be loaded is never promoted
    if model._dry_run:
        now = alias_log.current(store, model.name, alias)
        return {
            "dry_run": True,
            "model": model.name,
            "command": "promote",
            "version": manifest["version"],
            "alias": alias,
            "replaces": now["version"] if now else None,
        }
    event = alias_log.move(store, model.name, alias, manifest["version"], reason=reason, run_id=run_id, expect=expect)
    return alias_log.result(event)
