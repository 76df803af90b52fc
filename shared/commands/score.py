"""``score``: predict with a stored version, batch by batch, and write the predictions (or return a frame).

The command is its parameters and their help; the run is :mod:`shared.pipelines.score`: one plan, which
``--dry_run`` reports and the real run executes.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal

from shared.contract import params
from shared.contract.params import Bounds, Check, TablePath
from shared.storage import versions
from shared.tables import shards as sharding

if TYPE_CHECKING:
    from shared.families.model import Model


def score(
    model: Model,
    data: TablePath | None = None,
    *,
    version: Annotated[str, params.Shown("version id, alias or 'latest'"), Check(versions.check_version)] = "latest",
    as_of: dt.date | None = None,
    output: params.TableOutput | None = None,
    max_unseen: Annotated[float, Bounds(ge=0, le=1)] = 0.05,
    shard: Annotated[str, params.Shown("K/N"), Check(sharding.check)] | None = None,
    shards: Annotated[int, Bounds(ge=1, le=sharding.MAX_SHARDS)] | None = None,
    batch_rows: Annotated[int, Bounds(ge=1, le=100_000_000)] = 100_000,
    keep: Annotated[list[str], params.Shown("columns")] | None = None,
    on_drift: Literal["warn", "fail", "off"] = "warn",
    max_missing_rise: Annotated[float, Bounds(ge=0, le=1)] = 0.3,
    max_out_of_range: Annotated[float, Bounds(ge=0, le=1)] = 0.3,
    engine: Literal["auto", "lightgbm", "compiled"] = "auto",
) -> dict[str, Any]:
    """Score DATA with a stored model version and write the predictions, batch by batch.

    Args:
        data: Table to score: a Parquet or CSV file, or a folder or glob of them. A label column (a daily
            snapshot's, null for recent rows) is ignored like any column the model does not use, and listed
            in the result's ignored_columns. Default: a fresh draw of the embedded sample.
        version: Model version to use: a version id, an alias (champion) or ALIAS@N (one event of it);
            'latest' is the newest committed one.
        as_of: Date the scored data describes (e.g. Airflow's ds), added to each prediction.
        output: Where to write the predictions. Default: predictions/<version>.parquet in the store.
            With a shard: a folder, which gets part-K-of-N.parquet.
        max_unseen: Largest share of rows with a category never seen in training; above it, exit 65.
        shard: Score only shard K of N (K from 0): a contiguous slice by file, then row group.
            Default: from JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX, else everything.
        shards: Shard count, for a Kubernetes Indexed Job (JOB_COMPLETION_INDEX gives the index).
        batch_rows: Rows read, scored and written at a time; memory grows with it.
        keep: Input columns to carry into each prediction row unchanged, e.g. a date or a partition key
            (comma-separated); the label too, for a backtest. A CSV's kept columns stay text (NA, null: missing).
        on_drift: When the input no longer looks like the training rows (a 1% false-alarm rate at any row
            count): warn (in the result and the log, exit 0), fail (exit 101, predictions written), or off
            (no counts, no verdict, no limits).
        max_missing_rise: Largest rise of a feature's missing share over its training share; above it, exit 65
            and nothing is written.
        max_out_of_range: Largest share of a feature's values outside its training min and max; above it,
            exit 65 and nothing is written.
        engine: What predicts a boosted-trees model: compiled (the version's C library for this platform,
            bit-identical to LightGBM, several times faster; exit 66 if it has none, 3 if it fails a check),
            lightgbm, or auto: the library when it passes every check, else LightGBM (the log says why).
    """
    from shared.pipelines import score as pipeline

    flags = pipeline.Flags(
        version, as_of, output, max_unseen, shard, shards, batch_rows, tuple(keep or ()), on_drift,
        max_missing_rise, max_out_of_range, engine,
    )  # fmt: skip
    chosen = pipeline.plan(model, data, flags)
    return chosen.report() if model._dry_run else pipeline.run(chosen)
