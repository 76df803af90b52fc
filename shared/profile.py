"""The reference profile of a version: what its training rows and held-out predictions looked like, as counts.

Captured at ``train`` and stored in the manifest, so that a scoring run can tell, with no access to the
training data, whether its input still looks like it. Everything is integer counts over fixed bins, so a
batch only adds to them (memory flat in rows) and the counts of shards add up exactly to a single pass:

- numeric feature: interior bin edges at the fit rows' deciles (repeated values collapse to one edge, so a
  feature with few values has fewer bins), a count per bin, the missing count, min and max;
- categorical feature: a count per training level (in the schema's code order) and the missing count;
- the prediction on the held-out rows: binned like a numeric feature (a segment id is counted like a level).

Order is data: features are a list in the schema's order and levels keep their code order; a bin is
``(edges[i-1], edges[i]]``, the first from minus infinity, the last to plus infinity, the same in
:func:`count` at train and at scoring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from shared.schema import Schema

BINS = 10
PROFILE_SCHEMA = 1


def capture(schema: Schema, features: pd.DataFrame, predictions: Any, segments: bool = False) -> dict[str, Any]:
    """The profile of prepared ``features`` (the fit rows, in the schema's order) and of the held-out
    ``predictions`` (segment ids when ``segments``)."""
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
        levels = sorted({int(v) for v in predicted})
        prediction: dict[str, Any] = {"kind": "segments", "segments": levels}
        prediction["counts"] = [int((predicted == level).sum()) for level in levels]
        prediction["rows"] = len(predicted)
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


def count(entry: dict[str, Any], column: Any) -> dict[str, Any]:
    """The counts of one feature (or the prediction) over ``entry``'s bins or levels: what a batch adds."""
    import numpy as np
    import pandas as pd

    if entry["kind"] == "categorical":
        codes = np.asarray(pd.Categorical(column).codes if not hasattr(column, "cat") else column.cat.codes)
        known = codes[codes >= 0]
        counts = np.bincount(known, minlength=entry["levels"])
        return {"counts": counts.tolist(), "missing": int((codes < 0).sum()), "rows": len(codes)}
    values = np.asarray(column, dtype="float64")
    present = values[np.isfinite(values)]
    bins = np.searchsorted(np.asarray(entry["edges"], dtype="float64"), present, side="left")
    counts = np.bincount(bins, minlength=len(entry["edges"]) + 1)
    return {
        "counts": counts.tolist(),
        "missing": int(len(values) - len(present)),
        "rows": len(values),
        "min": float(present.min()) if len(present) else None,
        "max": float(present.max()) if len(present) else None,
    }


def merge(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """The counts of two parts of the same rows' bins, added: exactly the counts of the whole."""
    merged = {
        **first,
        "counts": [a + b for a, b in zip(first["counts"], second["counts"], strict=True)],
        "missing": first["missing"] + second["missing"],
        "rows": first["rows"] + second["rows"],
    }
    if "min" in first:
        lows = [v for v in (first["min"], second["min"]) if v is not None]
        highs = [v for v in (first["max"], second["max"]) if v is not None]
        merged |= {"min": min(lows) if lows else None, "max": max(highs) if highs else None}
    return merged
