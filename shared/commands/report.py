"""``report``: a version's report, as one self-contained HTML page and the JSON of every number it plots."""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import TYPE_CHECKING, Annotated, Any

from shared.contract import derived, params
from shared.contract.params import Bounds, Check, TablePath
from shared.errors import BadArgument, BadData
from shared.storage import artifacts, versions
from shared.tables import inputs

if TYPE_CHECKING:
    from shared.families.model import Model

THRESHOLD = 0.5  # the confusion table's, where a command has no --threshold
log = logging.getLogger(__name__)
CONTRIBUTION_ROWS = 20_000  # rows whose contributions are averaged (pred_contrib costs a tree walk per feature)


def report(
    model: Model,
    data: TablePath | None = None,
    *,
    version: Annotated[str, params.Shown("version id, alias or 'latest'"), Check(versions.check_version)] = "latest",
    against: Annotated[str, params.Shown("version id or alias"), Check(versions.check_against)] | None = None,
    output: Annotated[str, params.Shown("folder"), params.Output()] | None = None,
    threshold: Annotated[float, Bounds(gt=0, lt=1)] = THRESHOLD,
    max_unseen: Annotated[float, Bounds(ge=0, le=1)] = 0.05,
) -> dict[str, Any]:
    """Write a version's report: report.html (charts as inline SVG; opens offline) and report.json.

    Args:
        data: Labelled table to measure on, e.g. the held-out rows train wrote with --holdout_output.
            Default: a fresh draw of the embedded sample.
        version: Model version to report on: a version id, an alias (champion), ALIAS@N or 'latest'.
        against: A version whose curves are overlaid, measured on the same rows; 'none' for no overlay.
            Default: the champion, if there is one, it is another version and it can read these rows.
        output: Folder for report.html and report.json. Default: <store>/<model>/reports/<version>/.
        threshold: Probability at or above which a row counts as positive in the confusion table
            (binary classifiers; a multiclass model's table counts each row's most probable class).
        max_unseen: Largest share of rows with a category never seen in training; above it, exit 65.
    """
    from shared.storage.store import Store

    store = Store(model._store_url)
    loaded = artifacts.load(model, version)
    holder = _against(model, store, against, loaded.manifest["version"])
    labelled = [model.label] if model.label else []
    required = derived.inputs_of(model, [*loaded.schema.columns, *labelled])
    kinds = {k: v for k, v in loaded.schema.kinds.items() if k in required}
    folder = (output or f"{store.url}/{model.name}/reports/{loaded.manifest['version']}").rstrip("/")
    if output is not None:
        check_target(store, output, data, "--output")
    if model._dry_run:
        from shared.pipelines import dryrun

        facts = {"version": loaded.manifest["version"], "against": holder and holder.manifest["version"]}
        return dryrun.plan(model, "report", store, data, required, kinds=kinds, output=folder, **facts)
    frame = derived.apply(model, inputs.read_frame(model, data, inputs.HOLDOUT_SEED, kinds=kinds, required=required))
    implicit = against is None  # the champion by default: left out, with a warning, if it cannot read the rows
    document = build(
        model, store, [loaded, *([holder] if holder else [])], frame, data, threshold, max_unseen, implicit
    )
    written = write(folder, document)
    return {
        "model": model.name,
        "version": loaded.manifest["version"],
        **artifacts.resolved(loaded.manifest),
        "rows": len(frame),
        "metrics": document["metrics"],
        "against": document["against"][0]["version"] if document["against"] else None,
        **written,
    }


def build(
    model: Model,
    store: Any,
    loaded: list[Any],
    frame: Any,
    data: Any,
    threshold: float,
    max_unseen: float,
    optional: bool = False,
) -> dict[str, Any]:
    """The report document of ``loaded[0]`` on the labelled ``frame`` (derived features added), the other
    versions' metrics and curves on the same rows beside it (``against``); with ``optional``, another version
    that cannot read the rows is left out with a warning."""
    from shared.contract import labels
    from shared.monitoring import report as pages
    from shared.pipelines import scoring
    from shared.training import fitting

    labelled = [model.label] if model.label else []
    target = labels.target(model, frame, "report data") if model.label else None
    ids = [model.id_column] if model.id_column else []

    def measured(one: Any) -> dict[str, Any]:
        features, unseen = one.schema.prepare(frame)
        scoring.check_unseen(one.schema, frame, (*ids, *labelled), max_unseen, unseen)
        predicted = model._predict(one.fitted, features)
        found = {"version": one.manifest["version"]}
        found["metrics"] = fitting.measure(model, one.fitted, features, target, predicted)
        found["curves"] = _curves(model, target, predicted, features, threshold)
        return found | {"features": features}

    ours, theirs = measured(loaded[0]), []
    for one in loaded[1:]:
        try:
            theirs.append(measured(one))
        except BadData as exc:
            if not optional:
                raise BadData(f"version {one.manifest['version']}, beside the report's: {exc}") from None
            log.warning("the champion %s is left out of the report: %s", one.manifest["version"], exc)
    manifest = loaded[0].manifest
    return {
        "schema": pages.REPORT_SCHEMA,
        "model": model.name,
        "version": manifest["version"],
        "kind": _kind(model),
        "data": inputs.describe_source(data) if data is not None else "embedded sample",
        "rows": len(frame),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "metrics": ours["metrics"],
        "curves": ours["curves"],
        "against": [{k: v for k, v in one.items() if k != "features"} for one in theirs],
        "importance": manifest.get("importance") or [],
        "contributions": _contributions(model, loaded[0].fitted, ours["features"]),
        "training": {
            "metrics (held-out rows)": manifest.get("metrics"),
            "data": manifest.get("data"),
            "split": manifest.get("split"),
            "rows": manifest.get("rows"),
            "committed_at": manifest.get("committed_at"),
            "libraries": manifest.get("libraries"),
        },
        "params": manifest.get("params") or {},
        **_aliases(store, model.name, manifest["version"]),
    }


def write(folder: str, document: dict[str, Any]) -> dict[str, Any]:
    """Write ``document``'s report.json then report.html into ``folder``, each whole."""
    from shared.monitoring import report as pages

    return pages.save(folder, document, pages.page)


def _kind(model: Model) -> str:
    if model.label is None:
        return "clustering"
    objective = getattr(model, "objective", None)
    if objective == "multiclass":
        return "multiclass"
    return "classifier" if objective == "binary" else "regressor"


def _curves(model: Model, target: Any, predicted: Any, features: Any, threshold: float) -> dict:
    from shared.monitoring import curves

    kind = _kind(model)
    if kind == "classifier":
        return curves.classifier(model._metric_inputs(None, features, target, predicted)[0], predicted, threshold)
    if kind == "multiclass":  # the label as class codes, the probabilities as rows x classes
        return curves.multiclass(target.to_numpy(dtype="int64"), predicted, model.classes)
    if kind == "regressor":
        return curves.regressor(target.to_numpy(dtype="float64"), predicted)
    return curves.clustering(predicted, features)


def _contributions(model: Model, fitted: Any, features: Any) -> dict[str, Any] | None:
    """Each feature's mean absolute contribution (LightGBM's own pred_contrib) on up to CONTRIBUTION_ROWS rows;
    None for a multiclass model."""
    import numpy as np

    if _kind(model) == "multiclass":
        # pred_contrib gives a multiclass model one block of features + bias per class (K x (F + 1) columns),
        # each in its class's raw score before the softmax: no one number per feature measures all classes,
        # and K charts of raw-score contributions say less than the importance chart does. Left out.
        return None

    rows = features.iloc[:: max(1, math.ceil(len(features) / CONTRIBUTION_ROWS))]
    found = model._contributions(fitted, rows)
    if found is None:
        return None
    found = np.asarray(found)
    mean_abs = np.abs(found[:, :-1]).mean(axis=0)
    entries = [
        {"feature": name, "mean_abs": float(f"{v:.6g}")} for name, v in zip(features.columns, mean_abs, strict=True)
    ]
    return {"rows": len(rows), "bias": float(f"{found[0, -1]:.6g}"), "features": entries}


def _against(model: Model, store: Any, against: str | None, version: str) -> Any:
    """The version to overlay: ``against``, or the champion when there is one and it is another version."""
    from shared.storage import aliases

    if against == "none":
        return None
    if against is None:
        if aliases.current(store, model.name, "champion") is None:
            return None
        against = "champion"
        chosen = artifacts.load(model, against)
        return chosen if chosen.manifest["version"] != version else None
    return artifacts.load(model, against)


def _aliases(store: Any, name: str, version: str) -> dict[str, Any]:
    """``aliases``: every alias event that named this version (pointed at it or replaced it), with its reason,
    who moved it, and ``current`` for each alias's newest event (the alias points at its version now);
    ``alias_targets``: every alias of the model and the version it points at now."""
    from shared.storage import aliases

    found, targets = [], {}
    for alias in store.alias_names(name):
        events = aliases.history(store, name, alias)
        if events:
            targets[alias] = events[-1]["version"]
        for k, event in enumerate(events):
            if version in (event.get("version"), event.get("replaces")):
                facts = {key: event.get(key) for key in ("generation", "version", "replaces", "action", "reason")}
                current = k == len(events) - 1
                found.append(
                    {"alias": alias, **facts, "at": event.get("at"), "by": event.get("by"), "current": current}
                )
    return {"aliases": found, "alias_targets": targets}


def check_target(store: Any, folder: str, data: Any, flag: str) -> None:
    """BadArgument (64) before any work for a report folder that is a file, lies inside the input, or inside
    the store (where the default folder is: omit the flag)."""
    import os

    from shared.tables import overlap

    if "://" not in folder and os.path.isfile(folder):
        raise BadArgument(f"{flag} {folder} is a file; name a folder for report.html and report.json")
    for name in ("report.json", "report.html"):
        overlap.refuse(f"{folder.rstrip('/')}/{name}", data, flag)
    try:
        overlap.refuse(f"{folder.rstrip('/')}/report.json", store.url, flag)
    except BadArgument:
        msg = (
            f"{flag} {folder} lies inside the store ({store.url}), whose files modelfleet alone writes; name a "
            "folder outside it, or leave the flag out of report for <store>/<model>/reports/<version>/"
        )
        raise BadArgument(msg) from None
