"""How `train` holds rows out to measure its metrics: the split is data of the version, separate from the model.

Every split keeps the input's row order within each part, records how its rows were chosen (the manifest's
``split``), and is the same for the same rows and settings, whatever the model's own ``seed``:

- ``random``: one permutation of the row positions with ``numpy.random.default_rng(split_seed)``; its first
  ``round(rows * valid_fraction)`` positions (at least one) are held out; with early stopping, the next
  ``round(rows * stop_fraction)`` are the stopping rows; the rest are fit rows.
- ``time``: the rows at or after ``valid_from`` in ``column`` are held out, or, without it, the latest
  ``valid_fraction`` of the rows (all rows of the boundary's time on the held-out side); the stopping rows are
  the latest ``stop_fraction`` before them. The model is measured on the future it will score.
- ``group``: all rows of one value of ``column`` (a customer id) fall on one side: a permutation of the
  values, seeded like ``random``, holds out the first ``round(groups * valid_fraction)`` of them.
- ``file``: the held-out rows are another input (``--valid_data``); all rows of the training input are fit
  rows (but the stopping rows, drawn as for ``random``).

``train --holdout_output`` writes the held-out rows, so anyone can measure the stored version on exactly those.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shared.errors import BadData, shown

if TYPE_CHECKING:
    import pandas as pd

METHODS = ("random", "time", "group")


@dataclass(frozen=True)
class Split:
    """Row positions to fit on, to stop early on and to hold out, and how they were chosen."""

    method: str
    seed: int
    valid_fraction: float
    fit: Any  # numpy arrays of row positions, ascending
    valid: Any
    stop: Any = ()  # rows that decide early stopping: neither fit on nor measured on
    stop_fraction: float = 0.0
    facts: dict[str, Any] = field(default_factory=dict)  # the method's own: column, valid_from, groups, file

    def to_manifest(self) -> dict[str, Any]:
        """What the manifest records: enough to choose the same rows again from the same input."""
        stopping = {"stop_fraction": self.stop_fraction} if len(self.stop) else {}
        rows = {"fit": len(self.fit), **({"stop": len(self.stop)} if len(self.stop) else {}), "valid": len(self.valid)}
        return {
            "method": self.method,
            "seed": self.seed,
            "valid_fraction": self.valid_fraction,
            **stopping,
            **self.facts,
            "rows": rows,
        }


def random_split(rows: int, valid_fraction: float, seed: int, stop_fraction: float = 0.0) -> Split:
    """Hold out ``round(rows * valid_fraction)`` rows (at least one) chosen by a permutation seeded with ``seed``;
    with ``stop_fraction``, the next ``round(rows * stop_fraction)`` rows of that permutation are the stopping
    rows. The held-out rows are the same with or without stopping rows."""
    import numpy as np

    order = np.random.default_rng(seed).permutation(rows)
    n_valid = max(1, round(rows * valid_fraction))
    n_stop = max(1, round(rows * stop_fraction)) if stop_fraction else 0
    valid, stop, fit = order[:n_valid], order[n_valid : n_valid + n_stop], order[n_valid + n_stop :]
    return Split("random", seed, valid_fraction, np.sort(fit), np.sort(valid), np.sort(stop), stop_fraction)


def time_split(
    times: pd.Series, valid_fraction: float, valid_from: dt.date | None, stop_fraction: float, column: str
) -> Split:
    """Hold out the latest rows by ``times`` (those at or after ``valid_from``, else the latest share); the
    stopping rows are the latest before them."""
    import numpy as np
    import pandas as pd

    stamps = _times(times, column)
    order = np.argsort(stamps.to_numpy(), kind="stable")
    rows = len(stamps)
    if valid_from is not None:
        cutoff = pd.Timestamp(valid_from)
        valid = np.flatnonzero(stamps.to_numpy() >= cutoff.to_datetime64())
        facts = {"column": column, "valid_from": valid_from.isoformat()}
    else:
        boundary = stamps.iloc[order[rows - max(1, round(rows * valid_fraction))]]
        valid = np.flatnonzero(stamps.to_numpy() >= boundary.to_datetime64())
        facts = {"column": column, "valid_from": boundary.isoformat()}
    before = order[~np.isin(order, valid)]
    n_stop = min(max(1, round(rows * stop_fraction)), len(before)) if stop_fraction else 0
    stop, fit = before[len(before) - n_stop :] if n_stop else before[:0], before[: len(before) - n_stop]
    return Split("time", 0, valid_fraction, np.sort(fit), np.sort(valid), np.sort(stop), stop_fraction, facts)


def group_split(groups: pd.Series, valid_fraction: float, seed: int, stop_fraction: float, column: str) -> Split:
    """Hold out every row of a seeded draw of ``round(groups * valid_fraction)`` of the values of ``groups``."""
    import numpy as np

    if groups.isna().any():
        msg = f"training data: --split=group column {column!r} has {int(groups.isna().sum())} missing value(s)"
        raise BadData(msg)
    values, codes = np.unique(groups.astype(str).to_numpy(), return_inverse=True)
    order = np.random.default_rng(seed).permutation(len(values))
    n_valid = max(1, round(len(values) * valid_fraction))
    n_stop = max(1, round(len(values) * stop_fraction)) if stop_fraction else 0
    valid_groups, stop_groups = order[:n_valid], order[n_valid : n_valid + n_stop]
    valid, stop = np.flatnonzero(np.isin(codes, valid_groups)), np.flatnonzero(np.isin(codes, stop_groups))
    fit = np.flatnonzero(~np.isin(codes, np.concatenate([valid_groups, stop_groups])))
    facts = {"column": column, "groups": {"fit": len(values) - n_valid - n_stop, "valid": n_valid}}
    return Split("group", seed, valid_fraction, fit, valid, stop, stop_fraction, facts)


def file_split(fit_rows: int, valid_rows: int, seed: int, stop_fraction: float, source: str) -> Split:
    """The first ``fit_rows`` rows are the training input (less its stopping rows), the rest the held-out file."""
    import numpy as np

    n_stop = max(1, round(fit_rows * stop_fraction)) if stop_fraction else 0
    order = np.random.default_rng(seed).permutation(fit_rows)
    stop, fit = np.sort(order[:n_stop]), np.sort(order[n_stop:])
    valid = np.arange(fit_rows, fit_rows + valid_rows)
    return Split("file", seed, 0.0, fit, valid, stop, stop_fraction, {"valid_data": source})


def _times(values: pd.Series, column: str) -> pd.Series:
    """A time column as timestamps (naive UTC): dates, times, or ISO 8601 text; BadData for missing or unreadable
    values."""
    import pandas as pd

    if values.isna().any():
        msg = f"training data: --split_column {column!r} has {int(values.isna().sum())} missing value(s)"
        raise BadData(msg)
    if values.dtype.kind in "biufcm":  # numbers would be read as nanoseconds since 1970
        msg = (
            f"training data: --split_column {column!r} must hold dates or times; it holds {values.dtype} values "
            f"(e.g. {shown(values.iloc[0])}); store dates, times or ISO 8601 text"
        )
        raise BadData(msg)
    try:
        stamps = (
            pd.to_datetime(values) if values.dtype.kind == "M" else pd.to_datetime(values, utc=True, format="ISO8601")
        )
    except (ValueError, TypeError, OverflowError) as exc:
        bad = next((v for v in values if _unreadable(v)), values.iloc[0])
        msg = f"training data: --split_column {column!r} must hold dates or times; got {shown(bad)} ({exc})"
        raise BadData(msg) from None
    return stamps.dt.tz_convert(None) if getattr(stamps.dt, "tz", None) is not None else stamps


def _unreadable(value: Any) -> bool:
    import pandas as pd

    try:
        pd.to_datetime(value, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        return True
    return False


def check_choice(method: str, column: str | None, valid_from: dt.date | None, valid_data: Any) -> None:
    """BadArgument for split settings that do not go together."""
    from shared.errors import BadArgument

    if valid_data is not None and method != "random":
        msg = f"--valid_data names the held-out rows itself; it does not go with --split={method}"
        raise BadArgument(msg)
    if method == "time" and column is None:
        msg = "--split=time needs --split_column, the date or time column that orders the rows"
        raise BadArgument(msg)
    if valid_from is not None and method != "time":
        msg = "--valid_from goes with --split=time (and its --split_column)"
        raise BadArgument(msg)
    if column is not None and method == "random" and valid_data is None:
        msg = "--split_column goes with --split=time or --split=group"
        raise BadArgument(msg)
