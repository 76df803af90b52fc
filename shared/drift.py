"""Drift: whether a scoring run's input still looks like the rows its version was trained on, from counts alone.

A :class:`Tally` counts each batch over the reference profile's bins and levels (``shared.profile``): integers
only, so memory stays flat in rows and the tallies of shards add up exactly to one pass. :func:`judge` compares
the run's counts with the reference's, per feature and for the prediction:

- the test: Pearson's chi-squared for two samples over the bins (and the missing and unseen cells). Its
  threshold is calibrated at this run's row count: the counts of runs like the training rows are simulated
  (multinomial draws of the reference's size and of the run's, from the pooled shares), and a feature is
  flagged when it is further off than the most extreme feature of all but ``alpha`` of those simulated runs.
  So the chance that a run of rows like the training rows flags anything is at most ``alpha`` (default 1%),
  at 100 rows or at 10 million, however many features (a max-statistic correction across them);
- for a person: PSI and Jensen-Shannon over the same cells, the missing share at train and in the run, the
  share of present values outside the training min and max, and the share of unseen levels.

:func:`check_limits` is the hard data-quality floor, applied before the predictions are published.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from shared import profile
from shared.errors import ArtifactRejected, BadData

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from shared.schema import Schema

ALPHA = 0.01
SIMULATIONS = 1000
SEED = 20261201
COUNTS_SCHEMA = 1


class Tally:
    """The counts of a scoring run so far, over the bins of ``reference`` (a version's profile)."""

    def __init__(self, reference: dict[str, Any], schema: Schema) -> None:
        stored = [entry["name"] for entry in reference["features"]]
        if stored != list(schema.columns):
            msg = (
                f"the version's profile lists features {stored}, its schema {list(schema.columns)}: the manifest "
                f"was edited or damaged; retrain, or score with --on_drift=off"
            )
            raise ArtifactRejected(msg)
        self.reference = reference
        self.features: list[dict[str, Any]] | None = None
        self.prediction: dict[str, Any] | None = None

    def add(self, features: pd.DataFrame, unseen: dict[str, Any], predicted: Any) -> None:
        """Count one batch: its prepared ``features``, their ``unseen`` masks, and its predictions."""
        batch = [
            profile.count(entry, features[entry["name"]], unseen.get(entry["name"]), bounds=True)
            for entry in self.reference["features"]
        ]
        guess = profile.count(self.reference["prediction"], predicted, bounds=True)
        if self.features is None:
            self.features, self.prediction = batch, guess
            return
        assert self.prediction is not None
        self.features = [profile.merge(a, b) for a, b in zip(self.features, batch, strict=True)]
        self.prediction = profile.merge(self.prediction, guess)

    def counts(self, version: str = "") -> dict[str, Any]:
        """The run's counts, JSON-ready: what a shard writes and :func:`merge` adds up."""
        if self.features is None:  # no rows: zero counts of the same shape
            empty = [_zero(entry) for entry in self.reference["features"]]
            return _counts(version, 0, empty, _zero(self.reference["prediction"]))
        assert self.prediction is not None
        return _counts(version, self.prediction["rows"], self.features, self.prediction)


def _counts(version: str, rows: int, features: list[dict[str, Any]], prediction: dict[str, Any]) -> dict[str, Any]:
    return {"schema": COUNTS_SCHEMA, "version": version, "rows": rows, "features": features, "prediction": prediction}


def _zero(entry: dict[str, Any]) -> dict[str, Any]:
    zero: dict[str, Any] = {"counts": [0] * len(entry["counts"]), "rows": 0}
    if entry["kind"] == "numeric":
        return zero | {"missing": 0, "min": None, "max": None, "below": 0, "above": 0}
    return zero | ({"missing": 0, "unseen": 0} if entry["kind"] == "categorical" else {"unseen": 0})


def merge(parts: list[dict[str, Any]], reference: dict[str, Any] | None = None) -> dict[str, Any]:
    """The counts of a run from its parts' counts (in shard order): exactly the counts of one pass.
    With ``reference``, each part is first checked to count over its bins (ArtifactRejected if not)."""
    for part in parts if reference is not None else []:
        assert reference is not None
        _check_shape(reference, part)
    first = parts[0]
    features, prediction = first["features"], first["prediction"]
    for part in parts[1:]:
        features = [profile.merge(a, b) for a, b in zip(features, part["features"], strict=True)]
        prediction = profile.merge(prediction, part["prediction"])
    return _counts(first["version"], sum(part["rows"] for part in parts), features, prediction)


def _check_shape(reference: dict[str, Any], part: dict[str, Any]) -> None:
    """ArtifactRejected unless ``part`` counts over exactly the reference's bins and levels, in whole numbers."""
    entries = [*reference["features"], reference["prediction"]]
    counted = [*part.get("features", []), part.get("prediction")]
    fine = len(counted) == len(entries) and isinstance(part.get("rows"), int)
    for entry, found in zip(entries, counted, strict=False) if fine else []:
        fine = fine and isinstance(found, dict) and isinstance(found.get("counts"), list)
        fine = fine and len(found["counts"]) == len(entry["counts"])
        fine = fine and all(type(v) is int and v >= 0 for v in [*found["counts"], found.get("rows")])
    if not fine:
        msg = (
            f"drift counts of version {part.get('version')} do not fit its profile's bins (damaged or edited, or "
            f"written by another build): score the run's shards again"
        )
        raise ArtifactRejected(msg)


def judge(reference: dict[str, Any], counts: dict[str, Any], alpha: float = ALPHA) -> dict[str, Any]:
    """The drift verdict of a run's ``counts`` against the version's ``reference`` profile."""
    import numpy as np

    entries = [*zip(reference["features"], counts["features"], strict=True)]
    entries.append(({"name": "prediction", **reference["prediction"]}, counts["prediction"]))
    cells = [_cells(ref, run) for ref, run in entries]
    tested = [i for i, (a, b) in enumerate(cells) if len(a) > 1 and a.sum() > 0 and b.sum() > 0]
    null = _null_max(cells, tested)
    p_values = {}
    for i in tested:
        observed = _z(cells[i][0][None, :], cells[i][1][None, :])[0]
        p_values[i] = float((1 + np.count_nonzero(null >= observed)) / (len(null) + 1))
    shown = [_describe(ref, run, *cells[i], p_values.get(i), alpha) for i, (ref, run) in enumerate(entries)]
    drifted = [entry["name"] for entry in shown if entry["drifted"]]
    return {
        "status": "no_rows" if counts["rows"] == 0 else "drifted" if drifted else "ok",
        "drifted": drifted,
        "alpha": alpha,
        "rows": counts["rows"],
        "reference_rows": reference["rows"],
        "features": shown[:-1],
        "prediction": shown[-1],
    }


def _cells(ref: dict[str, Any], run: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The reference's and the run's counts over the same cells (bins or levels, then missing, then unseen),
    without the cells both leave empty."""
    import numpy as np

    a, b = list(ref["counts"]), list(run["counts"])
    if "missing" in ref:
        a.append(ref["missing"])
        b.append(run["missing"])
    if "unseen" in run:  # the reference has none, by definition
        a.append(0)
        b.append(run["unseen"])
    first, second = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    kept = (first + second) > 0
    return first[kept], second[kept]


def _z(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row of the two count tables, Pearson's two-sample chi-squared, made comparable across cell counts
    (Wilson-Hilferty: about standard normal under the null whatever the degrees of freedom)."""
    import numpy as np

    big, small = a.sum(axis=1, keepdims=True), b.sum(axis=1, keepdims=True)
    pooled = a + b
    terms = np.divide((a * small - b * big) ** 2, big * small * pooled, out=np.zeros_like(a), where=pooled > 0)
    df = a.shape[1] - 1
    ratio = terms.sum(axis=1) / df
    return (np.cbrt(ratio) - (1 - 2 / (9 * df))) / math.sqrt(2 / (9 * df))


def _null_max(cells: list[tuple[np.ndarray, np.ndarray]], tested: list[int]) -> np.ndarray:
    """The largest statistic over the ``tested`` entries in each of SIMULATIONS runs drawn like the training
    rows: the reference's and the run's row counts, the pooled shares (seeded: the same counts, the same
    verdict)."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    largest = np.full(SIMULATIONS, -np.inf)
    for i in tested:
        a, b = cells[i]
        shares = (a + b) / (a + b).sum()
        ref = rng.multinomial(int(a.sum()), shares, size=SIMULATIONS).astype("float64")
        run = rng.multinomial(int(b.sum()), shares, size=SIMULATIONS).astype("float64")
        np.maximum(largest, _z(ref, run), out=largest)
    return largest


def _describe(
    ref: dict[str, Any], run: dict[str, Any], a: np.ndarray, b: np.ndarray, p: float | None, alpha: float
) -> dict[str, Any]:
    """One entry of the verdict: the test's family-wise p, PSI and JS, missing, out-of-range and unseen shares."""
    shown: dict[str, Any] = {"name": ref["name"], "drifted": p is not None and p <= alpha, "p": p}
    if a.sum() > 0 and b.sum() > 0:
        shown |= {"psi": _round(_psi(a, b)), "js": _round(_js(a, b))}
    else:
        shown |= {"psi": None, "js": None}
    rows = run["rows"]
    if "missing" in ref:
        shown["missing"] = {"train": _share(ref["missing"], ref["rows"]), "run": _share(run["missing"], rows)}
    if "below" in run:
        present = rows - run["missing"]
        shown["out_of_range"] = _share(run["below"] + run["above"], present)
        shown["min"], shown["max"] = {"train": ref["min"], "run": run["min"]}, {"train": ref["max"], "run": run["max"]}
    if "unseen" in run:
        shown["unseen"] = _share(run["unseen"], rows)
    return shown


def _psi(a: np.ndarray, b: np.ndarray) -> float:
    """The population stability index over the cells, each count plus one half (no cell is ever empty)."""
    import numpy as np

    p, q = (a + 0.5) / (a + 0.5).sum(), (b + 0.5) / (b + 0.5).sum()
    return float(np.sum((q - p) * np.log(q / p)))


def _js(a: np.ndarray, b: np.ndarray) -> float:
    """The Jensen-Shannon divergence of the two shares over the cells, in bits (0 alike, 1 disjoint)."""
    import numpy as np

    p, q = a / a.sum(), b / b.sum()
    m = (p + q) / 2
    left = np.sum(p[p > 0] * np.log2(p[p > 0] / m[p > 0]))
    right = np.sum(q[q > 0] * np.log2(q[q > 0] / m[q > 0]))
    return float(max(0.0, (left + right) / 2))


def _share(part: int, whole: int) -> float | None:
    return _round(part / whole) if whole else None


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def check_limits(
    reference: dict[str, Any], counts: dict[str, Any], max_missing_rise: float, max_out_of_range: float, what: str
) -> None:
    """BadData (before anything is published) for a feature far out of what training saw: its missing share
    more than ``max_missing_rise`` above training's, or more than ``max_out_of_range`` of its present values
    outside the training min and max."""
    for ref, run in zip(reference["features"], counts["features"], strict=True):
        entry = _describe(ref, run, *_cells(ref, run), None, ALPHA)
        missing = entry.get("missing")
        if missing and missing["run"] is not None and missing["run"] - missing["train"] > max_missing_rise:
            msg = (
                f"{what}: {missing['run']:.1%} of column {entry['name']!r} is missing, against {missing['train']:.1%} "
                f"in training, a rise above --max_missing_rise={max_missing_rise:g}: a broken upstream column? "
                f"Fix the input, or raise the limit to score it anyway; nothing was written"
            )
            raise BadData(msg)
        outside = entry.get("out_of_range")
        if outside is not None and outside > max_out_of_range:
            msg = (
                f"{what}: {outside:.1%} of column {entry['name']!r}'s values lie outside its training range "
                f"[{entry['min']['train']:g}, {entry['max']['train']:g}] (seen: [{entry['min']['run']:g}, "
                f"{entry['max']['run']:g}]), above --max_out_of_range={max_out_of_range:g}: another unit or "
                f"encoding? Fix the input, or raise the limit to score it anyway; nothing was written"
            )
            raise BadData(msg)
