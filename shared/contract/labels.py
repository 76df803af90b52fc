"""The label column: taken from a frame and checked before anything is fit or measured."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.errors import BadData, shown

if TYPE_CHECKING:
    import pandas as pd

    from shared.families.model import Model


def target(model: Model, frame: pd.DataFrame, what: str) -> pd.Series | None:
    """The label column of ``frame`` (None for an unsupervised model); BadData if it is missing, has missing
    values, or is not what the model can learn (its ``_check_target``)."""
    from shared.tables.schema import require_columns

    if model.label is None:
        return None
    require_columns(frame, [model.label], what)
    values = frame[model.label]
    if values.isna().any():
        msg = f"{what}: label column {model.label!r} has {int(values.isna().sum())} missing value(s)"
        raise BadData(msg)
    values = model._label_values(values, what)
    model._check_target(values, what)
    return values


def binary(values: pd.Series, label: str | None, positive: Any, what: str) -> pd.Series:
    """A binary label as 0/1: booleans as they are (true is 1); with ``positive`` declared (for any label,
    booleans too), that value is 1 and the one other value the label holds is 0; numbers are left for the 0/1
    check. BadData, naming the values
    found, for a label that cannot be mapped so."""
    import pandas as pd

    if positive is None and (
        pd.api.types.is_bool_dtype(values.dtype) or (values.dtype == object and _all_bools(values))
    ):
        return values.astype(bool).astype("int8")
    found = sorted({shown(v) for v in values.unique()[:20]})
    if positive is None:
        if values.dtype.kind in "biuf" or pd.to_numeric(values, errors="coerce").notna().any():
            return values  # numbers (some perhaps junk): the 0/1 check names what is wrong
        msg = (
            f"{what}: label column {label!r} holds {', '.join(found[:5])}, not 0/1 or true/false; declare which "
            f"value is the positive class in the model (positive_label = ...), or store the label as 0/1"
        )
        raise BadData(msg)
    distinct = list(values.unique())
    others = [v for v in distinct if v != positive]
    if positive not in distinct:
        msg = (
            f"{what}: no row of label column {label!r} holds positive_label = {shown(positive)}; "
            f"found {', '.join(found[:5])}"
        )
        raise BadData(msg)
    if len(others) > 1:
        msg = (
            f"{what}: label column {label!r} holds {', '.join(found[:5])}; with positive_label = {shown(positive)} "
            f"that value is 1 and one other value is 0, so the label can hold two values at most"
        )
        raise BadData(msg)
    return (values == positive).astype("int8")


def classes(values: pd.Series, label: str | None, declared: tuple[Any, ...], what: str) -> pd.Series:
    """A multiclass label as class codes: each row's position in the ``declared`` classes (the model's order).
    BadData naming the values and the classes for a row holding none of them: a class training never saw
    is refused, in training data and in data to evaluate alike (it has no probability to be measured by)."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(values.dtype) or (values.dtype == object and values.map(type).eq(bool).any()):
        msg = f"{what}: label column {label!r} holds true/false; a multiclass label holds the model's classes"
        raise BadData(msg)
    codes = pd.Index(list(declared)).get_indexer(values)
    strange = values[codes < 0]
    if len(strange):
        found = sorted({shown(v) for v in strange.unique()[:20]})
        msg = (
            f"{what}: label column {label!r} holds {len(strange)} row(s) of a class the model does not declare "
            f"({', '.join(found[:5])}); its classes are {', '.join(shown(c) for c in declared)}: drop those rows, "
            f"or add the class to the model's classes and retrain"
        )
        raise BadData(msg)
    return pd.Series(codes.astype("int32"), index=values.index, name=values.name)


def _all_bools(values: pd.Series) -> bool:
    return all(isinstance(v, bool) for v in values.unique()[:3]) and set(values.unique()) <= {True, False}


def check_numeric(label: str | None, values: pd.Series, what: str) -> None:
    """BadData unless the label holds finite numbers."""
    import numpy as np

    if values.dtype.kind not in "biuf":
        import pandas as pd

        bad = values[pd.to_numeric(values, errors="coerce").isna()]  # the values that are no number
        problem = f"{len(bad)} value(s) are not, e.g. {shown(bad.iloc[0])}" if len(bad) else "it holds text"
        msg = f"{what}: label column {label!r} must be numeric; {problem}"
        if not len(bad):
            msg += f" (e.g. {shown(values.iloc[0])}); store the label as numbers"
        raise BadData(msg)
    infinite = ~np.isfinite(values.to_numpy(dtype="float64"))
    if infinite.any():
        msg = f"{what}: label column {label!r} has {int(infinite.sum())} infinite value(s); labels are finite"
        raise BadData(msg)


def check_varied(label: str | None, fit_target: pd.Series | None) -> None:
    """BadData if the label has one value in all the rows to fit: a model would learn nothing."""
    if fit_target is not None and fit_target.nunique() < 2:
        msg = (
            f"training data: label column {label!r} has the one value {fit_target.iloc[0]!r} in all "
            f"{len(fit_target)} rows to fit; a model would learn nothing"
        )
        raise BadData(msg)
