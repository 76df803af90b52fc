"""Metrics a model can declare. Each takes (reference, prediction) and returns a number or a dict.

Supervised metrics take (true labels, predictions); clustering metrics take (the model's feature space,
assigned segments). scikit-learn does the arithmetic; it is imported only when a metric runs.
"""

from __future__ import annotations

from typing import Any


def auc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve: 0.5 is chance, 1.0 ranks every leaver above every stayer."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y_true, y_score))


def log_loss(y_true: Any, y_score: Any) -> float:
    """Binary cross-entropy of the predicted probabilities; lower is better."""
    from sklearn.metrics import log_loss as sk_log_loss

    return float(sk_log_loss(y_true, y_score, labels=[0, 1]))


def precision_at_top_decile(y_true: Any, y_score: Any) -> float:
    """Share of true positives among the 10% of rows with the highest scores."""
    import numpy as np

    y_true = np.asarray(y_true)
    top = max(1, len(y_true) // 10)
    order = np.argsort(-np.asarray(y_score), kind="stable")[:top]
    return float(y_true[order].mean())


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error, in the label's unit."""
    from sklearn.metrics import root_mean_squared_error

    return float(root_mean_squared_error(y_true, y_pred))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error, in the label's unit."""
    from sklearn.metrics import mean_absolute_error

    return float(mean_absolute_error(y_true, y_pred))


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
    return gini(actual, pred) / gini(actual, actual)


def silhouette(space: Any, segments: Any) -> float:
    """Mean silhouette in the model's feature space (-1 to 1; higher means tighter, better separated segments)."""
    import numpy as np
    from sklearn.metrics import silhouette_score

    if len(np.unique(segments)) < 2:
        return float("nan")  # undefined for one segment: reported as null, and refused at training
    sample = min(len(segments), 2000)  # exact silhouette is quadratic; a fixed seeded sample is enough
    return float(silhouette_score(space, segments, sample_size=sample, random_state=0))


def segment_sizes(space: Any, segments: Any) -> dict[str, int]:
    """Rows assigned to each segment."""
    import numpy as np

    labels, counts = np.unique(np.asarray(segments), return_counts=True)
    return {str(label): int(count) for label, count in zip(labels, counts, strict=True)}
