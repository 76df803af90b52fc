"""Metrics a model can declare. Each takes (reference, prediction) and returns a number or a dict.

Supervised metrics take (true labels, predictions); clustering metrics take (the model's feature space,
assigned segments). scikit-learn does the arithmetic; it is imported only when a metric runs.

A metric that a gate or a comparison may judge by says which way is better (``better = "higher"`` or
``"lower"``). It may also say how to measure it on a bootstrap resample cheaply: ``weighted(reference,
prediction)`` does the costly work once (a sort) and returns a function of the rows' resample counts that equals
the metric on the rows repeated that many times. A metric of your own without it is measured on each resample
by repeating the rows (slower, the same numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Weighted = Callable[[Any], float]  # resample counts per row -> the metric on the rows repeated that often


def _declare(better: str, weighted: Callable[[Any, Any], Weighted] | None = None) -> Callable:
    def mark(metric: Callable) -> Callable:
        metric.better = better  # type: ignore[attr-defined]
        if weighted is not None:
            metric.weighted = weighted  # type: ignore[attr-defined]
        return metric

    return mark


def weighted(metric: Callable, reference: Any, prediction: Any) -> Weighted:
    """``metric`` on (reference, prediction) as a function of resample counts (see the module's docstring)."""
    import numpy as np

    if hasattr(metric, "weighted"):
        return metric.weighted(reference, prediction)
    reference, prediction, rows = np.asarray(reference), np.asarray(prediction), np.arange(len(prediction))

    def repeated(counts: Any) -> float:
        taken = np.repeat(rows, np.asarray(counts, dtype="int64"))
        return metric(reference[taken], prediction[taken])

    return repeated


def _auc_weighted(y_true: Any, y_score: Any) -> Weighted:
    import numpy as np

    order = np.argsort(np.asarray(y_score), kind="stable")
    score, positives = np.asarray(y_score)[order], (np.asarray(y_true)[order] == 1).astype("float64")
    new_group = np.r_[True, score[1:] != score[:-1]]  # tied scores form one group: ties count half
    ties = not new_group.all()
    starts = np.flatnonzero(new_group)
    sizes = np.diff(np.r_[starts, len(score)])
    first, last = np.repeat(starts, sizes), np.repeat(starts + sizes - 1, sizes)  # each row's group, in sorted order
    # Buffers reused by every resample: a fresh array per step costs more in page faults than the arithmetic.
    pos, neg, below, before, tied = (np.empty(len(score)) for _ in range(5))

    def at(counts: Any) -> float:
        np.take(np.asarray(counts, dtype="float64"), order, out=pos)
        np.subtract(pos, np.multiply(pos, positives, out=neg), out=neg)  # counts of negatives
        np.subtract(pos, neg, out=pos)  # counts of positives
        total_pos, total_neg = pos.sum(), neg.sum()
        if not total_pos or not total_neg:
            return float("nan")  # a resample of one class: no ranking to measure
        np.cumsum(neg, out=below)
        if not ties:  # each score is one row, positive or not: the negatives at or below it are all below it
            return float(pos @ below / (total_pos * total_neg))
        np.subtract(np.take(below, first, out=before), np.take(neg, first, out=tied), out=before)  # below the group
        np.subtract(np.take(below, last, out=tied), before, out=tied)  # the group's own negatives
        np.add(before, np.multiply(tied, 0.5, out=tied), out=before)  # ties count half
        return float(pos @ before / (total_pos * total_neg))

    return at


def _mean_weighted(per_row: Callable[[Any, Any], Any], finish: Callable[[float], float] = float) -> Callable:
    def prepare(y_true: Any, y_pred: Any) -> Weighted:
        import numpy as np

        values = per_row(np.asarray(y_true, dtype="float64"), np.asarray(y_pred, dtype="float64"))

        def at(counts: Any) -> float:
            counts = np.asarray(counts, dtype="float64")
            return finish(float(counts @ values / counts.sum()))

        return at

    return prepare


def _log_losses(y_true: Any, y_score: Any) -> Any:
    import numpy as np

    eps = np.finfo(y_score.dtype).eps  # as scikit-learn clips: every log is finite, so 0 * log(p) is 0
    p = np.clip(y_score, eps, 1 - eps)
    return -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))


def _top_decile_weighted(y_true: Any, y_score: Any) -> Weighted:
    import numpy as np

    order = np.argsort(-np.asarray(y_score), kind="stable")
    hits = np.asarray(y_true, dtype="float64")[order]

    def at(counts: Any) -> float:
        counts = np.asarray(counts, dtype="float64")[order]
        top = max(1, int(counts.sum()) // 10)
        taken = np.clip(top - (np.cumsum(counts) - counts), 0, counts)  # the first `top` repeated rows
        return float(taken @ hits / top)

    return at


def _gini_weighted(y_true: Any, y_pred: Any) -> Weighted:
    import numpy as np

    actual, pred = np.asarray(y_true, dtype="float64"), np.asarray(y_pred, dtype="float64")
    by_pred = np.lexsort((np.arange(len(pred)), -pred))
    by_actual = np.lexsort((np.arange(len(actual)), -actual))

    def gini(order: Any, counts: Any) -> float:
        # A row repeated c times after cumulative mass m adds c*m + a*c*(c+1)/2 to the sum of cumulative masses.
        c, a = counts[order], actual[order]
        mass = c * a
        before = np.cumsum(mass) - mass
        rows = c.sum()
        return float((c * before + a * c * (c + 1) / 2).sum() / mass.sum() / rows - (rows + 1) / (2 * rows))

    def at(counts: Any) -> float:
        counts = np.asarray(counts, dtype="float64")
        if counts @ actual == 0:
            return 0.0
        if np.ptp(actual[counts > 0]) == 0:
            return float("nan")
        return gini(by_pred, counts) / gini(by_actual, counts)

    return at


def _multi_log_losses(y_true: Any, y_proba: Any) -> Any:
    import numpy as np

    eps = np.finfo(y_proba.dtype).eps  # as scikit-learn clips
    true = np.take_along_axis(y_proba, np.asarray(y_true, dtype="int64")[:, None], axis=1)[:, 0]
    return -np.log(np.clip(true, eps, 1 - eps))


def _hits(y_true: Any, y_proba: Any) -> Any:
    return (y_proba.argmax(axis=1) == y_true).astype("float64")  # argmax: ties go to the first class


def _macro_f1_weighted(y_true: Any, y_proba: Any) -> Weighted:
    import numpy as np

    proba = np.asarray(y_proba)
    classes = np.arange(proba.shape[1])
    actual = (np.asarray(y_true)[:, None] == classes).astype("float64")
    predicted = (proba.argmax(axis=1)[:, None] == classes).astype("float64")
    tallies = np.hstack([actual * predicted, actual, predicted])  # one product per resample gives all three
    k = len(classes)

    def at(counts: Any) -> float:
        both, true, pred = np.split(np.asarray(counts, dtype="float64") @ tallies, [k, 2 * k])
        seen = true > 0  # the classes the rows hold: a class only predicted adds no term, whatever version predicts
        if not seen.any():
            return float("nan")
        return float(np.mean(2 * both[seen] / (true[seen] + pred[seen])))  # F1 = 2tp / (2tp + fp + fn)

    return at


def _auc_ovr_weighted(y_true: Any, y_proba: Any) -> Weighted:
    import numpy as np

    y, proba = np.asarray(y_true), np.asarray(y_proba)
    per_class = [_auc_weighted((y == k).astype("int64"), proba[:, k]) for k in range(proba.shape[1])]

    def at(counts: Any) -> float:
        aucs = [value for value in (measure(counts) for measure in per_class) if not np.isnan(value)]
        return float(np.mean(aucs)) if aucs else float("nan")  # a class all or none of the resample: left out

    return at


def _silhouette_weighted(space: Any, segments: Any) -> Weighted:
    """Each sampled row's own silhouette, weighted: the standard bootstrap of a mean silhouette (a row's
    silhouette is not recomputed among the resampled rows, which would cost a quadratic pass per resample)."""
    import numpy as np
    from sklearn.metrics import silhouette_samples
    from sklearn.utils import check_random_state

    segments = np.asarray(segments)
    if len(np.unique(segments)) < 2:
        return lambda counts: float("nan")
    sample = check_random_state(0).permutation(len(segments))[: min(len(segments), 2000)]  # as silhouette()
    values = silhouette_samples(np.asarray(space)[sample], segments[sample])

    def at(counts: Any) -> float:
        counts = np.asarray(counts, dtype="float64")[sample]
        return float(counts @ values / counts.sum()) if counts.sum() else float("nan")

    return at


@_declare("higher", _auc_weighted)
def auc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve: 0.5 is chance, 1.0 ranks every leaver above every stayer."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    if len(np.unique(np.asarray(y_true))) < 2:
        return float("nan")  # one class: no ranking to measure (reported as null; refused at training)
    return float(roc_auc_score(y_true, y_score))


@_declare("lower", _mean_weighted(_log_losses))
def log_loss(y_true: Any, y_score: Any) -> float:
    """Binary cross-entropy of the predicted probabilities; lower is better."""
    from sklearn.metrics import log_loss as sk_log_loss

    return float(sk_log_loss(y_true, y_score, labels=[0, 1]))


@_declare("higher", _top_decile_weighted)
def precision_at_top_decile(y_true: Any, y_score: Any) -> float:
    """Share of true positives among the 10% of rows with the highest scores."""
    import numpy as np

    y_true = np.asarray(y_true)
    top = max(1, len(y_true) // 10)
    order = np.argsort(-np.asarray(y_score), kind="stable")[:top]
    return float(y_true[order].mean())


@_declare("lower", _mean_weighted(lambda y, p: (y - p) ** 2, lambda mean: mean**0.5))
def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error, in the label's unit."""
    from sklearn.metrics import root_mean_squared_error

    return float(root_mean_squared_error(y_true, y_pred))


@_declare("lower", _mean_weighted(lambda y, p: abs(y - p)))
def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error, in the label's unit."""
    from sklearn.metrics import mean_absolute_error

    return float(mean_absolute_error(y_true, y_pred))


@_declare("higher", _gini_weighted)
def normalized_gini(y_true: Any, y_pred: Any) -> float:
    """Gini of the predictions divided by the Gini of a perfect ordering: 1.0 orders values perfectly."""
    import numpy as np

    def gini(actual: np.ndarray, pred: np.ndarray) -> float:
        order = np.lexsort((np.arange(len(pred)), -pred))
        cumulative = np.cumsum(actual[order]) / actual.sum()
        return float(cumulative.sum() / len(actual) - (len(actual) + 1) / (2 * len(actual)))

    actual, pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if actual.sum() == 0:
        return 0.0
    if np.ptp(actual) == 0:
        return float("nan")  # every value the same: no ordering to be measured against (refused at training)
    return gini(actual, pred) / gini(actual, actual)


@_declare("lower", _mean_weighted(_multi_log_losses))
def multi_log_loss(y_true: Any, y_proba: Any) -> float:
    """Multiclass cross-entropy: mean of -log(probability given to the true class); lower is better."""
    import numpy as np
    from sklearn.metrics import log_loss as sk_log_loss

    return float(sk_log_loss(y_true, y_proba, labels=list(range(np.shape(y_proba)[1]))))


@_declare("higher", _mean_weighted(_hits))
def accuracy(y_true: Any, y_proba: Any) -> float:
    """Share of rows whose most probable class is the true one (a tie goes to the first class)."""
    import numpy as np
    from sklearn.metrics import accuracy_score

    return float(accuracy_score(y_true, np.asarray(y_proba).argmax(axis=1)))


@_declare("higher", _macro_f1_weighted)
def macro_f1(y_true: Any, y_proba: Any) -> float:
    """F1 of the most probable class, averaged over the classes the rows hold (each counts the same, however rare)."""
    import numpy as np
    from sklearn.metrics import f1_score

    held = np.unique(np.asarray(y_true))  # the same classes for every version measured on these rows
    predicted = np.asarray(y_proba).argmax(axis=1)
    return float(f1_score(y_true, predicted, labels=held, average="macro", zero_division=0))


@_declare("higher", _auc_ovr_weighted)
def auc_ovr(y_true: Any, y_proba: Any) -> float:
    """ROC AUC of each class against the rest, averaged over the classes seen: 0.5 is chance, 1.0 is perfect."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    y, proba = np.asarray(y_true), np.asarray(y_proba)
    present = np.unique(y)
    if len(present) < 2:
        return float("nan")  # one class: no ranking to measure (reported as null)
    return float(np.mean([roc_auc_score(y == k, proba[:, k]) for k in present]))


@_declare("higher", _silhouette_weighted)
def silhouette(space: Any, segments: Any) -> float:
    """Mean silhouette in the model's feature space (-1 to 1; higher means tighter, better separated segments)."""
    import numpy as np
    from sklearn.metrics import silhouette_score

    if not 2 <= len(np.unique(segments)) <= len(segments) - 1:
        return float("nan")  # undefined for one segment, or one per row: reported as null, refused at training
    sample = min(len(segments), 2000)  # exact silhouette is quadratic; a fixed seeded sample is enough
    return float(silhouette_score(space, segments, sample_size=sample, random_state=0))


def segment_sizes(space: Any, segments: Any) -> dict[str, int]:
    """Rows assigned to each segment."""
    import numpy as np

    labels, counts = np.unique(np.asarray(segments), return_counts=True)
    return {str(label): int(count) for label, count in zip(labels, counts, strict=True)}
