"""The quality gate of ``train --promote``: whether a new version may take an alias, judged on its held-out rows.

Two kinds of condition, each optional:

- absolute (``--gate="auc>=0.75,log_loss<=0.5"``): each metric, measured on the held-out rows, against a bound;
- relative (``--against=champion``): the version the alias names now is measured on the same held-out rows, and
  a paired bootstrap (:mod:`shared.training.bootstrap`) gives the difference's interval. The new version is refused only
  when the whole interval lies on the worse side of ``--tolerance``: so noise alone neither blocks a model as
  good as the holder (that happens in about 2.5% of fair comparisons at 95%) nor lets a clearly worse one
  through.

The verdict, with every number it was reached by, is recorded in the new version's manifest and in the alias
event, and it is the result's ``gate``: a retried run reads it back instead of judging again.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.errors import BadArgument

if TYPE_CHECKING:
    from shared.families.model import Model

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_CONDITION = re.compile(
    r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*", re.ASCII
)
MIN_COMPARED_ROWS = 100  # fewer held-out rows give an interval so wide that "not shown worse" says nothing


def check_conditions(text: str) -> str:
    """A parameter check for ``--gate``: ValueError unless it is METRIC>=NUMBER conditions, comma-separated."""
    parse(text)
    return text


def parse(text: str) -> list[tuple[str, str, float]]:
    """``"auc>=0.75, log_loss<0.5"`` -> [("auc", ">=", 0.75), ("log_loss", "<", 0.5)]."""
    conditions, parts = [], text.split(",")
    for part in parts:
        found = _CONDITION.fullmatch(part)
        if found is None:
            which = f" ({part.strip()!r} is none)" if len(parts) > 1 else ""
            raise ValueError(f"must be conditions like auc>=0.75 (>=, <=, > or <), comma-separated{which}")
        bound = float(found.group(3))
        if not math.isfinite(bound):
            raise ValueError(f"must hold finite bounds; {found.group(3)} is too large to be one")
        conditions.append((found.group(1), found.group(2), bound))
    return conditions


def canonical(text: str | None) -> str | None:
    """``--gate`` as the verdict records it, one way for one meaning: ``" auc >= .75"`` -> ``"auc>=0.75"``."""
    return None if text is None else ",".join(f"{name}{op}{bound!r}" for name, op, bound in parse(text))


def metric_named(model: Model, name: str, flag: str) -> Callable[..., Any]:
    """The model's metric called ``name``; BadArgument naming the flag and the metrics there are."""
    by_name = {metric.__name__: metric for metric in model.metrics}
    if name not in by_name:
        msg = f"{flag}: {model.name} has no metric {name!r}; its metrics are {', '.join(by_name) or 'none'}"
        raise BadArgument(msg)
    return by_name[name]


def check(model: Model, gate: str | None, against_metric: str | None) -> Callable[..., Any] | None:
    """BadArgument, before any work, for a gate on metrics the model does not have or that are no one number;
    return the metric ``--against`` compares by (``against_metric``, else the model's first), or None."""
    for name, _, _ in parse(gate) if gate else []:
        if metric_named(model, name, "--gate").__name__ == "segment_sizes":
            raise BadArgument(f"--gate: {name} is a count per segment, not one number to hold to a bound")
    if not model.metrics:
        return None
    metric = metric_named(model, against_metric, "--against_metric") if against_metric else model.metrics[0]
    if getattr(metric, "better", None) not in ("higher", "lower"):
        comparable = [m.__name__ for m in model.metrics if getattr(m, "better", None) in ("higher", "lower")]
        msg = (
            f"--against_metric={metric.__name__}: {model.name}'s {metric.__name__} does not say whether higher or "
            f"lower is better, so two versions cannot be compared by it; choose one of {', '.join(comparable)}"
        )
        raise BadArgument(msg)
    return metric


def verdict(
    config: dict[str, Any],
    measured: dict[str, Any],
    comparison: dict[str, Any] | None,
    holder: dict[str, Any] | None,
) -> dict[str, Any]:
    """The gate's verdict: each condition and the comparison with the holder, what failed, and the config."""
    conditions, reasons = [], []
    for name, op, bound in parse(config["gate"]) if config["gate"] else []:
        value = measured[name]
        passed = OPERATORS[op](value, bound)
        conditions.append({"condition": f"{name}{op}{bound!r}", "value": value, "passed": passed})
        if not passed:
            reasons.append(f"{name} is {value:.6g} on the held-out rows, and --gate wants {name}{op}{bound!r}")
    against = None
    if config["against"] is not None:
        against = {"of": config["against"], **(holder or {"version": None})}
        if comparison is None:
            against |= {"passed": True, "note": "the alias was never set: there is nothing to compare against"}
        elif comparison["rows"] < MIN_COMPARED_ROWS:
            against |= {**comparison, "tolerance": config["tolerance"], "passed": False}
            reasons.append(
                f"only {comparison['rows']} held-out rows to compare with {config['against']} on: too few to tell a "
                f"worse version from a better one (at least {MIN_COMPARED_ROWS}); hold out more rows"
            )
        else:
            tolerance = config["tolerance"]
            low, high = comparison["interval"]
            passed = high >= -tolerance if comparison["better"] == "higher" else low <= tolerance
            against |= {**comparison, "tolerance": tolerance, "passed": passed}
            if not passed:
                reasons.append(
                    f"{comparison['metric']} is {comparison['new']:.6g} against {comparison['holder']:.6g} for "
                    f"{config['against']} ({against['version']}) on the same {comparison['rows']} held-out rows: "
                    f"worse by more than --tolerance={tolerance:g} ({comparison['confidence']:.0%} interval of the "
                    f"difference {low:+.4g} to {high:+.4g})"
                )
    return {
        "alias": config["promote"],
        "passed": not reasons,
        "conditions": conditions,
        "against": against,
        "reasons": reasons,
        "config": config,
    }


def summary(verdict: dict[str, Any]) -> str:
    """One line for the alias event's reason: what the gate checked and by how much it passed."""
    parts = [f"{c['condition']} ({c['value']:.6g})" for c in verdict["conditions"]]
    against = verdict["against"]
    if against and "difference" in against:
        low, high = against["interval"]
        parts.append(
            f"{against['metric']} {against['difference']:+.4g} against {against['of']} ({against['version']}), "
            f"{against['confidence']:.0%} interval {low:+.4g} to {high:+.4g}, tolerance {against['tolerance']:g}"
        )
    elif against:
        parts.append(f"{against['of']} was never set")
    return "train --promote: gate passed" + (f": {'; '.join(parts)}" if parts else " (no conditions)")
