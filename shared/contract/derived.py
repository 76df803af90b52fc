"""Derived features: a model's pure function from input columns to feature columns, applied the same way in
``train``, ``evaluate`` and ``score`` (a whole frame, or batch by batch and shard by shard), so that training
and scoring can never compute a feature differently.

A model declares the features it derives (``derived``, named in ``numeric``/``categorical`` like any other),
the input columns they are computed from (``derived_from``), and ``_derive(rows)``: a function of a batch of
input rows that returns those features as a DataFrame, row for row. It must not depend on the other rows of
its batch (no means, ranks or lags across rows): the conformance suite checks that streamed scoring in small
batches gives exactly the whole-frame predictions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from shared.errors import BadData, ModelDefinitionError

if TYPE_CHECKING:
    import pandas as pd

    from shared.families.model import Model


def inputs_of(model: Model | type[Model], columns: Iterable[str]) -> list[str]:
    """The input columns that ``columns`` need: a derived feature is replaced by the columns it is derived from."""
    derived = set(getattr(model, "derived", ()))
    needed: list[str] = []
    for name in columns:
        for column in getattr(model, "derived_from", ()) if name in derived else (name,):
            if column not in needed:
                needed.append(column)
    return needed


def raw(model: Model | type[Model], columns: Iterable[str]) -> list[str]:
    """``columns`` without the derived features (what an input file declares)."""
    derived = set(getattr(model, "derived", ()))
    return [name for name in columns if name not in derived]


def apply(model: Model, frame: pd.DataFrame, what: str = "input") -> pd.DataFrame:
    """``frame`` with the model's derived features added (a new frame: the caller's is never changed)."""
    names = tuple(getattr(model, "derived", ()))
    if not names:
        return frame
    import pandas as pd

    try:
        out = model._derive(frame[list(model.derived_from)].copy())
    except (KeyError, ValueError, TypeError, ArithmeticError) as exc:
        msg = f"{what}: the derived features {list(names)} cannot be computed: {type(exc).__name__}: {exc}"
        raise BadData(msg) from None
    if not isinstance(out, pd.DataFrame) or list(out.columns) != list(names) or len(out) != len(frame):
        got = list(out.columns) if isinstance(out, pd.DataFrame) else type(out).__name__
        msg = (
            f"model class {type(model).__qualname__}: _derive must return a DataFrame of the columns "
            f"{list(names)}, one row per input row; it returned {got} ({len(out) if hasattr(out, '__len__') else '?'} "
            f"rows for {len(frame)})"
        )
        raise ModelDefinitionError(msg)
    out.index = frame.index
    return frame.assign(**{name: out[name] for name in names})
