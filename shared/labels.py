"""The label column: taken from a frame and checked before anything is fit or measured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.errors import BadData, shown

if TYPE_CHECKING:
    import pandas as pd

    from shared.model import Model


def target(model: Model, frame: pd.DataFrame, what: str) -> pd.Series | None:
    """The label column of ``frame`` (None for an unsupervised model); BadData if it is missing, has missing
    values, or is not what the model can learn (its ``_check_target``)."""
    from shared.schema import require_columns

    if model.label is None:
        return None
    require_columns(frame, [model.label], what)
    values = frame[model.label]
    if values.isna().any():
        msg = f"{what}: label column {model.label!r} has {int(values.isna().sum())} missing value(s)"
        raise BadData(msg)
    model._check_target(values, what)
    return values


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
