"""``train``: fit on the input, measure on held-out rows, and commit a new version to the store."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
from typing import TYPE_CHECKING, Annotated, Any, Literal

from shared.contract import derived, params
from shared.contract.params import Bounds, Check, TablePath
from shared.errors import (
    AliasMoved,
    ArtifactRejected,
    BadArgument,
    BadData,
    ConfigError,
    MissingInput,
    NothingToDo,
    NotPromoted,
)
from shared.pipelines import dryrun
from shared.storage import aliases, signing, versions
from shared.tables import inputs, overlap
from shared.training import bootstrap, fitting
from shared.training import gate as gating
from shared.training import split as splitting

if TYPE_CHECKING:
    import pandas as pd

    from shared.families.model import Model
    from shared.storage.artifacts import Loaded
    from shared.storage.store import Store
    from shared.training.fitting import Trained

log = logging.getLogger(__name__)


def train(
    model: Model,
    data: TablePath | None = None,
    *,
    run_id: Annotated[str, params.Shown("version id"), Check(versions.check_run_id)] | None = None,
    as_of: dt.date | None = None,
    valid_fraction: Annotated[float, Bounds(gt=0, le=0.9)] = 0.2,
    split_seed: Annotated[int, Bounds(ge=0, le=2**31 - 1)] = 0,
    stop_fraction: Annotated[float, Bounds(ge=0, le=0.5), params.Needs("early_stopping_rounds")] = 0.1,
    split: Literal["random", "time", "group"] = "random",
    split_column: Annotated[str, params.Shown("column")] | None = None,
    valid_from: dt.date | None = None,
    valid_data: TablePath | None = None,
    holdout_output: params.TableOutput | None = None,
    max_unseen: Annotated[float, Bounds(ge=0, le=1)] = 0.05,
    promote: Annotated[str, params.Shown("alias"), Check(aliases.check_alias_text)] | None = None,
    gate: Annotated[str, params.Shown("conditions"), Check(gating.check_conditions)] | None = None,
    against: Annotated[str, params.Shown("alias or version id"), Check(versions.check_version)] | None = None,
    tolerance: Annotated[float, Bounds(ge=0)] = 0.0,
    against_metric: Annotated[str, params.Shown("metric")] | None = None,
    confidence: Annotated[float, Bounds(ge=0.5, lt=1)] = 0.95,
    resamples: Annotated[int, Bounds(ge=100, le=100_000)] = 1000,
    compile: Literal["auto", "on", "off"] = "auto",
    **hyperparameters: Any,
) -> dict[str, Any]:
    """Train on DATA and commit a new model version to the store.

    Args:
        data: Table to train on. Default: the model's embedded sample.
        run_id: Version id to commit, e.g. the Airflow run id; retrying the same id changes nothing.
        as_of: Date the training data describes (e.g. Airflow's ds), recorded with the version.
        valid_fraction: Share of rows held out to measure the metrics.
        split_seed: Seed of the held-out rows' draw; the same data and seed hold out the same rows.
        stop_fraction: Share of rows set apart to stop boosting on (with --early_stopping_rounds), neither fit on
            nor measured on.
        split: How rows are held out: random; time (the latest by --split_column, or from --valid_from); group
            (all rows of one --split_column value, default the id, on one side).
        split_column: The date or time column of --split=time; the group column of --split=group.
        valid_from: With --split=time, hold out the rows from this date on.
        valid_data: Hold out these rows instead (another table): fit on all of DATA, measure on these.
        holdout_output: Also write the held-out rows here, to measure the stored version on them.
        max_unseen: Largest share of held-out rows with a category the fit rows lack (measured as missing, as
            score would); above it, exit 65, as score and evaluate would on those rows.
        promote: After committing, point this alias (e.g. champion) at the new version if its gate passes; if
            not, the version stays committed and train exits 100 with the verdict in its result.
        gate: Conditions the held-out metrics must meet to promote, e.g. "auc>=0.75,log_loss<=0.5".
        against: Promote only if not worse than the version this names (e.g. champion) on the same held-out rows:
            refused when the whole interval of the paired bootstrap's difference is worse than --tolerance.
        tolerance: How much worse than --against the new version may be, in the metric's unit.
        against_metric: The metric --against compares by. Default: the model's first.
        confidence: Coverage of the difference's interval.
        resamples: Bootstrap resamples of the held-out rows.
        compile: Build a boosted-trees version into a C library for this platform, for score's compiled engine
            (needs a C compiler): auto builds it where one is installed and keeps the version without it if the
            build or its bit-for-bit check against LightGBM fails; on fails (nothing committed); off skips it.
    """
    from shared.estimators import formats
    from shared.storage import artifacts
    from shared.storage.store import Artifact, Store, check_version_id, new_version_id
    from shared.tables.data import check_output, write_table

    cfg = model.Params(**hyperparameters)
    _check_compile(model, compile)
    splitting.check_choice(split, split_column, valid_from, valid_data)
    column = split_column if split_column is not None else (model.id_column if split == "group" else None)
    if split == "group" and column is None:
        msg = "--split=group needs --split_column: this model's rows have no id column"
        raise BadArgument(msg)
    if valid_data is not None:
        _refuse_shared_rows(data, valid_data)
    if getattr(cfg, "early_stopping_rounds", 0) and not stop_fraction:
        msg = "--early_stopping_rounds needs rows to stop on: give a --stop_fraction above 0"
        raise BadArgument(msg)
    model._check_settings(cfg)
    if holdout_output is not None:
        check_output(holdout_output, "--holdout_output")
        overlap.refuse(holdout_output, data, "--holdout_output")
        overlap.refuse(holdout_output, valid_data, "--holdout_output")
    store = Store(model._store_url)
    version = check_version_id(run_id) if run_id is not None else new_version_id()
    store.check_writable()
    signing.check_writer("train")
    committed = run_id is not None and store.exists(model.name, version)
    if run_id is not None and not committed and run_id in store.alias_names(model.name):
        msg = f"--run_id={run_id} is an alias of {model.name}; a version by that name would be mistaken for it"
        raise BadArgument(msg)
    config = _gate_config(
        model, store, version, promote, gate, against,
        tolerance=tolerance, against_metric=against_metric, confidence=confidence, resamples=resamples,
    )  # fmt: skip
    holder = _holder(model, store, against, promote) if config and against is not None and not committed else None
    needed = derived.inputs_of(model, [*model.numeric, *model.categorical, *([model.label] if model.label else [])])
    kinds = {**dict.fromkeys(model.numeric, "numeric"), **dict.fromkeys(model.categorical, "categorical")}
    kinds = {name: kind for name, kind in kinds.items() if name in derived.raw(model, kinds)}
    wanted = [*needed, *([column] if split != "random" and column and column not in needed else [])]
    if model._dry_run:
        planned: dict[str, Any] = {} if config is None else {"promote": {**config, "holder": holder and holder[1]}}
        if valid_data is not None:
            dryrun.plan(model, "train", store, valid_data, wanted, kinds=kinds)
        return dryrun.plan(
            model,
            "train",
            store,
            data,
            wanted,
            kinds=kinds,
            version=version,
            already_committed=committed,
            split={
                "method": "file" if valid_data is not None else split,
                "seed": split_seed,
                "valid_fraction": valid_fraction,
                **({"stop_fraction": stop_fraction} if getattr(cfg, "early_stopping_rounds", 0) else {}),
                **({"column": column} if column else {}),
                **({"valid_from": valid_from.isoformat()} if valid_from else {}),
                **({"valid_data": inputs.describe_source(valid_data)} if valid_data is not None else {}),
            },
            holdout_output=holdout_output,
            params=dataclasses.asdict(cfg),
            **planned,
        )
    if committed:
        log.info("%s version %s is already committed; nothing to do", model.name, version)
        if holdout_output is not None:
            log.warning("--holdout_output not written: the version was committed by an earlier run")
        manifest = store.resolve(model.name, version)
        return _promotion(model, store, manifest, config, _result(model, store, manifest, already_committed=True))

    ids = [name for name in dict.fromkeys([model.id_column, column if split == "group" else None]) if name]
    frame = inputs.read_frame(model, data, inputs.TRAIN_SEED, wanted, optional=ids, kinds=kinds)
    fit_rows = len(frame)
    if valid_data is not None:
        import pandas as pd

        try:
            held = inputs.read_frame(model, valid_data, inputs.HOLDOUT_SEED, wanted, optional=ids, kinds=kinds)
        except NothingToDo as exc:  # no rows to measure on is bad data, never a task to skip
            raise BadData(f"--valid_data: {exc}".replace("; nothing to do, nothing written", "")) from None
        frame = pd.concat([frame, held], ignore_index=True)
    inputs_only = frame
    frame = derived.apply(model, frame, "training data")
    if holdout_output is not None:
        _check_csv_keeps_levels(model, frame, holdout_output)
    stops = stop_fraction if getattr(cfg, "early_stopping_rounds", 0) else 0.0
    chosen = _split(split, frame, column, valid_fraction, split_seed, stops, valid_from, valid_data, fit_rows)
    # A file's identity is its bytes: whether the holder saw these rows with another split is decided before
    # fitting. A frame's identity hashes its cells, so it waits until fitting has checked they are features.
    early = holder is not None and data is not None and not inputs.is_frame(data)
    if holder is not None:
        _check_measurable(model, holder[0], frame, str(against))
        if early:
            identity = inputs.identity(data, frame)
            _check_unseen_by_holder(holder[0].manifest, identity, chosen.to_manifest(), str(against))
    trained = fitting.fit_held_out(
        model, frame, cfg, valid_fraction, split_seed, stop_fraction, split=chosen, max_unseen=max_unseen
    )
    if not early:
        identity = inputs.identity(data, frame)  # after fitting: the features are checked to be features by then
    if holder is not None and not early:
        _check_unseen_by_holder(holder[0].manifest, identity, trained.split.to_manifest(), str(against))
    verdict = _judge(model, trained, frame, holder, config, split_seed) if config is not None else None
    if holdout_output is not None:
        kept = [c for c in inputs_only.columns if c in {*needed, model.id_column}]
        write_table(inputs_only.iloc[trained.split.valid][kept], holdout_output)
        log.info("wrote the %d held-out rows to %s", len(trained.split.valid), holdout_output)

    record = {
        "features": trained.schema.to_manifest(),
        "label": model.label,
        **(
            {"positive_label": getattr(positive, "item", lambda: positive)()}
            if (positive := getattr(model, "positive_label", None)) is not None
            else {}
        ),
        "prediction": model.prediction,
        "params": dataclasses.asdict(cfg),
        "metrics": trained.metrics,
        **model._report(trained.fitted),
        "split": trained.split.to_manifest(),
        "rows": {
            "train": len(trained.split.fit),
            **({"stop": len(trained.split.stop)} if len(trained.split.stop) else {}),
            "valid": len(trained.split.valid),
        },
        "as_of": as_of.isoformat() if as_of else None,
        "data": {
            "source": inputs.describe_source(data),
            "rows": len(frame),
            **identity,
        },
        "libraries": artifacts.libraries(model.format),
        **({"trained_on_sample": True} if data is None else {}),
        **({"gate": verdict} if verdict is not None else {}),
        "profile": trained.profile,
    }
    if data is None:
        log.warning("%s trained on its embedded sample: a demonstration version, not for real rows", model.name)
    artifact = Artifact(artifacts.model_file(model.format), formats.dump(trained.fitted, model.format), model.format)
    built, failed = _build(model, compile, artifact.data, trained)
    manifest = store.commit(model.name, version, [artifact], record)
    result = _result(model, store, manifest, already_committed=manifest.get("already_committed", False))
    result |= _attach(model, store, manifest, built, failed)
    result |= {"holdout_output": holdout_output} if holdout_output is not None else {}
    return _promotion(model, store, manifest, config, result)


def _check_compile(model: Model, mode: str) -> None:
    """Under --compile=on, before any work: BadArgument for a model with nothing to compile, ConfigError (78)
    where there is no C compiler."""
    from shared.estimators import compiled, engines

    if mode != "on":
        return
    engines.check(model, "compiled", "--compile=on")
    if compiled.compiler() is None:
        raise ConfigError("--compile=on: no C compiler (cc, gcc or $CC) or no tl2cgen here; nothing was trained")


def _build(model: Model, mode: str, data: bytes, trained: Trained) -> tuple[Any, str | None]:
    """The compiled library of the model file ``data``, checked on the held-out rows, or None (and why not);
    under ``on`` a failure is raised before anything is committed."""
    from shared.estimators import compiled, engines, formats

    if mode == "off" or model.format != formats.LIGHTGBM:
        return None, None
    if compiled.compiler() is None:
        log.info("no C compiler (or no tl2cgen) here: the version is stored without a compiled library")
        return None, "no C compiler or tl2cgen in this image"
    try:
        return engines.build(model, data, trained.schema, trained.held_out[0] if trained.held_out else None), None
    except (ArtifactRejected, ConfigError) as exc:
        if mode == "on":
            raise type(exc)(f"--compile=on: {exc}; nothing committed") from None
        log.warning("the version is stored without a compiled library: %s", exc)
        return None, str(exc)


def _attach(model: Model, store: Store, manifest: dict[str, Any], built: Any, failed: str | None) -> dict:
    """The ``compiled`` entry of a result: the library stored with the new version, or why there is none."""
    from shared.estimators import engines
    from shared.storage import artifacts

    if built is None:
        return {"compiled": {"status": "not built", "reason": failed}} if failed else {}
    entry = next(f for f in manifest["files"] if f["name"] == artifacts.model_file(model.format))
    if entry["sha256"] != built.record["model_sha256"]:
        return {"compiled": {"status": "not built", "reason": "another attempt committed this version first"}}
    return {"compiled": engines.attach(model, store, manifest, built)}


def _gate_config(
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


def _holder(model: Model, store: Store, against: str, promote: str | None) -> tuple[Loaded, dict[str, Any]] | None:
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


def _check_measurable(model: Model, holder: Loaded, frame: pd.DataFrame, against: str) -> None:
    """BadArgument before fitting if the holder needs feature columns this training data does not hold."""
    missing = [name for name in holder.schema.columns if name not in frame.columns]
    if missing:
        msg = (
            f"--against={against}: version {holder.manifest['version']} uses the features {missing} that this "
            f"train does not read ({model.name}'s features changed since): it cannot be measured on the same rows; "
            "compare them on a labelled table with evaluate, and promote by hand"
        )
        raise BadArgument(msg)


def _check_unseen_by_holder(
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


def _judge(
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


def _promotion(
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


def _split(
    method: str,
    frame: pd.DataFrame,
    column: str | None,
    valid_fraction: float,
    seed: int,
    stop_fraction: float,
    valid_from: dt.date | None,
    valid_data: Any,
    fit_rows: int,
) -> Any:
    """The rows to fit on, to stop on and to hold out, by the chosen method (see shared.training.split)."""
    if valid_data is not None:
        source = inputs.describe_source(valid_data)
        return splitting.file_split(fit_rows, len(frame) - fit_rows, seed, stop_fraction, source)
    if method in ("time", "group") and column not in frame.columns:
        msg = f"training data lacks the --split={method} column {column!r}"
        raise BadData(msg)
    if method == "time":
        return splitting.time_split(frame[column], valid_fraction, valid_from, stop_fraction, str(column))
    if method == "group":
        return splitting.group_split(frame[column], valid_fraction, seed, stop_fraction, str(column))
    return splitting.random_split(len(frame), valid_fraction, seed, stop_fraction)


def _refuse_shared_rows(data: Any, valid_data: Any) -> None:
    """BadArgument if --valid_data is, holds or shares a file with --data: its rows would be fit rows too, and the
    metrics measured on them would be no measure at all."""
    if not isinstance(valid_data, (str, os.PathLike)) or data is None or not isinstance(data, (str, os.PathLike)):
        return
    from shared.tables.stream import Input

    overlap.refuse(os.fspath(valid_data), data, "--valid_data")
    overlap.refuse(os.fspath(data), valid_data, "--data")
    mine = {os.path.realpath(url) if "://" not in url else url for url, _ in Input.open(os.fspath(data)).urls()}
    for url, shown_as in Input.open(os.fspath(valid_data)).urls():
        if (os.path.realpath(url) if "://" not in url else url) in mine:
            msg = f"--valid_data: {shown_as} is also a file of --data; the held-out rows must be rows train never fits"
            raise BadArgument(msg)


def _result(model: Model, store: Store, manifest: dict[str, Any], already_committed: bool) -> dict[str, Any]:
    return {
        "model": model.name,
        "version": manifest["version"],
        "metrics": manifest.get("metrics", {}),
        "rows": manifest.get("rows", {}),
        "store": store.url,
        "split": manifest.get("split"),
        "as_of": manifest.get("as_of"),
        "already_committed": already_committed,
        **({"trained_on_sample": True} if manifest.get("trained_on_sample") else {}),
    }


def _check_csv_keeps_levels(model: Model, frame: pd.DataFrame, output: str) -> None:
    """BadArgument before training if a CSV output would read a categorical level back as missing."""
    from shared.tables.data import table_format
    from shared.tables.schema import as_levels
    from shared.tables.stream import NULL_TEXT

    if table_format(output) != "csv":
        return
    for name in [c for c in model.categorical if c in frame.columns]:
        clash = sorted(set(as_levels(frame[name]).dropna()) & set(NULL_TEXT))
        if clash:
            msg = (
                f"--holdout_output={output!r}: a CSV reads the level {clash[0]!r} of {name!r} back as a missing "
                f"value, so the held-out rows would not measure the same; write Parquet (.parquet) instead"
            )
            raise BadArgument(msg)
