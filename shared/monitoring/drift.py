"""Drift: whether a scoring run's input still looks like the rows its version was trained on, from counts alone.

A :class:`Tally` counts each batch over the reference profile's bins and levels (``shared.monitoring.profile``):
integers only, so memory stays flat in rows and the tallies of shards add up exactly to one pass. :func:`judge` compares
the run's counts with the reference's, per feature and for the prediction (see :class:`_Tests`):

- its distribution over the cells (bins or levels, missing, unseen): Pearson's two-sample chi-squared,
  calibrated by simulating runs like the training rows at this run's row count, with a max-statistic
  correction across the features;
- for a numeric entry, its values beyond the training min and max: an exact exchangeability test, Bonferroni
  across the features.

The family's chance of flagging anything on rows like the training rows stays within ``alpha`` (1%) whatever
the row count. PSI and Jensen-Shannon over the same cells, the missing, out-of-range and unseen shares are
reported for a person. :func:`check_limits` is the hard data-quality floor, applied before the predictions
are published; :func:`judged` applies ``--on_drift``.

One cohesive thing: the counts a :class:`Tally` keeps, :func:`merge` adds up and the shape checks guard are
exactly what :func:`judge` tests and describes: one format, written and read in one module.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.errors import ArtifactRejected, BadData, Drifted
from shared.monitoring import profile

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from shared.tables.schema import Schema

log = logging.getLogger(__name__)

ALPHA = 0.01
SIMULATIONS = 1000
CHUNK = 100  # simulated runs drawn at a time
LIMIT_ROWS = 100  # the hard limits judge shares of at least this many rows
SPREAD_SHARE = 0.8  # of alpha, to the distribution tests; the rest to the range tests
SEED = 20261201
COUNTS_SCHEMA = 1


class Tally:
    """The counts of a scoring run so far, over the bins of ``reference`` (a version's profile)."""

    def __init__(self, reference: dict[str, Any], schema: Schema, view: Callable[[Any], Any] = lambda p: p) -> None:
        """``view``: what the profile counts of a batch's predictions (the model's ``_drift_values``)."""
        check_profile(reference, schema)
        self.reference, self.view = reference, view
        self.features: list[dict[str, Any]] | None = None
        self.prediction: dict[str, Any] | None = None

    def add(self, features: pd.DataFrame, unseen: dict[str, Any], predicted: Any) -> None:
        """Count one batch: its prepared ``features``, their ``unseen`` masks, and its predictions."""
        batch = [
            profile.count(entry, features[entry["name"]], unseen.get(entry["name"]), bounds=True)
            for entry in self.reference["features"]
        ]
        guess = profile.count(self.reference["prediction"], self.view(predicted), bounds=True)
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
    if reference is not None:
        for part in parts:
            _check_shape(reference, part)
    first = parts[0]
    features, prediction = first["features"], first["prediction"]
    for part in parts[1:]:
        features = [profile.merge(a, b) for a, b in zip(features, part["features"], strict=True)]
        prediction = profile.merge(prediction, part["prediction"])
    return _counts(first["version"], sum(part["rows"] for part in parts), features, prediction)


def check_profile(reference: Any, schema: Schema) -> None:
    """ArtifactRejected unless ``reference`` is a profile of ``schema``'s features, in its order, of kinds,
    levels and counts that add up (a hand-edited or damaged manifest would give a wrong verdict)."""
    fine = isinstance(reference, dict) and isinstance(reference.get("features"), list) and _count(reference, "rows")
    stored = [e.get("name") if isinstance(e, dict) else None for e in reference["features"]] if fine else []
    if fine and stored != list(schema.columns):
        msg = (
            f"the version's profile lists features {stored}, its schema {list(schema.columns)}: the manifest "
            f"was edited or damaged; retrain, or score with --on_drift=off"
        )
        raise ArtifactRejected(msg)
    kinds = {f.name: (f.kind, len(f.levels)) for f in getattr(schema, "entries", [])}
    for entry in reference["features"] if fine else []:
        kind, levels = kinds.get(entry["name"], (entry.get("kind"), entry.get("levels")))
        fine = fine and entry.get("kind") == kind and _entry_fits(entry, None, levels)
        fine = fine and entry["rows"] == reference["rows"]
    prediction = reference.get("prediction") if fine else None
    if not (fine and isinstance(prediction, dict) and _entry_fits(prediction, None, None)):
        msg = "the version's reference profile is damaged or was edited: retrain it, or score with --on_drift=off"
        raise ArtifactRejected(msg)


def _entry_fits(entry: dict[str, Any], run: dict[str, Any] | None, levels: int | None) -> bool:
    """Whether a profile ``entry`` (or, with ``run``, a run's counts over it) is whole: counts of the right
    length in non-negative whole numbers that add up to its rows, and a range that is a range."""
    kind = entry.get("kind")
    found = entry if run is None else run
    counts = found.get("counts")
    if not isinstance(counts, list) or not all(_whole(v) for v in counts) or not _count(found, "rows"):
        return False
    if kind == "numeric":
        edges: Any = entry.get("edges")
        fine = isinstance(edges, list) and all(_number(v) for v in edges) and edges == sorted(set(edges))
        fine = fine and len(counts) == len(edges) + 1 and _count(found, "missing")
        present = found["rows"] - found.get("missing", 0) if fine else 0
        fine = fine and sum(counts) == present and _range(found, present)
        if fine and run is None and present:  # as profile.edges cuts them: every bin holds training rows
            fine = all(counts) and (not edges or (found["min"] <= edges[0] and edges[-1] < found["max"]))
        if fine and run is not None:
            fine = _count(run, "below") and _count(run, "above") and _bounded(entry, run, present)
        return bool(fine)
    if kind == "categorical":
        fine = _whole(entry.get("levels")) and len(counts) == entry["levels"] and levels in (None, entry["levels"])
        extra = ["missing"] + (["unseen"] if run is not None else [])
        return bool(
            fine
            and all(_count(found, k) for k in extra)
            and sum(counts) + sum(found[k] for k in extra) == found["rows"]
        )
    if kind == "segments":
        ids = entry.get("segments")
        fine = (
            isinstance(ids, list)
            and all(_whole(v) for v in ids)
            and ids == sorted(set(ids))
            and len(counts) == len(ids)
            and (entry.get("names") is None or _names(entry["names"], len(ids)))
        )
        extra = ["unseen"] if run is not None else []
        return bool(
            fine
            and all(_count(found, k) for k in extra)
            and sum(counts) + sum(found[k] for k in extra) == found["rows"]
        )
    return False


def _names(names: Any, count: int) -> bool:
    """Whether a profile's names of its ids are one text per id (a classifier's classes)."""
    return isinstance(names, list) and len(names) == count and all(isinstance(n, str) for n in names)


def _bounded(entry: dict[str, Any], run: dict[str, Any], present: int) -> bool:
    """Whether a run's counts beyond the training range, its min and max, and its bins tell one story: the
    values below the min sit in the first bin, those above the max in the last; the run's min lies in its
    first non-empty bin and its max in its last."""
    below, above, counts = run["below"], run["above"], run["counts"]
    if below > counts[0] or above > counts[-1]:
        return False
    if not present:
        return below == above == 0
    low, high = entry.get("min"), entry.get("max")
    if low is not None and ((below > 0) != (run["min"] < low) or (above > 0) != (run["max"] > high)):
        return False
    if low is None and (below or above):
        return False
    cuts = [-math.inf, *entry["edges"], math.inf]
    first = next(i for i, c in enumerate(counts) if c)
    last = max(i for i, c in enumerate(counts) if c)
    return bool(cuts[first] < run["min"] <= cuts[first + 1] and cuts[last] < run["max"] <= cuts[last + 1])


def _whole(value: Any) -> bool:
    return type(value) is int and 0 <= value < 2**53


def _count(found: dict[str, Any], key: str) -> bool:
    return isinstance(found, dict) and _whole(found.get(key))


def _number(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _range(found: dict[str, Any], present: int) -> bool:
    low: Any = found.get("min")
    high: Any = found.get("max")
    if present == 0:
        return low is None and high is None
    return _number(low) and _number(high) and bool(low <= high)


def _check_shape(reference: dict[str, Any], part: dict[str, Any]) -> None:
    """ArtifactRejected unless ``part`` counts over exactly the reference's bins and levels, in whole numbers
    that add up."""
    entries = [*reference["features"], reference["prediction"]]
    counted = [*part.get("features", []), part.get("prediction")] if isinstance(part.get("features"), list) else []
    fine = len(counted) == len(entries) and _count(part, "rows")
    for entry, found in zip(entries, counted, strict=False) if fine else []:
        fine = fine and isinstance(found, dict) and _entry_fits(entry, found, None) and found["rows"] == part["rows"]
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
    tests = [_Tests(ref, run) for ref, run in entries]
    null = _null_max(tests)
    ranged = sum(test.range is not None for test in tests)
    p_values = {}
    for i, test in enumerate(tests):
        found = []
        if test.spread:  # the distribution's family-wise p, from the simulated maximum
            observed = float(_z(test.cells[0][None, :], test.cells[1][None, :])[0])
            found.append(float((1 + np.count_nonzero(null >= observed)) / (len(null) + 1)) / SPREAD_SHARE)
        if test.range is not None:  # the range's, exact (Bonferroni over the entries with a range)
            found.append(ranged * test.beyond() / (1 - SPREAD_SHARE))
        if found:
            p_values[i] = min(1.0, min(found))
    shown = [_describe(ref, run, *tests[i].cells, p_values.get(i), alpha) for i, (ref, run) in enumerate(entries)]
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


class _Tests:
    """The two tests of one entry; SPREAD_SHARE of ``alpha`` goes to the first kind and the rest to the second,
    so the family's chance of any false alarm stays within ``alpha``:

    - its distribution over the cells: Pearson's two-sample chi-squared, calibrated by simulation at the run's
      row count, with a max-statistic correction across the entries;
    - for a numeric entry, how many present values lie beyond the training max (or below the min). Runs of
      rows like the training rows are exchangeable with them, so at least ``k`` of the run's ``n`` values lie
      beyond the extreme of the reference's ``N`` with chance prod_{i<k} (n-i)/(N+n-i), whatever the
      distribution (ties only make it rarer; both sides: twice the larger count's). The end bins, which hold
      these values too, cannot tell 10 from 10,000, and a feature constant in training has one bin.
    """

    def __init__(self, ref: dict[str, Any], run: dict[str, Any]) -> None:
        self.cells = _cells(ref, run)
        a, b = self.cells
        self.spread = len(a) > 1 and a.sum() > 0 and b.sum() > 0
        present = run["rows"] - run.get("missing", 0)
        self.range = None
        if "below" in run and ref.get("min") is not None and present > 0:
            self.range = (ref["rows"] - ref["missing"], present, max(run["below"], run["above"]))

    def beyond(self) -> float:
        """The exact chance of the range's larger count beyond the training extremes (both sides)."""
        assert self.range is not None
        big, small, k = self.range
        lg = math.lgamma
        log_chance = lg(small + 1) - lg(small - k + 1) - lg(big + small + 1) + lg(big + small - k + 1)
        return min(1.0, 2 * math.exp(log_chance))

    def simulated(self, rng: Any, size: int) -> Any:
        import numpy as np

        if not self.spread:
            return np.full(size, -np.inf)
        a, b = self.cells
        shares = (a + b) / (a + b).sum()
        ref = rng.multinomial(int(a.sum()), shares, size=size).astype("float64")
        run = rng.multinomial(int(b.sum()), shares, size=size).astype("float64")
        return _z(ref, run)


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


def _null_max(tests: list[_Tests]) -> np.ndarray:
    """The largest statistic over the entries in each of SIMULATIONS runs drawn like the training rows: the
    reference's and the run's row counts, the pooled shares (seeded: the same counts, the same verdict). Drawn
    CHUNK runs at a time, so memory stays small however many levels a feature has."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    largest = np.full(SIMULATIONS, -np.inf)
    for start in range(0, SIMULATIONS, CHUNK):
        size = min(CHUNK, SIMULATIONS - start)
        for test in tests:
            np.maximum(largest[start : start + size], test.simulated(rng, size), out=largest[start : start + size])
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
        known = ref.get("min") is not None  # a feature never present in training has no range
        shown["out_of_range"] = _share(run["below"] + run["above"], present) if known else None
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


def judged(result: dict[str, Any], on_drift: str) -> dict[str, Any]:
    """``result`` as it is, after a warning if its verdict is drifted; Drifted (101) under --on_drift=fail."""
    found = result["drift"]
    if found.get("status") != "drifted":
        return result
    names = ", ".join(found["drifted"])
    message = (
        f"the input no longer looks like {result['model']} version {result['version']}'s training rows: {names} "
        f"(family-wise p <= {found['alpha']:g} at {found['rows']} rows)"
    )
    if on_drift == "fail":
        after = "; the predictions are written: look at them before using them" if "output" in result else ""
        raise Drifted(f"{message}{after}", result)
    log.warning("%s", message)
    return result


def check_limits(
    reference: dict[str, Any], counts: dict[str, Any], max_missing_rise: float, max_out_of_range: float, what: str
) -> None:
    """BadData (before anything is published) for a feature far out of what training saw: its missing share
    more than ``max_missing_rise`` above training's, or more than ``max_out_of_range`` of its present values
    outside the training min and max. Only from LIMIT_ROWS rows (present values): a share of a handful of rows
    says little, and the verdict's tests judge them."""
    for ref, run in zip(reference["features"], counts["features"], strict=True):
        entry = _describe(ref, run, *_cells(ref, run), None, ALPHA)
        missing = entry.get("missing")
        if run["rows"] >= LIMIT_ROWS and missing and missing["run"] - missing["train"] > max_missing_rise:
            msg = (
                f"{what}: {missing['run']:.1%} of column {entry['name']!r} is missing (or infinite), against "
                f"{missing['train']:.1%} in training, a rise above --max_missing_rise={max_missing_rise:g}: a broken "
                f"upstream column? Fix the input, or raise the limit to score it anyway; nothing was written"
            )
            raise BadData(msg)
        outside = entry.get("out_of_range")
        present = run["rows"] - run.get("missing", 0)
        if present >= LIMIT_ROWS and outside is not None and outside > max_out_of_range:
            msg = (
                f"{what}: in column {entry['name']!r}, {outside:.1%} of the values lie outside the training range "
                f"[{entry['min']['train']:g}, {entry['max']['train']:g}] (seen: [{entry['min']['run']:g}, "
                f"{entry['max']['run']:g}]), above --max_out_of_range={max_out_of_range:g}: another unit or "
                f"encoding? Fix the input, or raise the limit to score it anyway; nothing was written"
            )
            raise BadData(msg)
