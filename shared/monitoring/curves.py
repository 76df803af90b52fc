"""The numbers a report plots, computed from labels and predictions: every point of every chart, bounded in size
whatever the row count (curves keep at most POINTS points, histograms fixed bins), so a report of a million
held-out rows stays small.

- a classifier: ROC, precision-recall, calibration (predicted against observed per tenth of the predictions),
  cumulative gains and lift per tenth of the rows, and the confusion table at a threshold;
- a multiclass classifier: the confusion table of actual against predicted class (the most probable one, the
  class declared first on a tie), each class's ROC against the rest with its area, and each class's counts,
  precision, recall and F1; its size grows with the declared classes, never with the rows;
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
    ys, fpr, tpr, precision = _ranked(y, p)
    positives = ys.sum()
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


def multiclass(target: Any, probabilities: Any, classes: Any) -> dict[str, Any]:
    """The charts of a multiclass classifier's ``probabilities`` (rows x classes, in the declared order)
    against the class codes ``target`` (each row's position in ``classes``): ``confusion`` (rows: actual
    class, columns: predicted class), each class's one-vs-rest ``roc`` (its ``auc`` the one ``auc_ovr``
    averages; null for a class that no row, or every row, holds) and ``per_class`` counts with precision,
    recall and F1 (0 where nothing divides, as ``macro_f1`` takes them)."""
    import numpy as np

    names = [str(c) for c in classes]
    count = len(names)
    y = np.asarray(target, dtype="int64")
    p = np.asarray(probabilities, dtype="float64").reshape(len(y), count)
    chosen = np.argmax(p, axis=1) if len(y) else np.zeros(0, dtype="int64")  # a tie: the first class declared
    table = np.bincount(y * count + chosen, minlength=count * count).reshape(count, count)
    roc, per_class = [], []
    for k, name in enumerate(names):
        _, fpr, tpr, _ = _ranked((y == k).astype("float64"), p[:, k])
        keep = _thin(len(fpr))
        actual, predicted, correct = int(table[k].sum()), int(table[:, k].sum()), int(table[k, k])
        measured = 0 < actual < len(y)
        area = _r(float(np.trapezoid(tpr, fpr))) if measured else None
        roc.append({"class": name, "fpr": _list(fpr[keep]), "tpr": _list(tpr[keep]), "auc": area})
        precision = correct / predicted if predicted else 0.0
        recall = correct / actual if actual else 0.0
        f1 = 2 * correct / (actual + predicted) if actual + predicted else 0.0
        per_class.append(
            {
                "class": name,
                "actual": actual,
                "predicted": predicted,
                "correct": correct,
                "precision": _r(precision),
                "recall": _r(recall),
                "f1": _r(f1),
            }
        )
    return {"classes": names, "confusion": table.tolist(), "roc": roc, "per_class": per_class, "rows": len(y)}


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


def _ranked(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, ...]:
    """0/1 ``y`` ordered by descending ``p`` (ties in row order), and the ROC's false and true positive rates
    and the precision at each distinct prediction, from the top (a first point at 0, 0 and precision 1)."""
    import numpy as np

    order = np.argsort(-p, kind="stable")
    ys, ps = y[order], p[order]
    if not len(ps):  # no row: the curve's first point alone
        return ys, np.zeros(1), np.zeros(1), np.ones(1)
    last = np.r_[np.flatnonzero(np.diff(ps) != 0), len(ps) - 1]  # the last row of each distinct prediction
    tps, fps = np.cumsum(ys)[last], np.cumsum(1 - ys)[last]
    positives, negatives = tps[-1], fps[-1]
    fpr = np.r_[0.0, fps / negatives] if negatives else np.r_[0.0, fps]
    tpr = np.r_[0.0, tps / positives] if positives else np.r_[0.0, tps]
    return ys, fpr, tpr, np.r_[1.0, tps / (tps + fps)]


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
