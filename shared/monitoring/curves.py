"""The numbers a report plots, computed from labels and predictions: every point of every chart, bounded in size
whatever the row count (curves keep at most POINTS points, histograms fixed bins), so a report of a million
held-out rows stays small.

- a classifier: ROC, precision-recall, calibration (predicted against observed per tenth of the predictions),
  cumulative gains and lift per tenth of the rows, and the confusion table at a threshold;
- a regressor: predicted against actual (a 2-D histogram), residuals (a histogram), and the Lorenz curve of
  actual values ordered by prediction, behind the Gini;
- clustering: each segment's size and its mean of each numeric feature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

POINTS = 200
GRID = 30  # cells per side of the predicted-against-actual histogram


def classifier(target: Any, predicted: Any, threshold: float = 0.5) -> dict[str, Any]:
    """The curves of a binary classifier's probabilities ``predicted`` against 0/1 ``target``."""
    import numpy as np

    y = np.asarray(target, dtype="float64")
    p = np.asarray(predicted, dtype="float64")
    order = np.argsort(-p, kind="stable")
    ys, ps = y[order], p[order]
    last = np.r_[np.flatnonzero(np.diff(ps) != 0), len(ps) - 1]  # the last row of each distinct prediction
    tps, fps = np.cumsum(ys)[last], np.cumsum(1 - ys)[last]
    positives, negatives = tps[-1], fps[-1]
    fpr = np.r_[0.0, fps / negatives] if negatives else np.r_[0.0, fps]
    tpr = np.r_[0.0, tps / positives] if positives else np.r_[0.0, tps]
    precision = np.r_[1.0, tps / (tps + fps)]
    recall = tpr
    keep = _thin(len(fpr))
    tenths = _tenths(len(ys))
    captured = np.cumsum(ys)[tenths - 1]
    share = tenths / len(ys)
    gains = captured / positives if positives else np.zeros(len(tenths))
    cut = p >= threshold
    bins = np.quantile(p, np.linspace(0, 1, 11))
    which = np.clip(np.searchsorted(bins[1:-1], p, side="right"), 0, 9)
    calibration = [
        {"predicted": _r(p[which == k].mean()), "observed": _r(y[which == k].mean()), "rows": int((which == k).sum())}
        for k in range(10)
        if (which == k).any()
    ]
    return {
        "roc": {"fpr": _list(fpr[keep]), "tpr": _list(tpr[keep]), "auc": _r(float(np.trapezoid(tpr, fpr)))},
        "precision_recall": {"recall": _list(recall[keep]), "precision": _list(precision[keep])},
        "calibration": calibration,
        "gains": {"share_of_rows": _list(share), "share_of_positives": _list(gains), "lift": _list(gains / share)},
        "confusion": {
            "threshold": threshold,
            "true_positive": int((cut & (y == 1)).sum()),
            "false_positive": int((cut & (y == 0)).sum()),
            "false_negative": int((~cut & (y == 1)).sum()),
            "true_negative": int((~cut & (y == 0)).sum()),
        },
        "rows": len(y),
    }


def regressor(target: Any, predicted: Any) -> dict[str, Any]:
    """The charts of a regressor's ``predicted`` values against the actual ``target``."""
    import numpy as np

    y = np.asarray(target, dtype="float64")
    p = np.asarray(predicted, dtype="float64")
    low, high = np.quantile(np.r_[y, p], [0.005, 0.995])
    high = high if high > low else low + 1.0
    edges = np.linspace(low, high, GRID + 1)
    grid, _, _ = np.histogram2d(np.clip(p, low, high), np.clip(y, low, high), bins=[edges, edges])
    residual = p - y
    r_low, r_high = np.quantile(residual, [0.005, 0.995])
    r_high = r_high if r_high > r_low else r_low + 1.0
    r_counts, r_edges = np.histogram(np.clip(residual, r_low, r_high), bins=40, range=(r_low, r_high))
    return {
        "predicted_vs_actual": {"edges": _list(edges), "counts": grid.astype(int).T.tolist()},  # rows: actual
        "residuals": {
            "edges": _list(r_edges),
            "counts": r_counts.tolist(),
            "mean": _r(residual.mean()),
            "outside": int(((residual < r_low) | (residual > r_high)).sum()),  # counted in the end bins
        },
        "lorenz": lorenz(y, p),
        "rows": len(y),
    }


def lorenz(target: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """The share of the actual total in the rows ranked highest by prediction, against the share of rows, for
    the model and for a perfect ranking; the normalized Gini is the ratio of their areas above the diagonal."""
    import numpy as np

    def curve(by: np.ndarray) -> np.ndarray:
        ranked = target[np.lexsort((np.arange(len(by)), -by))]  # ties in row order, as the metric takes them
        total = ranked.sum()
        return np.r_[0.0, np.cumsum(ranked) / total] if total else np.r_[0.0, np.zeros(len(ranked))]

    model, best = curve(predicted), curve(target)
    rows = np.r_[0.0, np.arange(1, len(target) + 1) / len(target)]
    if target.sum() == 0:  # as the metric: nothing to gather, Gini 0; every value alike, no ordering (null)
        gini: float | None = 0.0
    elif np.ptp(target) == 0:
        gini = None
    else:
        gini = _area(rows, model) / _area(rows, best)
    keep = _thin(len(rows))
    return {
        "share_of_rows": _list(rows[keep]),
        "model": _list(model[keep]),
        "perfect": _list(best[keep]),
        "normalized_gini": None if gini is None else _r(gini),
    }


def clustering(segments: Any, features: pd.DataFrame) -> dict[str, Any]:
    """Each segment's row count and its mean of each numeric feature (in the features' order)."""
    import numpy as np

    ids = np.asarray(segments, dtype="int64")
    numeric = [name for name in features.columns if features[name].dtype.kind in "biuf"]
    found = sorted({int(v) for v in ids})
    means = {
        name: [_r(float(np.nanmean(features[name].to_numpy(dtype="float64")[ids == s]))) for s in found]
        for name in numeric
    }
    return {"segments": found, "rows": [int((ids == s).sum()) for s in found], "means": means}


def _area(x: np.ndarray, y: np.ndarray) -> float:
    import numpy as np

    return float(np.trapezoid(y - x, x))


def _thin(length: int) -> np.ndarray:
    """At most POINTS indexes of a curve of ``length`` points, evenly spread, both ends kept."""
    import numpy as np

    return np.unique(np.linspace(0, length - 1, min(length, POINTS)).round().astype(int))


def _tenths(rows: int) -> np.ndarray:
    import numpy as np

    return np.unique(np.maximum(1, (np.arange(1, 11) * rows / 10).round().astype(int)))


def _list(values: Any) -> list[float]:
    return [_r(v) for v in values]


def _r(value: Any) -> float:
    """A plotted number: 6 significant digits are more than a chart shows."""
    return float(f"{float(value):.6g}")
