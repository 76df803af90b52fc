"""The feature schema: which columns a model reads, their kinds, and the categorical levels seen in training.

The schema is learned at training time, stored in the version's manifest and applied at scoring time, so
columns are always matched by name (never position) and categories always map to the training levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.errors import BadData

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Schema:
    """Feature columns in model order: numeric ones, then categorical ones with their levels."""

    numeric: tuple[str, ...]
    categorical: dict[str, tuple[str, ...]]

    @property
    def columns(self) -> list[str]:
        """All feature names, in the order the model sees them."""
        return [*self.numeric, *self.categorical]

    @classmethod
    def learn(cls, frame: pd.DataFrame, numeric: tuple[str, ...], categorical: tuple[str, ...]) -> Schema:
        """Learn the levels of each categorical column from training data."""
        require_columns(frame, [*numeric, *categorical], "training data")
        levels = {name: tuple(sorted(_distinct_levels(frame[name]))) for name in categorical}
        return cls(tuple(numeric), levels)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data for the manifest."""
        return {
            "numeric": list(self.numeric),
            "categorical": {k: list(v) for k, v in self.categorical.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        """Rebuild a schema from manifest data."""
        return cls(tuple(data["numeric"]), {k: tuple(v) for k, v in data["categorical"].items()})

    def features(self, frame: pd.DataFrame, what: str = "input") -> pd.DataFrame:
        """Return a new frame of the feature columns, typed and in model order; ``frame`` is not changed.

        Numeric columns become float64; categorical columns become pandas categoricals over the training
        levels, so a level never seen in training becomes missing.
        """
        return self.prepare(frame, what)[0]

    def prepare(self, frame: pd.DataFrame, what: str = "input") -> tuple[pd.DataFrame, dict[str, Any]]:
        """Return :meth:`features` and, per categorical column, a boolean mask of its levels unseen in training."""
        import pandas as pd

        require_columns(frame, self.columns, what)
        if len(frame) == 0:
            msg = f"{what} has no rows; nothing to do"
            raise BadData(msg)
        out = {}
        for name in self.numeric:
            column = frame[name]
            if column.dtype.kind == "f":
                column = column.where(column.abs() != float("inf"))  # infinities are scored as missing
            if column.dtype.kind not in "biuf":
                column = pd.to_numeric(column, errors="coerce")
                bad = column.isna() & frame[name].notna()
                if bad.any():
                    example = frame[name][bad].iloc[0]
                    msg = f"column {name!r} must be numeric; {int(bad.sum())} value(s) are not, e.g. {example!r}"
                    raise BadData(msg)
            out[name] = column.astype("float64")
        unseen = {}
        for name, levels in self.categorical.items():
            codes, unseen[name] = _codes(frame[name], levels)  # levels unseen in training become missing (-1)
            out[name] = pd.Categorical.from_codes(codes, categories=list(levels))
        return pd.DataFrame(out, index=frame.index), unseen

    def report(self, frame: pd.DataFrame, keep: tuple[str, ...] = (), unseen: dict[str, Any] | None = None) -> dict:
        """What scoring ``frame`` leaves aside: columns it ignores and categorical levels unseen in training.

        ``unseen`` is the masks :meth:`prepare` returned for ``frame``, if it ran already.
        """
        if unseen is None:
            unseen = {name: _codes(frame[name], levels)[1] for name, levels in self.categorical.items()}
        ignored = [c for c in frame.columns if c not in set(self.columns) | set(keep)]
        return {"ignored_columns": ignored, **count_unseen(unseen)}


def count_unseen(masks: dict[str, Any]) -> dict[str, Any]:
    """Per column, how many values were unseen in training, and how many rows carry at least one."""
    import numpy as np

    counts = {name: int(mask.sum()) for name, mask in masks.items() if mask.any()}
    rows = int(np.logical_or.reduce(list(masks.values())).sum()) if masks else 0
    return {"unseen_levels": counts, "rows_with_unseen_levels": rows}


def as_levels(column: pd.Series) -> pd.Series:
    """A categorical column as text levels, the same whichever way it was read.

    Integer codes read as floats (a CSV column with one blank becomes float) map to the same level as the
    integers: 1.0 and 1 are both '1'.
    """
    if column.dtype.kind == "f":
        present = column.dropna()
        if (present == present.round()).all():
            return column.astype("Int64").astype("string")
    return column.astype("string")


def _distinct_levels(column: pd.Series) -> list[str]:
    import pandas as pd

    _, uniques = pd.factorize(column)
    return list(as_levels(pd.Series(uniques)).dropna().unique())


def _codes(column: pd.Series, levels: tuple[str, ...]) -> tuple[Any, Any]:
    """Map a column to positions in ``levels`` (-1 for missing or unseen) and flag the unseen values.

    Only the column's distinct values are turned into text, so this stays fast on millions of rows.
    """
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(column)
    known = pd.Index(levels, dtype=object).get_indexer(as_levels(pd.Series(uniques)).astype(object))
    mapped = np.where(codes < 0, -1, known[codes] if len(known) else -1)
    return mapped, (codes >= 0) & (mapped < 0)


def require_columns(frame: Any, names: list[str], what: str) -> None:
    """Raise BadData naming the columns of ``names`` that ``frame`` lacks (and near misses in case)."""
    columns = getattr(frame, "columns", None)
    if columns is None:
        msg = f"{what} must be a table (a pandas DataFrame or a Parquet/CSV path); got {type(frame).__name__}"
        raise BadData(msg)
    have = [str(c) for c in columns]
    duplicated = sorted({c for c in have if have.count(c) > 1})
    if duplicated:
        msg = f"{what} has duplicate column name(s) {', '.join(map(repr, duplicated))}; names must be unique"
        raise BadData(msg)
    missing = [name for name in names if name not in set(have)]
    if missing:
        by_case = {c.lower(): c for c in have}
        named = [
            f"{name!r} (found {by_case[name.lower()]!r}: names are case-sensitive)"
            if name.lower() in by_case
            else repr(name)
            for name in missing
        ]
        shown = ", ".join(map(repr, have[:12])) + (", ..." if len(have) > 12 else "")
        msg = f"{what} lacks required column(s) {', '.join(named)}; it has: {shown}"
        raise BadData(msg)
