"""Hyperparameters declared as data: a frozen dataclass per model family, one ``param(...)`` per field.

A field's type, default, help line and bounds live in one place. The CLI shows them as flags, the store
records them, and :func:`validate` checks values passed from Python or from the command line.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from shared.errors import BadArgument

_META = "modelfleet"


@dataclass(frozen=True)
class Param:
    """What the CLI and the checks know about one hyperparameter."""

    help: str
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def bounds(self) -> str:
        """Return the constraint as people read it, for example ``in (0, 1]`` or ``>= 1``."""
        low = f"({self.gt:g}" if self.gt is not None else f"[{self.ge:g}" if self.ge is not None else None
        high = f"{self.lt:g})" if self.lt is not None else f"{self.le:g}]" if self.le is not None else None
        if low and high:
            return f"in {low}, {high}"
        if low:
            return f"{'>' if self.gt is not None else '>='} {low[1:]}"
        if high:
            return f"{'<' if self.lt is not None else '<='} {high[:-1]}"
        return ""


def param(default: Any, help: str, **bounds: float) -> Any:
    """Declare a hyperparameter field: ``n_estimators: int = param(200, "Boosting rounds.", ge=1)``."""
    return dataclasses.field(default=default, metadata={_META: Param(help, **bounds)})


def fields(params_cls: type) -> list[tuple[dataclasses.Field, Param]]:
    """Return each hyperparameter field of a params dataclass with its declaration."""
    return [(f, f.metadata.get(_META, Param(""))) for f in dataclasses.fields(params_cls)]


def validate(params_cls: type, values: dict[str, Any]) -> Any:
    """Build a params instance from ``values``, checking names, types and bounds.

    Raises BadArgument naming the parameter, what was expected and what was given.
    """
    known = {f.name: (f, p) for f, p in fields(params_cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        msg = f"unknown hyperparameter {unknown[0]!r}; expected one of: {', '.join(known)}"
        raise BadArgument(msg)
    checked = {}
    for name, value in values.items():
        field, decl = known[name]
        checked[name] = _check(name, _coerce(name, value, field.type), decl)
    return params_cls(**checked)


def _coerce(name: str, value: Any, annotation: Any) -> Any:
    kind = {"int": int, "float": float, "bool": bool, "str": str}.get(str(annotation), annotation)
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif kind is str:
        if isinstance(value, str):
            return value
    else:
        return value
    msg = f"--{name} must be {kind.__name__}; got {value!r}"
    raise BadArgument(msg)


def _check(name: str, value: Any, decl: Param) -> Any:
    ok = (
        (decl.ge is None or value >= decl.ge)
        and (decl.gt is None or value > decl.gt)
        and (decl.le is None or value <= decl.le)
        and (decl.lt is None or value < decl.lt)
    )
    if not ok:
        msg = f"--{name} must be {decl.bounds()}; got {value!r}"
        raise BadArgument(msg)
    return value
