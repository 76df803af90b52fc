"""``describe``: what a model declares, its stored versions, and each parameter's value and where it comes from."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from shared import params, settings, signing
from shared.binding import command_specs
from shared.inputs import is_frame

if TYPE_CHECKING:
    from shared.model import Model


def describe(model: Model) -> dict[str, Any]:
    """Show the model's features, metrics, stored versions, and each parameter's value and its source."""
    from shared.store import Store

    store = Store(model._store_url)
    versions, unreadable = store.listing(model.name)
    commands = {}
    for command in model.commands:
        specs = command_specs(type(model), command)
        values = settings.resolve(model, command, specs, {}, missing_ok=True)
        commands[command] = {
            "summary": summary(getattr(type(model), command)),
            "parameters": {
                spec.name: {
                    **spec.describe(model.name, command),
                    "value": _shown_value(values[spec.name][0]),
                    "source": values[spec.name][1],
                }
                for spec in specs
            },
        }
    return {
        "model": model.name,
        "summary": summary(type(model)),
        "label": model.label,
        "positive_label": getattr(model, "positive_label", None),
        "id_column": model.id_column,
        "features": {"numeric": list(model.numeric), "categorical": list(model.categorical)},
        "prediction": model.prediction,
        "metrics": [metric.__name__ for metric in model.metrics],
        "commands": commands,
        "store": store.url,
        "versions": [
            {
                "version": m["version"],
                "committed_at": m["committed_at"],
                "metrics": m.get("metrics", {}),
                **{key: m[key] for key in ("trained_on_sample", "split", "best_iteration", "importance") if m.get(key)},
                "signature": signing.stated(m),
            }
            for m in versions
        ],
        "latest": versions[-1]["version"] if versions else None,
        "verify_keys": signing.fingerprints(),  # none: versions are read without checking who signed them
        "unreadable_versions": [{"version": u["version"], "error": u["error"]} for u in unreadable],
    }


def summary(obj: Any) -> str:
    """The first line of a docstring: a model's or a command's one-line help."""
    return inspect.cleandoc(obj.__doc__ or "").split("\n", 1)[0]


def _shown_value(value: Any) -> Any:
    return "<DataFrame>" if is_frame(value) else params.plain_default(value)
