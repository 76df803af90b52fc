"""Promotion at training time: what ``--promote`` asks, the version it is measured against, and the verdict.

:func:`config` checks the flags before any work; :func:`holder` loads the version ``--against`` names;
:func:`judge` gives the gate's verdict on the held-out rows (its metrics, and the paired bootstrap against the
holder); :func:`promote` moves the alias if the verdict the version recorded passed. A retried run reads the
verdict its version recorded: it is never judged twice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from shared.errors import AliasMoved, BadArgument, MissingInput, NotPromoted
from shared.storage import aliases
from shared.training import bootstrap
from shared.training import gate as gating

if TYPE_CHECKING:
    import pandas as pd

    from shared.families.model import Model
    from shared.storage.artifacts import Loaded
    from shared.storage.store import Store
    from shared.training.fitting import Trained

log = logging.getLogger(__name__)


def config(
    model: Model,
    store: Store,
    version: str,
    promote: str | None,
    gate: str | None,
    against: str | None,
    *,
    tolerance: float,
    against_metric: str | None,
    confidence: float,
    resamples: int,
) -> dict[str, Any] | None:
    """What ``--promote`` asks, checked before any work (None without it); the verdict records it, and a retry
    must ask the same."""
    if promote is None and (gate is not None or against is not None):
        msg = f"--{'gate' if gate is not None else 'against'} decides a promotion: give --promote=ALIAS too"
        raise BadArgument(msg)
    unused = {"tolerance": tolerance != 0, "against_metric": against_metric is not None}
    unused |= {"confidence": confidence != bootstrap.CONFIDENCE, "resamples": resamples != bootstrap.RESAMPLES}
    if against is None and any(unused.values()):
        flag = next(name for name, given in unused.items() if given)
        raise BadArgument(f"--{flag} says how to compare with --against, which is not given: give --against too")
    if promote is None:
        return None
    if promote == version or store.exists(model.name, promote):
        msg = f"--promote={promote} is the id of a version of {model.name}; an alias by that name would be mistaken"
        raise BadArgument(msg)
    metric = gating.check(model, gate, against_metric)
    if against is not None and metric is None:
        raise BadArgument(f"--against: {model.name} declares no metric to compare versions by")
    config: dict[str, Any] = {
        "promote": promote,
        "gate": gating.canonical(gate),
        "against": against,
    }
    if against is not None and metric is not None:
        config |= {"against_metric": metric.__name__, "tolerance": tolerance, "confidence": confidence}
        config["resamples"] = resamples
    return config


def holder(model: Model, store: Store, against: str, promote: str | None) -> tuple[Loaded, dict[str, Any]] | None:
    """The version ``--against`` names now, loaded, and what the verdict records of it; None when it names the
    alias being promoted and that was never set (the first promotion has nothing to compare with). Any other
    alias never set is MissingInput: a misspelt --against must not wave every version through."""
    from shared.storage import artifacts

    try:
        loaded = artifacts.load(model, against)
    except MissingInput:
        if against == promote and aliases.current(store, model.name, against) is None:
            log.info("--against=%s: the alias was never set; there is nothing to compare with", against)
            return None
        raise
    event = loaded.manifest.get("resolved")
    return loaded, {"version": loaded.manifest["version"], **({"event": event} if event else {})}


def check_measurable(model: Model, holder: Loaded, frame: pd.DataFrame, against: str) -> None:
    """BadArgument before fitting if the holder needs feature columns this training data does not hold."""
    missing = [name for name in holder.schema.columns if name not in frame.columns]
    if missing:
        msg = (
            f"--against={against}: version {holder.manifest['version']} uses the features {missing} that this "
            f"train does not read ({model.name}'s features changed since): it cannot be measured on the same rows; "
            "compare them on a labelled table with evaluate, and promote by hand"
        )
        raise BadArgument(msg)


def check_unseen_by_holder(
    holder: dict[str, Any], identity: dict[str, Any], split: dict[str, Any], against: str
) -> None:
    """BadArgument (nothing committed) if the holder was trained on these same rows with another split: some of the
    held-out rows would be rows it was fit on, and it would look better than it is. (On the same rows with the
    same split, both were held out the same rows: a fair comparison.)"""
    theirs = holder.get("data") or {}
    if theirs.get("sha256") != identity.get("sha256") or holder.get("split") == split:
        return
    keys = ("method", "seed", "valid_fraction", "stop_fraction", "column", "valid_from", "valid_data")
    mine = " ".join(f"{k}={split[k]}" for k in keys if k in split)
    was = " ".join(f"{k}={holder['split'][k]}" for k in keys if k in (holder.get("split") or {}))
    msg = (
        f"--against={against}: version {holder['version']} was trained on this same data with another split "
        f"({was}; this one: {mine}), so some of these held-out rows are rows it was fit on and it would be "
        "measured too kindly: use its split, or hold out rows neither saw (--valid_data, --split=time)"
    )
    raise BadArgument(msg)


def judge(
    model: Model,
    trained: Trained,
    frame: pd.DataFrame,
    holder: tuple[Loaded, dict[str, Any]] | None,
    config: dict[str, Any],
    seed: int,
) -> dict[str, Any]:
    """The gate's verdict on the new version: its held-out metrics and, with --against, the paired bootstrap
    of its metric against the holder's on the same held-out rows."""
    comparison = None
    if holder is not None and trained.held_out is not None:
        loaded, _ = holder
        features, target, predicted = trained.held_out
        theirs, _ = loaded.schema.prepare(frame.iloc[trained.split.valid], "the held-out rows")
        metric = gating.metric_named(model, config["against_metric"], "--against_metric")
        comparison = bootstrap.paired(
            metric,
            model._metric_inputs(trained.fitted, features, target, predicted),
            model._metric_inputs(loaded.fitted, theirs, target, model._predict(loaded.fitted, theirs)),
            resamples=config["resamples"],
            confidence=config["confidence"],
            seed=seed,
        )
    verdict = gating.verdict(config, trained.metrics, comparison, holder[1] if holder else None)
    log.info("%s gate for %s: %s", model.name, config["promote"], "passed" if verdict["passed"] else "refused")
    return verdict


def promote(
    model: Model, store: Store, manifest: dict[str, Any], config: dict[str, Any] | None, result: dict[str, Any]
) -> dict[str, Any]:
    """Move the alias if the version's recorded verdict passed; else NotPromoted (100) carrying the result. A
    retried run reads the verdict its version recorded, and its move is found, not made again."""
    version, stored = manifest["version"], manifest.get("gate")
    if config is None:
        return result | ({"gate": stored} if stored else {})
    if stored is None or stored.get("config") != config:
        was = "without --promote" if stored is None else f"with {_flags(stored.get('config') or {})}"
        msg = (
            f"{model.name} version {version} was committed {was}; a retry of its --run_id must ask the same "
            f"(got {_flags(config)}): repeat those flags, or promote it with `{model.name} promote`"
        )
        raise BadArgument(msg)
    alias, result = config["promote"], result | {"gate": stored}
    refused = f"{model.name} version {version} was committed but not promoted to {alias}"
    if not stored["passed"]:
        raise NotPromoted(f"{refused}: {'; '.join(stored['reasons'])}", result | {"promoted": None})
    ref = aliases.reference(config["against"]) if config["against"] else None
    expect = None
    if ref is not None and ref == (alias, None):  # measured against the alias's holder: it must still hold it
        expect = (stored["against"] or {}).get("version") or "none"
    try:
        event = aliases.move(
            store, model.name, alias, version, reason=gating.summary(stored), run_id=version, gate=stored, expect=expect
        )
    except AliasMoved:
        now = aliases.current(store, model.name, alias)
        msg = (
            f"{refused}: the gate measured it against {expect}, but {alias} was moved to "
            f"{now['version'] if now else 'nothing'} since; nothing was changed (train again to judge anew)"
        )
        raise NotPromoted(msg, result | {"promoted": None}) from None
    flags = {key: True for key in ("already_recorded", "unchanged") if event.get(key)}
    return result | {"promoted": {**aliases.summary(event), **flags}}


def _flags(config: dict[str, Any]) -> str:
    return " ".join(f"--{key}={value}" for key, value in config.items() if value is not None) or "no flags"
