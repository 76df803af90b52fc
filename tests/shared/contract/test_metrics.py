"""Each metric measured from resample counts equals the metric on the rows repeated that many times: what the
gate's and compare's bootstrap relies on to be the bootstrap it says it is."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("sklearn", reason="the metrics are scikit-learn's: these run in the model envs (tox.ini)")

from shared.contract import metrics

SUPERVISED = {
    "binary": [metrics.auc, metrics.log_loss, metrics.precision_at_top_decile],
    "regression": [metrics.rmse, metrics.mae, metrics.normalized_gini],
}


@st.composite
def rows(draw: st.DrawFn, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, predictions (with ties: few distinct values are likely) and resample counts."""
    n = draw(st.integers(2, 60))
    levels = draw(st.integers(1, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "binary":
        y = rng.integers(0, 2, n)
        y[:2] = [0, 1]  # both classes, so that AUC is defined on the rows themselves
        p = rng.integers(0, levels + 1, n) / (levels + 1)
        p = np.where(rng.random(n) < 0.1, draw(st.sampled_from([0.0, 1.0])), p)  # probabilities at the edges
    else:
        y = np.round(rng.gamma(1.0, 50.0, n), draw(st.integers(0, 2)))
        y = np.where(rng.random(n) < 0.3, 0.0, y)
        p = rng.integers(0, levels + 1, n) * 7.5
    counts = rng.multinomial(n, np.full(n, 1 / n)) if draw(st.booleans()) else rng.integers(0, 4, n)
    return y, p, counts


@pytest.mark.parametrize("kind", sorted(SUPERVISED))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_weighted_equals_repeated_rows(kind: str, data: st.DataObject) -> None:
    y, p, counts = data.draw(rows(kind))
    taken = np.repeat(np.arange(len(y)), counts)
    for metric in SUPERVISED[kind]:
        at = metrics.weighted(metric, y, p)
        whole = metric(y, p)
        if math.isnan(whole):  # a Gini of labels all alike: nothing to order
            assert math.isnan(at(np.ones(len(y)))), metric.__name__
        else:
            assert math.isclose(at(np.ones(len(y))), whole, rel_tol=1e-9, abs_tol=1e-12), metric.__name__
        if metric is metrics.auc and len(set(y[taken])) < 2:
            assert math.isnan(at(counts))
            continue
        if not len(taken) or (metric is metrics.normalized_gini and not y[taken].sum()):
            continue
        expected = metric(y[taken], p[taken])
        if math.isnan(expected):
            assert math.isnan(at(counts)), metric.__name__
            continue
        assert math.isclose(at(counts), expected, rel_tol=1e-9, abs_tol=1e-12), metric.__name__


def test_a_metric_of_your_own_is_measured_on_repeated_rows() -> None:
    def share_above_half(y_true: np.ndarray, y_score: np.ndarray) -> float:
        return float(np.mean(y_score[y_true == 1] > 0.5))

    y, p = np.array([1, 1, 0, 1]), np.array([0.9, 0.2, 0.7, 0.6])
    at = metrics.weighted(share_above_half, y, p)
    assert at(np.array([1, 1, 1, 1])) == pytest.approx(2 / 3)
    assert at(np.array([0, 3, 1, 1])) == pytest.approx(1 / 4)


def test_silhouette_weighted_is_the_mean_of_the_sampled_rows() -> None:
    rng = np.random.default_rng(3)
    space = np.vstack([rng.normal(0, 1, (300, 2)), rng.normal(4, 1, (300, 2))])
    segments = np.repeat([0, 1], 300)
    at = metrics.weighted(metrics.silhouette, space, segments)
    assert at(np.ones(600)) == pytest.approx(metrics.silhouette(space, segments), rel=1e-12)


@pytest.mark.parametrize("metric", [*SUPERVISED["binary"], *SUPERVISED["regression"], metrics.silhouette])
def test_every_gate_metric_says_which_way_is_better(metric) -> None:
    assert metric.better in ("higher", "lower")


def test_a_gini_of_labels_all_alike_is_undefined_not_a_crash() -> None:
    assert math.isnan(metrics.normalized_gini(np.array([54.0, 54.0]), np.array([7.5, 0.0])))
