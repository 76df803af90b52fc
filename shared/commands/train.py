"""``train``: fit on the input, measure on held-out rows, and commit a new version to the store."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
from typing import TYPE_CHECKING, Annotated, Any, Literal

from shared import derived, dryrun, fitting, inputs, overlap, params, versions
from shared import split as splitting
from shared.errors import BadArgument, BadData, NothingToDo
from shared.params import Bounds, Check, TablePath

if TYPE_CHECKING:
    import pandas as pd

    from shared.model import Model
    from shared.store import Store

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
    """
    from shared import artifacts, formats
    from shared.data import check_output, write_table
    from shared.store import Artifact, Store, check_version_id, new_version_id

    cfg = model.Params(**hyperparameters)
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
    committed = run_id is not None and store.exists(model.name, version)
    if run_id is not None and not committed and run_id in store.alias_names(model.name):
        msg = f"--run_id={run_id} is an alias of {model.name}; a version by that name would be mistaken for it"
        raise BadArgument(msg)
    needed = derived.inputs_of(model, [*model.numeric, *model.categorical, *([model.label] if model.label else [])])
    kinds = {**dict.fromkeys(model.numeric, "numeric"), **dict.fromkeys(model.categorical, "categorical")}
    kinds = {name: kind for name, kind in kinds.items() if name in derived.raw(model, kinds)}
    wanted = [*needed, *([column] if split != "random" and column and column not in needed else [])]
    if model._dry_run:
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
        )
    if committed:
        log.info("%s version %s is already committed; nothing to do", model.name, version)
        if holdout_output is not None:
            log.warning("--holdout_output not written: the version was committed by an earlier run")
        return _result(model, store, store.resolve(model.name, version), already_committed=True)

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
    trained = fitting.fit_held_out(
        model, frame, cfg, valid_fraction, split_seed, stop_fraction, split=chosen, max_unseen=max_unseen
    )
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
            **inputs.identity(data, frame),
        },
        "libraries": artifacts.libraries(model.format),
        **({"trained_on_sample": True} if data is None else {}),
    }
    if data is None:
        log.warning("%s trained on its embedded sample: a demonstration version, not for real rows", model.name)
    artifact = Artifact(artifacts.model_file(model.format), formats.dump(trained.fitted, model.format), model.format)
    manifest = store.commit(model.name, version, [artifact], record)
    result = _result(model, store, manifest, already_committed=manifest.get("already_committed", False))
    return result | ({"holdout_output": holdout_output} if holdout_output is not None else {})


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
    """The rows to fit on, to stop on and to hold out, by the chosen method (see shared.split)."""
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
    from shared.stream import Input

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
    from shared.data import table_format
    from shared.schema import as_levels
    from shared.stream import NULL_TEXT

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
