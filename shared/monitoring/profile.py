"""The reference profile of a version: what its training rows and held-out predictions looked like, as counts.

Captured at ``train`` and stored in the manifest, so that a scoring run can tell, with no access to the
training data, whether its input still looks like it. Everything is integer counts over fixed bins, so a
batch only adds to them (memory flat in rows) and the counts of shards add up exactly to a single pass:

- numeric feature: interior bin edges at the fit rows' deciles (repeated values collapse to one edge, so a
  feature with few values has fewer bins), a count per bin, the missing count, min and max;
- categorical feature: a count per training level (in the schema's code order) and the missing count;
- the prediction on the held-out rows: binned like a numeric feature (a segment id, or a classifier's predicted
  class, is counted like a level; a class's entry names the classes).

Order is data: features are a list in the schema's order and levels keep their code order; a bin is
``(edges[i-1], edges[i]]``, the first from minus infinity, the last to plus infinity, the same in
:func:`count` at train and at scoring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from shared.tables.schema import Schema

BINS = 10
PROFILE_SCHEMA = 1
ADDED = ("rows", "missing", "unseen", "below", "above")  # the counts besides the bins that parts add up


def capture(
    schema: Schema, features: pd.DataFrame, predictions: Any, segments: Any = False, names: list[str] | None = None
) -> dict[str, Any]:
    """The profile of prepared ``features`` (the fit rows, in the schema's order) and of the held-out
    ``predictions`` (segment ids when ``segments``: the ids the model can give, or True for those seen; ``names``
    says what each id means where it is no segment, e.g. a classifier's classes)."""
    import numpy as np

    entries = []
    for feature in schema.entries:
        column = features[feature.name]
        if feature.kind == "categorical":
            entries.append({"name": feature.name, "kind": "categorical", "levels": len(feature.levels)})
        else:
            entries.append({"name": feature.name, "kind": "numeric", "edges": edges(column.to_numpy(dtype="float64"))})
        entries[-1] |= count(entries[-1], column)
    predicted = np.asarray(predictions)
    if segments:
        seen = {int(v) for v in predicted}
        levels = sorted(seen | set(segments if isinstance(segments, list) else []))
        prediction: dict[str, Any] = {"kind": "segments", "segments": levels}
        prediction["counts"] = [int((predicted == level).sum()) for level in levels]
        prediction["rows"] = len(predicted)
        if names is not None:
            prediction["names"] = list(names)
    else:
        prediction = {"kind": "numeric", "edges": edges(predicted.astype("float64"))}
        prediction |= count(prediction, predicted)
    return {"schema": PROFILE_SCHEMA, "rows": len(features), "features": entries, "prediction": prediction}


def edges(values: Any, bins: int = BINS) -> list[float]:
    """Interior bin edges at the quantiles of the finite ``values``: at most ``bins - 1``, increasing."""
    import numpy as np

    finite = values[np.isfinite(values)]
    if not len(finite):
        return []
    cuts = np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1], method="lower")  # values that occur
    return [float(edge) for edge in np.unique(cuts) if edge < finite.max()]  # every bin holds training rows


def count(entry: dict[str, Any], column: Any, unseen: Any = None, bounds: bool = False) -> dict[str, Any]:
    """The counts of one feature (or the prediction) over ``entry``'s bins or levels: what a batch adds.

    ``unseen``: a categorical column's mask of levels unseen in training (they are missing in its codes),
    counted apart from the missing ones. ``bounds``: also count the present values below the entry's ``min``
    and above its ``max`` (scoring a numeric feature against its reference).
    """
    import numpy as np
    import pandas as pd

    if entry["kind"] == "categorical":
        codes = np.asarray(column.cat.codes if hasattr(column, "cat") else pd.Categorical(column).codes)
        counts = np.bincount(codes.astype("int64") + 1, minlength=entry["levels"] + 1)  # [missing or unseen, ...]
        strange = int(np.count_nonzero(unseen)) if unseen is not None else 0
        found = {"counts": counts[1:].tolist(), "missing": int(counts[0]) - strange, "rows": len(codes)}
        return found | ({"unseen": strange} if unseen is not None else {})
    if entry["kind"] == "segments":
        values = np.asarray(column, dtype="int64")
        known = np.asarray(entry["segments"], dtype="int64")
        at = np.minimum(np.searchsorted(known, values), len(known) - 1)
        seen = known[at] == values
        counts = np.bincount(at[seen], minlength=len(known))
        return {"counts": counts.tolist(), "unseen": int(len(values) - np.count_nonzero(seen)), "rows": len(values)}
    values = np.asarray(column, dtype="float64")
    finite = np.isfinite(values)
    missing = len(values) - int(np.count_nonzero(finite))
    present = values if missing == 0 else values[finite]
    cuts = np.asarray(entry["edges"], dtype="float64")
    outside = bounds and entry.get("min") is not None
    if outside:  # cells [below min, bin 0, ..., bin B-1, above max]: the bins are the reference's, unchanged
        with np.errstate(over="ignore"):  # below the lowest float is -inf: nothing is below it, as it should be
            floor = np.nextafter(entry["min"], -np.inf)
        cuts = np.concatenate([[floor], cuts, [entry["max"]]])
    cells = np.bincount(np.searchsorted(cuts, present, side="left"), minlength=len(cuts) + 1)
    if outside:
        below, above = int(cells[0]), int(cells[-1])
        cells = cells[1:-1]
        cells[0] += below
        cells[-1] += above
    found = {
        "counts": cells.tolist(),
        "missing": missing,
        "rows": len(values),
        "min": float(present.min()) if len(present) else None,
        "max": float(present.max()) if len(present) else None,
    }
    return found | ({"below": below, "above": above} if outside else {"below": 0, "above": 0} if bounds else {})


def merge(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """The counts of two parts of the same rows' bins, added: exactly the counts of the whole."""
    merged = dict(first)
    for key, value in second.items():
        if key == "counts":
            merged[key] = [a + b for a, b in zip(first[key], value, strict=True)]
        elif key in ("min", "max"):
            present = [v for v in (first[key], value) if v is not None]
            merged[key] = (min if key == "min" else max)(present) if present else None
        elif key in ADDED:
            merged[key] = first[key] + value
    return merged
