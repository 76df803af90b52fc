"""Seeded simulations of the drift verdict's promise: on rows like the training rows, a run flags anything at
most about 1% of the time at every row count from 100 to 1,000,000; a 0.25-sigma shift in one of 20 features
is caught at least 90% of the time from 10,000 rows.

Each simulated run draws its own training rows (20 independent standard normal features and a prediction
that depends on them), captures their profile as train does, and draws a scoring run. Up to 10,000 rows the
run's values go through the same tally as score; above that, its counts are drawn straight from the true
probabilities of the bins and of the ranges below the training min and above its max (for independent rows,
these counts are exactly multinomial), which is what the tally of a million generated rows would count, at a
fraction of the cost. No timing is measured.
"""

import math
import types

import numpy as np
import pandas as pd
import pytest

from shared.monitoring import drift, profile

FEATURES = 20
TRAINING_ROWS = 20_000
WEIGHTS = np.linspace(1.0, 0.1, FEATURES)  # the prediction leans on every feature, the shifted one too
SHIFTED = 5
SCHEMA = types.SimpleNamespace(columns=tuple(f"x{j}" for j in range(FEATURES)))
GENERATED_UP_TO = 10_000


def _phi(values: np.ndarray) -> np.ndarray:
    return np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in values])


def _training(rng: np.random.Generator) -> dict:
    fit = rng.normal(size=(TRAINING_ROWS, FEATURES))
    entries = []
    for j, name in enumerate(SCHEMA.columns):
        entry = {"name": name, "kind": "numeric", "edges": profile.edges(fit[:, j])}
        entries.append(entry | profile.count(entry, fit[:, j]))
    predicted = rng.normal(size=(TRAINING_ROWS // 4, FEATURES)) @ WEIGHTS  # held-out rows
    prediction = {"kind": "numeric", "edges": profile.edges(predicted)}
    return {"rows": TRAINING_ROWS, "features": entries, "prediction": prediction | profile.count(prediction, predicted)}


def _run(reference: dict, rng: np.random.Generator, rows: int, shift: float) -> dict:
    """The counts of a scoring run of ``rows`` rows, feature SHIFTED moved by ``shift`` standard deviations."""
    if rows <= GENERATED_UP_TO:
        values = rng.normal(size=(rows, FEATURES))
        values[:, SHIFTED] += shift
        tally = drift.Tally(reference, SCHEMA)
        tally.add(pd.DataFrame(values, columns=list(SCHEMA.columns)), {}, values @ WEIGHTS)
        return tally.counts("v1")
    spread = float(np.sqrt(np.sum(WEIGHTS**2)))

    def drawn(entry: dict, mean: float, sd: float) -> dict:
        """Counts over [below the training min, the bins, above the max], folded as the tally folds them."""
        cuts = [entry["min"], *entry["edges"], entry["max"]]
        shares = np.diff(np.concatenate([[0.0], _phi((np.asarray(cuts) - mean) / sd), [1.0]]))
        cells = rng.multinomial(rows, shares / shares.sum())
        counts = cells[1:-1].copy()
        counts[0] += cells[0]
        counts[-1] += cells[-1]
        below, above = int(cells[0]), int(cells[-1])
        return {
            "counts": counts.tolist(),
            "missing": 0,
            "rows": rows,
            "min": None,
            "max": None,
            "below": below,
            "above": above,
        }

    features = [drawn(e, shift if j == SHIFTED else 0.0, 1.0) for j, e in enumerate(reference["features"])]
    prediction = drawn(reference["prediction"], WEIGHTS[SHIFTED] * shift, spread)
    return {"schema": 1, "version": "v1", "rows": rows, "features": features, "prediction": prediction}


RUNS = 300
FIXED_PSI = 0.1  # the rule of thumb the verdict replaces


def _flagged(rows: int, shift: float, runs: int, seed: int) -> tuple[int, int]:
    """Of ``runs`` simulated runs: how many the verdict flags (the shifted feature, when there is a shift), and
    how many a fixed PSI > 0.1 rule on the same bins would."""
    rng = np.random.default_rng(seed)
    ours = fixed = 0
    for _ in range(runs):
        reference = _training(rng)
        verdict = drift.judge(reference, _run(reference, rng, rows, shift))
        entries = [*verdict["features"], verdict["prediction"]]
        if shift:
            ours += f"x{SHIFTED}" in verdict["drifted"]
            fixed += verdict["features"][SHIFTED]["psi"] > FIXED_PSI
        else:
            ours += verdict["status"] == "drifted"
            fixed += any(entry["psi"] > FIXED_PSI for entry in entries)
    return ours, fixed


@pytest.mark.parametrize("rows", [100, 1_000, 10_000, 100_000, 1_000_000])
def test_rows_like_the_training_rows_raise_a_false_alarm_in_about_1_percent_of_runs(rows):
    fired, fixed = _flagged(rows, 0.0, RUNS, seed=rows)
    assert fired <= 0.015 * RUNS, f"{fired} of {RUNS} runs of {rows} identical rows flagged drift"
    if rows == 100:
        assert fixed >= 0.9 * RUNS, "the fixed rule was expected to fire on most small runs of identical rows"


@pytest.mark.parametrize("rows", [10_000, 100_000, 1_000_000])
def test_a_quarter_sigma_shift_in_one_of_20_features_is_caught_in_90_percent_of_runs(rows):
    runs = RUNS // 5
    caught, fixed = _flagged(rows, 0.25, runs, seed=rows + 1)
    assert caught >= 0.9 * runs, f"a 0.25-sigma shift was caught in {caught} of {runs} runs of {rows} rows"
    assert fixed <= 0.1 * runs, "the fixed rule was expected to miss a small shift in large runs"
