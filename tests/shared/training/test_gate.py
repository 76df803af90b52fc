"""The gate's conditions, its rule on the paired bootstrap's interval, and the bootstrap itself."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("sklearn", reason="the metrics are scikit-learn's: these run in the model envs (tox.ini)")

from shared.contract import metrics
from shared.errors import BadData
from shared.training import bootstrap, gate

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
BOUNDS = st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: float(f"{x:.6g}"))


@given(conditions=st.lists(st.tuples(NAMES, st.sampled_from(sorted(gate.OPERATORS)), BOUNDS), min_size=1, max_size=4))
def test_conditions_written_out_parse_back(conditions):
    text = ",".join(f" {name} {op}{bound!r} " for name, op, bound in conditions)
    assert gate.parse(text) == conditions


@given(text=st.text(max_size=40))
def test_any_text_is_conditions_or_one_value_error(text):
    """Generated junk: a list of conditions, or ValueError saying what conditions look like; nothing else."""
    try:
        parsed = gate.parse(text)
    except ValueError as exc:
        message = str(exc)
    else:
        message = ""
        assert all(op in gate.OPERATORS and math.isfinite(bound) for _, op, bound in parsed)
    assert not message or message.startswith("must be conditions like auc>=0.75")


CONFIG = {"promote": "champion", "gate": None, "against": "champion", "tolerance": 0.01}


def _comparison(better, low, high):
    return {
        "metric": "m",
        "better": better,
        "new": 0.0,
        "holder": 0.0,
        "difference": (low + high) / 2,
        "interval": [low, high],
        "confidence": 0.95,
        "resamples": 1000,
        "rows": 100,
    }


@pytest.mark.parametrize(
    ("better", "low", "high", "passed"),
    [
        ("higher", -0.05, 0.02, True),  # could be either: noise never blocks
        ("higher", -0.05, -0.011, False),  # the whole interval worse than the tolerance
        ("higher", -0.05, -0.01, True),  # worse by exactly the tolerance at most: allowed
        ("lower", -0.02, 0.05, True),
        ("lower", 0.011, 0.05, False),  # lower is better: higher values are worse
        ("lower", 0.01, 0.05, True),
    ],
)
def test_the_new_version_is_refused_only_when_its_whole_interval_is_worse_than_the_tolerance(better, low, high, passed):
    verdict = gate.verdict(CONFIG, {}, _comparison(better, low, high), {"version": "v1"})
    assert verdict["passed"] is passed
    assert verdict["against"]["passed"] is passed
    assert bool(verdict["reasons"]) is not passed


def test_a_first_promotion_has_nothing_to_compare_with_and_passes():
    verdict = gate.verdict(CONFIG, {}, None, None)
    assert verdict["passed"]
    assert verdict["against"]["version"] is None


def test_absolute_conditions_are_judged_on_the_held_out_metrics():
    config = {**CONFIG, "against": None, "gate": "auc>=0.75,log_loss<0.5"}
    verdict = gate.verdict(config, {"auc": 0.8, "log_loss": 0.5}, None, None)
    assert [c["passed"] for c in verdict["conditions"]] == [True, False]
    assert verdict["reasons"] == ["log_loss is 0.5 on the held-out rows, and --gate wants log_loss<0.5"]


def _scores(seed, rows, noise):
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=rows)
    y = (rng.random(rows) < 1 / (1 + np.exp(-2 * signal))).astype(int)
    return y, signal + rng.normal(0, noise, rows)


def test_the_bootstrap_is_seeded_and_pairs_the_rows():
    y, a = _scores(0, 500, 0.5)
    _, b = _scores(1, 500, 0.5)
    first = bootstrap.paired(metrics.auc, (y, a), (y, b), seed=3)
    assert first == bootstrap.paired(metrics.auc, (y, a), (y, b), seed=3)
    assert first["difference"] == pytest.approx(metrics.auc(y, a) - metrics.auc(y, b))
    same = bootstrap.paired(metrics.auc, (y, a), (y, a), seed=3)
    assert same["interval"] == [0.0, 0.0]  # the same predictions on every resample: no difference at all


def test_the_interval_covers_the_true_difference_about_as_often_as_it_says():
    """Two models of equal quality (the same signal, each with its own noise of the same size) on fresh rows each
    time: the 95% interval of their difference holds 0 in about 95% of runs."""
    covered = 0
    for seed in range(120):
        rng = np.random.default_rng(seed)
        signal = rng.normal(size=400)
        y = (rng.random(400) < 1 / (1 + np.exp(-2 * signal))).astype(int)
        a, b = signal + rng.normal(0, 1.0, 400), signal + rng.normal(0, 1.0, 400)
        low, high = bootstrap.paired(metrics.auc, (y, a), (y, b), resamples=400, seed=seed)["interval"]
        covered += low <= 0 <= high
    assert 0.9 <= covered / 120 <= 0.99


@settings(max_examples=20, deadline=None)
@given(rows=st.integers(2, 8), seed=st.integers(0, 2**16))
def test_too_few_rows_to_compare_is_bad_data_not_a_crash(rows, seed):
    y = np.zeros(rows, dtype=int)
    y[0] = 1  # most resamples of so few rows hold one class only: AUC undefined there
    rng = np.random.default_rng(seed)
    try:
        bootstrap.paired(metrics.auc, (y, rng.random(rows)), (y, rng.random(rows)), resamples=200, seed=seed)
    except BadData as exc:
        message = str(exc)
    else:
        message = "cannot be compared"
    assert "cannot be compared" in message


def test_unequal_rows_are_refused():
    with pytest.raises(BadData, match="the same"):
        bootstrap.paired(metrics.rmse, (np.ones(3), np.ones(3)), (np.ones(2), np.ones(2)))


@pytest.mark.parametrize("text", ["auc>=1e999", "auc>=-1e400", "auc>=０.5", "auc>=0.5,", "auc>=٣"])
def test_bounds_are_finite_ascii_numbers(text):
    with pytest.raises(ValueError, match="must"):
        gate.parse(text)


def test_too_few_rows_to_compare_is_a_refusal_whatever_the_interval():
    comparison = {**_comparison("higher", -0.7, 0.4), "rows": gate.MIN_COMPARED_ROWS - 1}
    verdict = gate.verdict(CONFIG, {}, comparison, {"version": "v1"})
    assert not verdict["passed"]
    assert "too few to tell" in verdict["reasons"][0]
