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


MULTICLASS = [metrics.multi_log_loss, metrics.accuracy, metrics.macro_f1, metrics.auc_ovr]


@st.composite
def multiclass_rows(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class codes, a probability matrix (ties and zeros are likely: few levels) and resample counts."""
    k, n = draw(st.integers(2, 6)), draw(st.integers(2, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    y = rng.integers(0, k, n)
    if n >= k and draw(st.booleans()):
        y[:k] = np.arange(k)  # every class occurs, as scikit-learn's one-vs-rest AUC requires
    if draw(st.booleans()):
        raw = rng.integers(0, draw(st.integers(1, 4)) + 1, (n, k)).astype("float64")
        raw[raw.sum(axis=1) == 0] = 1.0
    else:
        raw = rng.random((n, k))
    counts = rng.multinomial(n, np.full(n, 1 / n)) if draw(st.booleans()) else rng.integers(0, 4, n)
    return y, raw / raw.sum(axis=1, keepdims=True), counts


def sklearn_multiclass(metric, y: np.ndarray, p: np.ndarray) -> float:
    """The metric as scikit-learn computes it, from its public functions."""
    from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

    k = p.shape[1]
    if metric is metrics.multi_log_loss:
        return log_loss(y, p, labels=list(range(k)))
    if metric is metrics.accuracy:
        return accuracy_score(y, p.argmax(axis=1))
    if metric is metrics.macro_f1:
        return f1_score(y, p.argmax(axis=1), labels=np.unique(y), average="macro", zero_division=0)
    present = np.unique(y)
    if len(present) < 2:
        return float("nan")
    if k >= 3 and len(present) == k:  # scikit-learn's one-vs-rest needs every class and more than two
        return roc_auc_score(y, p, multi_class="ovr", average="macro", labels=list(range(k)))
    return float(np.mean([roc_auc_score(y == c, p[:, c]) for c in present]))


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("metric", MULTICLASS, ids=lambda m: m.__name__)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_multiclass_metrics_equal_scikit_learns(metric, data: st.DataObject) -> None:
    y, p, _ = data.draw(multiclass_rows())
    expected = sklearn_multiclass(metric, y, p)
    assert same(metric(y, p), expected)
    assert same(metrics.weighted(metric, y, p)(np.ones(len(y))), expected)


@pytest.mark.parametrize("metric", MULTICLASS, ids=lambda m: m.__name__)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_multiclass_weighted_equals_repeated_rows(metric, data: st.DataObject) -> None:
    y, p, counts = data.draw(multiclass_rows())
    taken = np.repeat(np.arange(len(y)), counts)
    if not len(taken):
        return
    assert same(metrics.weighted(metric, y, p)(counts), metric(y[taken], p[taken]))


def test_the_multi_log_loss_clips_as_scikit_learn_does() -> None:
    y, p = np.array([0, 1, 2]), np.array([[0.0, 0.5, 0.5], [0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])
    eps = np.finfo("float64").eps
    expected = -(np.log(eps) + np.log(1 - eps) + np.log(0.5)) / 3
    assert metrics.multi_log_loss(y, p) == pytest.approx(expected, rel=1e-12)
    assert metrics.weighted(metrics.multi_log_loss, y, p)(np.ones(3)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("y", "hits"),
    [([0, 1, 0], 1.0), ([1, 2, 1], 0.0), ([0, 2, 0], 2 / 3)],
)
def test_argmax_ties_go_to_the_first_class(y: list[int], hits: float) -> None:
    p = np.array([[0.4, 0.4, 0.2], [0.2, 0.4, 0.4], [1 / 3, 1 / 3, 1 / 3]])  # predicted: 0, 1, 0
    y = np.array(y)
    assert metrics.accuracy(y, p) == pytest.approx(hits)
    assert metrics.weighted(metrics.accuracy, y, p)(np.ones(3)) == pytest.approx(hits)
    assert metrics.weighted(metrics.macro_f1, y, p)(np.ones(3)) == pytest.approx(metrics.macro_f1(y, p))


# Class 3 is never the true class (row 4 predicts it); class 2's AUC has a tie (rows 3 and 4 score 0.3).
ABSENT_Y = np.array([0, 1, 2, 0])
ABSENT_P = np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1], [0.1, 0.5, 0.3, 0.1], [0.2, 0.1, 0.3, 0.4]])


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (metrics.multi_log_loss, -np.log([0.7, 0.6, 0.3, 0.2]).mean()),
        (metrics.accuracy, 0.5),
        (metrics.macro_f1, (2 / 3 + 2 / 3 + 0) / 3),  # class 3 is left out: the rows hold none (predicted once)
        (metrics.auc_ovr, (1 + 1 + 5 / 6) / 3),  # class 3 is left out: no positives to rank
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_a_class_absent_from_the_reference(metric, expected: float) -> None:
    assert metric(ABSENT_Y, ABSENT_P) == pytest.approx(expected, rel=1e-12)
    at = metrics.weighted(metric, ABSENT_Y, ABSENT_P)
    assert at(np.ones(4)) == pytest.approx(expected, rel=1e-12)
    taken = np.repeat(np.arange(4), [2, 0, 3, 1])  # class 1 drops out of the resample too
    assert at(np.array([2, 0, 3, 1])) == pytest.approx(metric(ABSENT_Y[taken], ABSENT_P[taken]), rel=1e-12)


def test_a_one_class_reference_has_no_auc_ovr() -> None:
    y, p = np.array([1, 1, 1]), np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    assert math.isnan(metrics.auc_ovr(y, p))
    at = metrics.weighted(metrics.auc_ovr, np.array([1, 0, 1]), p)
    assert math.isnan(at(np.array([2, 0, 1])))  # the resample drew only class 1
    assert at(np.array([1, 1, 0])) == pytest.approx(1.0)


@pytest.mark.parametrize("metric", MULTICLASS, ids=lambda m: m.__name__)
def test_every_multiclass_metric_says_which_way_is_better_and_explains_itself(metric) -> None:
    assert metric.better == ("lower" if metric is metrics.multi_log_loss else "higher")
    assert metric.__doc__
    assert hasattr(metric, "weighted")
