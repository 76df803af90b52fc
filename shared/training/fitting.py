"""How ``train`` fits and measures: hold rows out, learn the schema and fit on the rest, measure on the held-out
rows, and refuse a model that learned nothing before anything is committed."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any, NamedTuple

from shared.contract import labels
from shared.errors import BadData
from shared.monitoring import profile

if TYPE_CHECKING:
    import pandas as pd

    from shared.families.model import Model
    from shared.tables.schema import Schema
    from shared.training.split import Split

log = logging.getLogger(__name__)

WATCH_ROWS = 10_000  # held-out rows that training progress lines measure the metric on
MIN_FIT_ROWS, MIN_HELD_OUT_ROWS = 20, 10  # fewer rows can teach or measure nothing worth committing


class Trained(NamedTuple):
    """What fitting on a split gives: the schema, the split, the fitted model, its held-out metrics, and the
    held-out rows' prepared features, labels and predictions (what a gate measures the holder against)."""

    schema: Schema
    split: Split
    fitted: Any
    metrics: dict[str, Any]
    held_out: tuple[pd.DataFrame, Any, Any] | None = None
    profile: dict[str, Any] | None = None  # the fit rows and held-out predictions as counts (shared.monitoring.profile)


def fit_held_out(
    model: Model,
    frame: pd.DataFrame,
    cfg: Any,
    valid_fraction: float = 0.2,
    split_seed: int = 0,
    stop_fraction: float = 0.0,
    split: Split | None = None,
    max_unseen: float = 1.0,
) -> Trained:
    """Hold rows out, learn the schema and fit on the fit rows only, and measure on the held-out rows.

    Categorical levels come from the fit rows alone, so a held-out level they lack counts as unseen, as
    it will at scoring time. With early stopping (``cfg.early_stopping_rounds``), ``stop_fraction`` of the rows
    are set apart to stop on: neither fit on nor measured on, so the metrics stay honest. ``split``: rows the
    caller chose (another split kind, see :mod:`shared.training.split`); else a random one. More than ``max_unseen`` of
    the held-out rows with such a level is BadData: those rows would be refused at scoring and at ``evaluate``.
    """
    from shared.tables.schema import Schema, judge_unseen
    from shared.training.split import random_split

    stops = bool(getattr(cfg, "early_stopping_rounds", 0))
    if split is None:
        split = random_split(len(frame), valid_fraction, split_seed, stop_fraction if stops else 0.0)
    schema = Schema.learn(frame.iloc[split.fit], model.numeric, model.categorical)
    features, target = schema.features(frame, "training data"), labels.target(model, frame, "training data")
    if len(split.fit) < MIN_FIT_ROWS or len(split.valid) < MIN_HELD_OUT_ROWS:
        msg = (
            f"training data has {len(frame)} rows: {len(split.fit)} to fit and {len(split.valid)} held out "
            f"(--split={split.method}, --valid_fraction={valid_fraction:g}); need at least {MIN_FIT_ROWS} to fit and "
            f"{MIN_HELD_OUT_ROWS} held out to measure"
        )
        raise BadData(msg)
    fix = (
        "score and evaluate would refuse such rows too: train on more rows, hold out rows that share the fit "
        "rows' levels (another --split), or raise --max_unseen to measure them as missing"
    )
    judge_unseen(schema.report(frame.iloc[split.valid]), len(split.valid), max_unseen, "the held-out rows", fix)
    held_out, held_target = features.iloc[split.valid], None if target is None else target.iloc[split.valid]
    fit_target = None if target is None else target.iloc[split.fit]
    model._check_learnable(fit_target, held_target)
    log.info("training %s on %d rows (%d held out)", model.name, len(split.fit), len(split.valid))
    watched = _watched(len(split.valid), split_seed)
    watch = (held_out.iloc[watched], None if held_target is None else held_target.iloc[watched])
    stop = (features.iloc[split.stop], None if target is None else target.iloc[split.stop]) if stops else None
    fitted = model._fit(features.iloc[split.fit], fit_target, cfg, watch, stop)
    predicted = model._predict(fitted, held_out)
    metrics = measure(model, fitted, held_out, held_target, predicted)
    check_useful(model, metrics, predicted)
    segments, counted = model._drift_segments(fitted), model._drift_values(predicted)
    names = [str(c) for c in model.classes] or None  # a classifier's predicted class, by name
    reference = profile.capture(schema, features.iloc[split.fit], counted, segments=segments, names=names)
    return Trained(schema, split, fitted, metrics, (held_out, held_target, predicted), reference)


def measure(model: Model, fitted: Any, features: pd.DataFrame, target: Any, predicted: Any = None) -> dict[str, Any]:
    """Each of the model's metrics on ``features`` (and ``target``), by name, in declaration order."""
    predicted = model._predict(fitted, features) if predicted is None else predicted
    reference, prediction = model._metric_inputs(fitted, features, target, predicted)
    return {metric.__name__: metric(reference, prediction) for metric in model.metrics}


def check_useful(model: Model, metrics: dict[str, Any], predicted: Any) -> None:
    """BadData before anything is committed if the fitted model is useless: one prediction (one segment) for
    every held-out row, or a metric that is not a finite number."""
    import numpy as np

    given = np.asarray(predicted, dtype="float64")
    if not np.ptp(given.reshape(len(given), -1), axis=0).any():  # each column (a class's probability) the same
        learned = (
            "it learned nothing from these rows (too few rows, or hyperparameters that allow no split)"
            if model.label is not None
            else "the rows have too few distinct values to segment"
        )
        what = "segment" if model.label is None else "prediction"
        first = ", ".join(f"{v:g}" for v in given[0].ravel()[:5])
        msg = f"the model gives one {what} ({first}) for every held-out row: {learned}"
        msg += "; nothing was committed"
        raise BadData(msg)
    for name, value in metrics.items():
        values = value.values() if isinstance(value, dict) else [value]
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
            msg = f"the metric {name} on the held-out rows is {value!r}, not a finite number; nothing was committed"
            raise BadData(msg)


def _watched(rows: int, seed: int) -> Any:
    """A random sample of at most WATCH_ROWS held-out positions, in order: what progress lines measure on."""
    import numpy as np

    return np.sort(np.random.default_rng(seed).permutation(rows)[:WATCH_ROWS])
