"""``describe``: what a model declares, its stored versions, and each parameter's value and where it comes from."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Literal

from shared.contract import params
from shared.plumbing import settings
from shared.plumbing.binding import command_specs
from shared.storage import signing
from shared.tables.inputs import is_frame

if TYPE_CHECKING:
    from shared.families.model import Model


def describe(model: Model, *, format: Literal["json", "text"] = "json") -> dict[str, Any]:
    """Show the model's features, metrics, stored versions, and each parameter's value and its source.

    Args:
        format: json: one JSON object on stdout, everything, for machines (the default). text: a short view for
            people: each stored version with when it was trained, its rows, metrics, the aliases pointing at it
            and its signature; the result file still gets the JSON object.
    """
    from shared.storage.store import Store

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
    found = {
        "model": model.name,
        "summary": summary(type(model)),
        "label": model.label,
        "positive_label": getattr(model, "positive_label", None),
        "id_column": model.id_column,
        "features": {"numeric": list(model.numeric), "categorical": list(model.categorical)},
        "prediction": model.prediction,
        **({"classes": list(model.classes), "outputs": [n for n, _ in model._outputs()]} if model.classes else {}),
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
    if format == "text":
        return View(_text(found, versions, _aliases_by_version(store, model.name)), found)  # type: ignore[return-value]
    return found


class View(str):
    """A result for people: printed as it is; ``data`` is the JSON object it shows (the result file gets that)."""

    data: dict[str, Any]

    def __new__(cls, text: str, data: dict[str, Any]) -> View:
        view = super().__new__(cls, text)
        view.data = data
        return view


def _aliases_by_version(store: Any, name: str) -> dict[str, list[str]]:
    """Each version's aliases, as they point now."""
    from shared.storage import aliases

    pointed: dict[str, list[str]] = {}
    for alias in store.alias_names(name):
        event = aliases.current(store, name, alias)
        if event is not None and event.get("version"):
            pointed.setdefault(event["version"], []).append(alias)
    return pointed


def _text(found: dict[str, Any], manifests: list[dict[str, Any]], pointed: dict[str, list[str]]) -> str:
    """The ``--format=text`` view: the model in a few lines, then a table of its versions, newest first."""
    features = found["features"]
    lines = [
        f"{found['model']}: {found['summary']}",
        f"  label {found['label']!r}, id {found['id_column']!r}, prediction {found['prediction']!r}; "
        f"{len(features['numeric'])} numeric and {len(features['categorical'])} categorical features",
        f"  store {found['store']}",
        "",
    ]
    if not manifests:
        lines.append("no stored versions yet: train one with 'modelfleet MODEL train'")
    else:
        metrics = list(dict.fromkeys(key for m in manifests for key in m.get("metrics", {})))
        header = ["VERSION", "TRAINED (UTC)", "ROWS", *(name.upper() for name in metrics), "ALIASES", "SIGNATURE"]
        rows = [header]
        for m in reversed(manifests):
            names = [*pointed.get(m["version"], []), *(["latest"] if m["version"] == found["latest"] else [])]
            rows.append(
                [
                    m["version"],
                    _when(m.get("committed_at")),
                    _rows(m),
                    *(_number(m.get("metrics", {}).get(name)) for name in metrics),
                    ", ".join(names) or "-",
                    _signature(signing.stated(m)),
                ]
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines += [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
        ]
    for bad in found["unreadable_versions"]:
        lines.append(f"unreadable: {bad['version']}: {bad['error']}")
    lines += ["", f"every parameter, its value and where it comes from: modelfleet {found['model']} describe"]
    return "\n".join(lines)


def _when(stamp: Any) -> str:
    return str(stamp)[:16].replace("T", " ") if stamp else "-"


def _rows(manifest: dict[str, Any]) -> str:
    """Rows trained on: fit+valid (and whether they were the embedded sample)."""
    rows = manifest.get("rows")
    text = "+".join(str(n) for n in rows.values()) if isinstance(rows, dict) else str(rows or "-")
    return f"{text} (sample)" if manifest.get("trained_on_sample") else text


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def _signature(state: dict[str, Any]) -> str:
    if not state["signed"]:
        return "unsigned"
    return f"verified ({state['key']})" if state["verified"] else f"signed ({state['key']}), not checked"


def summary(obj: Any) -> str:
    """The first line of a docstring: a model's or a command's one-line help."""
    return inspect.cleandoc(obj.__doc__ or "").split("\n", 1)[0]


def _shown_value(value: Any) -> Any:
    return "<DataFrame>" if is_frame(value) else params.plain_default(value)
