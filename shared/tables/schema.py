"""The feature schema: which columns a model reads, in which order, their kinds, and the categorical levels.

The schema is learned at training time and stored in the version's manifest as an ordered list, one entry
per feature (name, kind, levels): the model sees its features by position, so their order is data, never a
mapping's key order. At load it is checked against the order the model file itself records, then applied
at scoring time, so columns are always matched by name and categories always map to the training levels.
"""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from shared.errors import ArtifactRejected, BadData, shown

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd
    import pyarrow as pa

log = logging.getLogger(__name__)

NUMERIC: Final = "numeric"
CATEGORICAL: Final = "categorical"


@dataclass(frozen=True)
class Feature:
    """One feature column: its name, its kind, and for a categorical the levels seen in training (in code order)."""

    name: str
    kind: Literal["numeric", "categorical"]
    levels: tuple[str, ...] = ()

    def to_manifest(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            **({"levels": list(self.levels)} if self.kind == CATEGORICAL else {}),
        }


@dataclass(frozen=True)
class Schema:
    """Feature columns in the order the model sees them."""

    entries: tuple[Feature, ...]
    # A manifest from before ordered feature lists: its order is not known until the model file says it.
    legacy: bool = field(default=False, compare=False)

    @property
    def columns(self) -> list[str]:
        """All feature names, in the order the model sees them."""
        return [f.name for f in self.entries]

    @property
    def numeric(self) -> tuple[str, ...]:
        """The numeric feature names, in model order."""
        return tuple(f.name for f in self.entries if f.kind == NUMERIC)

    @property
    def categorical(self) -> dict[str, tuple[str, ...]]:
        """The categorical feature names, in model order, with their levels."""
        return {f.name: f.levels for f in self.entries if f.kind == CATEGORICAL}

    @property
    def kinds(self) -> dict[str, str]:
        """Each feature's kind, by name."""
        return {f.name: f.kind for f in self.entries}

    @classmethod
    def learn(cls, frame: pd.DataFrame, numeric: tuple[str, ...], categorical: tuple[str, ...]) -> Schema:
        """Learn each categorical column's levels from ``frame``; the order is numeric, then categorical, as given."""
        require_columns(frame, [*numeric, *categorical], "training data")
        for name in categorical:
            check_feature_type(frame[name], name, CATEGORICAL, "training data")
        features = [Feature(name, NUMERIC) for name in numeric]
        features += [Feature(name, CATEGORICAL, tuple(sorted(_distinct_levels(frame[name])))) for name in categorical]
        return cls(tuple(features))

    def to_manifest(self) -> list[dict[str, Any]]:
        """Plain JSON data for the manifest: a list, so that the order survives any JSON writer or reader."""
        return [f.to_manifest() for f in self.entries]

    @classmethod
    def from_manifest(cls, data: Any, where: str = "the manifest", legacy: bool = False) -> Schema:
        """Rebuild a schema from manifest data: the ordered list, or (``legacy``: a manifest of schema 1) the
        mapping written before it."""
        try:
            if isinstance(data, dict) and legacy:  # {"numeric": [...], "categorical": {name: levels}}: no order
                features = [Feature(str(name), NUMERIC) for name in data["numeric"]]
                features += [Feature(str(k), CATEGORICAL, _levels(v)) for k, v in data["categorical"].items()]
                return cls(tuple(features), legacy=True)
            if not isinstance(data, list):
                raise TypeError(f"expected a list of features, got {type(data).__name__}")
            features = []
            for entry in data:
                if entry["kind"] not in (NUMERIC, CATEGORICAL):
                    raise ValueError(f"kind {entry['kind']!r}")
                levels = _levels(entry["levels"]) if entry["kind"] == CATEGORICAL else ()
                features.append(Feature(str(entry["name"]), entry["kind"], levels))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            msg = f"{where}: the feature list is malformed ({type(exc).__name__}: {exc}); refusing the version"
            raise ArtifactRejected(msg) from None
        names = [f.name for f in features]
        if not names or len(set(names)) != len(names):
            msg = f"{where}: the feature list must name each feature once; it has {names}"
            raise ArtifactRejected(msg)
        return cls(tuple(features))

    def aligned(
        self,
        recorded: list[str] | None,
        categorical: list[str] | None,
        where: str,
        levels: dict[str, list[str]] | None = None,
    ) -> Schema:
        """Check this schema against what the model file records; return it in the file's order.

        ``recorded`` is the feature order the model file itself holds, ``categorical`` the features it treats
        as categorical and ``levels`` their levels in code order (each None if the file does not say). Any
        disagreement in names, order, count, kind or levels raises ArtifactRejected. A legacy manifest, which
        stored no order, takes the model file's order when the names and kinds agree.
        """
        names = self.columns
        if recorded is None:
            msg = f"{where}: the model file records no feature names, so its columns cannot be checked; refusing it"
            raise ArtifactRejected(msg)
        if self.legacy and sorted(recorded) == sorted(names):
            by_name = {f.name: f for f in self.entries}
            aligned = Schema(tuple(by_name[name] for name in recorded))
            log.warning(
                "%s: its manifest predates ordered feature lists; scoring in the model file's own order %s",
                where,
                recorded,
            )
        elif recorded == names:
            aligned = self
        else:
            msg = (
                f"{where}: the model file's features {recorded} disagree with the manifest's {names} "
                f"({_difference(recorded, names)}); the manifest does not describe this model file, refusing it"
            )
            raise ArtifactRejected(msg)
        if categorical is not None and sorted(categorical) != sorted(aligned.categorical):
            msg = (
                f"{where}: the model file treats {sorted(categorical)} as categorical, the manifest "
                f"{sorted(aligned.categorical)}; the manifest does not describe this model file, refusing it"
            )
            raise ArtifactRejected(msg)
        for name, stored in (levels or {}).items():
            if list(aligned.categorical.get(name, ())) != [str(level) for level in stored]:
                msg = (
                    f"{where}: the model file codes {name!r} as levels {_cut(stored)}, the manifest as "
                    f"{_cut(aligned.categorical.get(name, ()))}; the manifest does not describe this model file, "
                    f"refusing it"
                )
                raise ArtifactRejected(msg)
        return aligned

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
        out, unseen = {}, {}
        for feature in self.entries:  # in model order: the model reads its matrix by position
            name = feature.name
            check_feature_type(frame[name], name, feature.kind, what)
            if feature.kind == CATEGORICAL:
                codes, unseen[name] = _codes(frame[name], feature.levels)  # unseen levels become missing (-1)
                out[name] = pd.Categorical.from_codes(codes, categories=list(feature.levels))
                continue
            column = frame[name]
            if column.dtype.kind == "f":
                column = column.where(column.abs() != float("inf"))  # infinities are scored as missing
            if column.dtype.kind not in "biuf":
                column = pd.to_numeric(column, errors="coerce")
                bad = column.isna() & frame[name].notna()
                if bad.any():
                    example = frame[name][bad].iloc[0]
                    count = int(bad.sum())
                    msg = f"{what}: column {name!r} must be numeric; {count} value(s) are not, e.g. {shown(example)}"
                    raise BadData(msg)
            out[name] = column.astype("float64")
        return pd.DataFrame(out, index=frame.index), unseen

    def report(self, frame: pd.DataFrame, keep: tuple[str, ...] = (), unseen: dict[str, Any] | None = None) -> dict:
        """What scoring ``frame`` leaves aside: columns it ignores and categorical levels unseen in training.

        ``unseen`` is the masks :meth:`prepare` returned for ``frame``, if it ran already.
        """
        if unseen is None:
            unseen = {name: _codes(frame[name], levels)[1] for name, levels in self.categorical.items()}
        ignored = [c for c in frame.columns if c not in set(self.columns) | set(keep)]
        return {"ignored_columns": ignored, **count_unseen(unseen)}


def _cut(levels: Any, shown: int = 8) -> str:
    levels = list(levels)
    return str(levels[:shown])[:-1] + (f", ... ({len(levels)} in all)]" if len(levels) > shown else "]")


def _difference(recorded: list[str], manifest: list[str]) -> str:
    """Say briefly how two feature lists differ: names, count or only order."""
    only_file, only_manifest = sorted(set(recorded) - set(manifest)), sorted(set(manifest) - set(recorded))
    if only_file or only_manifest:
        return f"only in the model file: {only_file}, only in the manifest: {only_manifest}"
    if len(recorded) != len(manifest):
        return f"{len(recorded)} features in the model file, {len(manifest)} in the manifest"
    return "same names, another order"


# What pandas' infer_dtype says of an object column: plain values pass at C speed, dates are refused, anything
# else (a mix) is looked at value by value.
_OBJECT_PLAIN = {"string", "integer", "floating", "boolean", "empty", "mixed-integer-float", "decimal"}
_OBJECT_DATES = {"datetime", "datetime64", "date", "time", "timedelta", "timedelta64", "period", "interval"}


def check_feature_type(column: pd.Series, name: str, kind: str, what: str = "input") -> None:
    """BadData unless ``column`` can be a feature of ``kind``: numbers or booleans for a numeric feature, text
    (or integer codes) for a categorical one. Dates, durations, complex numbers, periods, intervals and nested
    values are refused by name, never coerced (a date would become nanoseconds since 1970)."""
    import pandas as pd

    dtype = column.dtype
    if isinstance(dtype, pd.ArrowDtype):  # an Arrow-backed column: judged by its Arrow type, as a file's is
        check_declared_type(dtype.pyarrow_dtype, name, kind, what)
    if isinstance(dtype, pd.CategoricalDtype):  # a categorical of dates is dates: judge what its levels hold
        check_feature_type(pd.Series(dtype.categories), name, kind, what)
        return
    refused = (
        "a date/time"
        if pd.api.types.is_datetime64_any_dtype(dtype)
        else "a duration"
        if pd.api.types.is_timedelta64_dtype(dtype)
        else "complex numbers"
        if pd.api.types.is_complex_dtype(dtype)
        else "periods or intervals"
        if isinstance(dtype, (pd.PeriodDtype, pd.IntervalDtype))
        else None
    )
    inferred = pd.api.types.infer_dtype(column, skipna=True) if refused is None and dtype.kind == "O" else None
    if inferred in _OBJECT_DATES:
        refused = f"{inferred} values"
    elif inferred is not None and inferred not in _OBJECT_PLAIN:  # a mix: look at what each value is
        kinds = {kind.__name__ for kind in set(map(type, column.dropna().to_numpy()))}
        nested = kinds & {"dict", "list", "tuple", "set", "ndarray", "bytes"}
        dated = kinds & {"Timestamp", "datetime", "date", "time", "Timedelta", "timedelta"}
        refused = f"{sorted(nested)[0]} values" if nested else f"{sorted(dated)[0]} values" if dated else None
    if refused is not None:
        _refuse_type(what, name, refused, dtype, kind)


def check_declared_type(dtype: pa.DataType, name: str, kind: str, what: str = "input") -> None:
    """BadData if a file declares column ``name`` with an Arrow type no feature of ``kind`` takes: dates, times,
    durations, intervals, nested and binary values. Each is refused by ``check_feature_type`` once read too, so
    a check of the declared types (a dry run, a folder's every file before any row is read) refuses nothing
    that reading would accept."""
    import pyarrow as pa

    while isinstance(dtype, (pa.DictionaryType, pa.ExtensionType)):
        dtype = dtype.value_type if isinstance(dtype, pa.DictionaryType) else dtype.storage_type
    types = pa.types
    refused = (
        "a duration"
        if types.is_duration(dtype)
        else "a date/time"
        if types.is_temporal(dtype)
        else "nested values"
        if types.is_nested(dtype)
        else "binary values"
        if types.is_binary(dtype) or types.is_large_binary(dtype) or types.is_fixed_size_binary(dtype)
        else None
    )
    if refused is not None:
        _refuse_type(what, name, refused, dtype, kind)


def _refuse_type(what: str, name: str, refused: str, dtype: Any, kind: str) -> None:
    expected = "numbers or booleans" if kind == NUMERIC else "text or integer codes"
    msg = f"{what}: column {name!r} holds {refused} ({dtype}); a {kind} feature takes {expected}"
    raise BadData(msg)


def _levels(values: Any) -> tuple[str, ...]:
    """A categorical's levels from a manifest: a list of distinct texts, or ValueError."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"levels must be a list of texts, got {str(values)[:80]}")
    if len(set(values)) != len(values):
        raise ValueError(f"levels must be distinct, got {_cut(values)}")
    return tuple(values)


SCORING_FIX = "check the input, or raise --max_unseen to score them as missing"


def judge_unseen(
    report: dict[str, Any], rows: int, max_unseen: float, what: str = "rows", fix: str = SCORING_FIX
) -> None:
    """BadData if more than ``max_unseen`` of the rows (``what``) carry categories never seen in training."""
    share = report["rows_with_unseen_levels"] / rows if rows else 0.0
    if share > max_unseen:
        counts = ", ".join(f"{k}: {v}" for k, v in report["unseen_levels"].items())
        msg = (
            f"{share:.1%} of {what} have categories never seen in training ({counts}), above --max_unseen="
            f"{max_unseen:g}; {fix}"
        )
        raise BadData(msg)


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


def require_columns(frame: Any, names: list[str], what: str, hints: Mapping[str, str] | None = None) -> None:
    """Raise BadData naming the columns of ``names`` that ``frame`` lacks (and near misses in case); ``hints`` adds
    what to do about a missing column (the model class attribute that names it)."""
    columns = getattr(frame, "columns", None)
    if columns is None:
        msg = f"{what} must be a table (a pandas DataFrame or a Parquet/CSV path); got {type(frame).__name__}"
        raise BadData(msg)
    have = [str(c) for c in columns]
    duplicated = sorted(name for name, count in collections.Counter(have).items() if count > 1)
    if duplicated:
        msg = f"{what} has duplicate column name(s) {', '.join(map(shown, duplicated[:12]))}; names must be unique"
        raise BadData(msg)
    missing = [name for name in names if name not in set(have)]
    if missing:
        by_case = {c.lower(): c for c in have}
        named = [
            f"{name!r} (found {shown(by_case[name.lower()])}: names are case-sensitive)"
            if name.lower() in by_case
            else repr(name)
            for name in missing
        ]
        has = ", ".join(map(shown, have[:12])) + (", ..." if len(have) > 12 else "")
        msg = f"{what} lacks required column(s) {', '.join(named)}; it has: {has}"
        told = [hints[name] for name in missing if hints and name in hints]
        raise BadData("; ".join([msg, *told]))
