"""``train``: fit on the input, measure on held-out rows, and commit a new version to the store."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import TYPE_CHECKING, Annotated, Any

from shared import dryrun, fitting, inputs, overlap, params, versions
from shared.errors import BadArgument
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
    stop_fraction: Annotated[float, Bounds(ge=0, le=0.5)] = 0.1,
    holdout_output: params.TableOutput | None = None,
    **hyperparameters: Any,
) -> dict[str, Any]:
    """Train on DATA and commit a new model version to the store.

    Args:
        data: Table to train on. Default: the model's embedded sample.
        run_id: Version id to commit, e.g. the Airflow run id; retrying the same id changes nothing.
        as_of: Date the training data describes (e.g. Airflow's ds), recorded with the version.
        valid_fraction: Share of rows held out (at random) to measure the metrics.
        split_seed: Seed of the held-out rows' draw; the same data and seed hold out the same rows.
        stop_fraction: Share of rows set apart to stop boosting on (with --early_stopping_rounds), neither fit on
            nor measured on.
        holdout_output: Also write the held-out rows here, to measure the stored version on them.
    """
    from shared import artifacts, formats
    from shared.data import check_output, write_table
    from shared.store import Artifact, Store, check_version_id, new_version_id

    cfg = model.Params(**hyperparameters)
    if holdout_output is not None:
        check_output(holdout_output, "--holdout_output")
        overlap.refuse(holdout_output, data, "--holdout_output")
    store = Store(model._store_url)
    version = check_version_id(run_id) if run_id is not None else new_version_id()
    store.check_writable()
    committed = run_id is not None and store.exists(model.name, version)
    needed = [*model.numeric, *model.categorical, *([model.label] if model.label else [])]
    kinds = {**dict.fromkeys(model.numeric, "numeric"), **dict.fromkeys(model.categorical, "categorical")}
    if model._dry_run:
        return dryrun.plan(
            model,
            "train",
            store,
            data,
            needed,
            kinds=kinds,
            version=version,
            already_committed=committed,
            split={
                "method": "random",
                "seed": split_seed,
                "valid_fraction": valid_fraction,
                **({"stop_fraction": stop_fraction} if getattr(cfg, "early_stopping_rounds", 0) else {}),
            },
            holdout_output=holdout_output,
            params=dataclasses.asdict(cfg),
        )
    if committed:
        log.info("%s version %s is already committed; nothing to do", model.name, version)
        if holdout_output is not None:
            log.warning("--holdout_output not written: the version was committed by an earlier run")
        return _result(model, store, store.resolve(model.name, version), already_committed=True)

    frame = inputs.read_frame(
        model, data, inputs.TRAIN_SEED, needed, optional=[model.id_column] if model.id_column else [], kinds=kinds
    )
    if holdout_output is not None:
        _check_csv_keeps_levels(model, frame, holdout_output)
    trained = fitting.fit_held_out(model, frame, cfg, valid_fraction, split_seed, stop_fraction)
    if holdout_output is not None:
        kept = [c for c in frame.columns if c in {*needed, model.id_column}]
        write_table(frame.iloc[trained.split.valid][kept], holdout_output)
        log.info("wrote the %d held-out rows to %s", len(trained.split.valid), holdout_output)

    record = {
        "features": trained.schema.to_manifest(),
        "label": model.label,
        **({"positive_label": positive} if (positive := getattr(model, "positive_label", None)) is not None else {}),
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
    }
    artifact = Artifact(artifacts.model_file(model.format), formats.dump(trained.fitted, model.format), model.format)
    manifest = store.commit(model.name, version, [artifact], record)
    result = _result(model, store, manifest, already_committed=manifest.get("already_committed", False))
    return result | ({"holdout_output": holdout_output} if holdout_output is not None else {})


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
