"""The report's numbers over generated labels and predictions: bounded in size, covering every row, and equal
to the metrics they stand for."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from shared.contract import metrics
from shared.monitoring import curves

ROWS = st.integers(2, 3000)


@settings(max_examples=80, deadline=None)
@given(rows=ROWS, seed=st.integers(0, 2**32 - 1), ties=st.booleans())
def test_classifier_curves_cover_every_row_and_stay_small(rows, seed, ties):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, rows)
    p = rng.random(rows).round(1 if ties else 12)
    found = curves.classifier(y, p, threshold=0.5)
    assert len(found["roc"]["fpr"]) <= curves.POINTS
    assert found["roc"]["fpr"][0] == found["roc"]["tpr"][0] == 0.0
    assert (
        sum(found["confusion"][k] for k in ("true_positive", "false_positive", "false_negative", "true_negative"))
        == rows
    )
    assert sum(b["rows"] for b in found["calibration"]) == rows
    gains = found["gains"]["share_of_positives"]
    assert gains == sorted(gains)
    assert gains[-1] == (1.0 if y.sum() else 0.0)


@settings(max_examples=80, deadline=None)
@given(
    actual=hnp.arrays(np.float64, st.integers(2, 2000), elements=st.floats(0, 1e4)),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_lorenz_curves_gini_is_the_normalized_gini_metric(actual, seed):
    predicted = actual + np.random.default_rng(seed).normal(0, actual.std() + 1, len(actual))
    found = curves.lorenz(actual, predicted)
    expected = metrics.normalized_gini(actual, predicted)
    if found["normalized_gini"] is None:
        assert not np.isfinite(expected) or actual.sum() == 0
    else:
        assert abs(found["normalized_gini"] - expected) < 1e-5
    assert len(found["model"]) <= curves.POINTS


def test_a_million_rows_make_curves_of_at_most_a_few_hundred_points():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 1_000_000)
    found = curves.classifier(y, rng.random(1_000_000))
    assert len(found["roc"]["fpr"]) == len(found["precision_recall"]["recall"]) == curves.POINTS
    regression = curves.regressor(rng.gamma(2, 50, 1_000_000), rng.gamma(2, 50, 1_000_000))
    assert sum(map(sum, regression["predicted_vs_actual"]["counts"])) == 1_000_000
