"""``modelfleet manifest``: every model, command and parameter as one JSON document, generated from the code.

Tools (a DAG's CI, an argument checker) can validate invocations from it without importing any model's
dependencies: building it imports the model classes, which import nothing heavy. Each parameter carries its
``annotation`` exactly (see :mod:`shared.contract.annotations`): :class:`dispatch.commandline.Catalog` rebuilds every
parameter from it, so that an Airflow environment with no model installed checks a DAG as the image would.
Building the manifest proves that for every parameter (ConfigError, naming it, for one that cannot be carried).
"""

import inspect
from typing import Any

from dispatch import registry
from dispatch.commandline import MANIFEST_FORMAT, specs_for
from shared import __version__, errors
from shared.contract import annotations
from shared.contract.params import Spec
from shared.plumbing.binding import constructor_specs

USAGE = "modelfleet MODEL COMMAND [--flag=value ...]"


def build() -> dict[str, Any]:
    """Return the manifest: models, their commands and each command's parameters, plus the exit codes."""
    models = {}
    for name in registry.names():
        try:
            cls = registry.load(name, require=False)
        except errors.ConfigError as exc:  # one broken registration must not hide every other model
            models[name] = {"summary": "", "available": False, "error": str(exc), "commands": {}}
            continue
        constructor = {spec.name for spec in constructor_specs(cls)}  # not read from MODELFLEET_<MODEL>_*
        missing = registry.missing_requirements(name)
        models[name] = {
            "summary": _first_line(cls),
            "available": not missing,
            "install": f"pip install 'modelfleet[{name}]'",
            "commands": {
                command: {
                    "summary": _first_line(getattr(cls, command)),
                    "parameters": {
                        n: _parameter(spec, name, command, model_wide=n not in constructor)
                        for n, spec in specs_for(cls, command).items()
                    },
                }
                for command in cls.commands
            },
        }
    return {
        "modelfleet": __version__,
        "format": MANIFEST_FORMAT,
        "usage": USAGE,
        "models": models,
        "exit_codes": exit_codes(),
    }


def _parameter(spec: Spec, model: str, command: str, *, model_wide: bool) -> dict[str, Any]:
    """What the manifest says of one parameter: its description, and its annotation exactly."""
    carried = annotations.carry(spec.annotation, f"--{spec.name} of '{model} {command}'")
    return {**spec.describe(model if model_wide else None, command), "annotation": carried}


def exit_codes() -> dict[str, str]:
    """The documented exit codes and what each means, from the exception hierarchy."""
    table = {"0": "success"}
    documented: list[Any] = [*errors.ModelfleetError.__subclasses__(), *errors.Stopped.__subclasses__()]
    for cls in sorted(documented, key=lambda c: c.exit_code):
        table[str(cls.exit_code)] = _first_line(cls).rstrip(".")
    table[str(errors.ModelfleetError.exit_code)] = "internal error: a bug; run with --debug and report it"
    return dict(sorted(table.items(), key=lambda item: int(item[0])))


def manifest() -> dict[str, Any]:
    """Print every model, command and parameter (type, default, constraints, env variable, help) as JSON."""
    return build()


def _first_line(obj: Any) -> str:
    return inspect.cleandoc(obj.__doc__ or "").split("\n", 1)[0]
