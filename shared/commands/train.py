"""``train``: fit on the input, measure on held-out rows, and commit a new version to the store.

The command is its parameters and their help; the run is :mod:`shared.pipelines.train`: one plan, which
``--dry_run`` reports and the real run executes.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Annotated, Any, Literal

from shared.contract import params
from shared.contract.params import Bounds, Check, TablePath
from shared.storage import aliases, versions
from shared.training import gate as gating

if TYPE_CHECKING:
    from shared.families.model import Model

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
    from shared.pipelines import train as pipeline

    flags = pipeline.Flags(
        run_id, as_of, valid_fraction, split_seed, stop_fraction, split, split_column, valid_from, valid_data,
        holdout_output, max_unseen, promote, gate, against, tolerance, against_metric, confidence, resamples, compile,
    )  # fmt: skip
    chosen = pipeline.plan(model, data, flags, hyperparameters)
    return chosen.report() if model._dry_run else pipeline.run(chosen)
