"""Binding: how a command function becomes a validated method of every model class.

For each model class and command, :func:`wrap` builds the method Fire and Python callers see: it binds the
arguments, refuses unknown names, takes each value from the argument, the environment, the config file or the
default (:mod:`shared.settings`), validates it against its annotation, refuses a result file that would land on
what the command reads or writes, and only then runs the command. Its ``__signature__`` and docstring list
every parameter with its type, bounds and environment variable: that is the command's help.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared import params, settings
from shared.errors import BadArgument
from shared.params import Spec

if TYPE_CHECKING:
    from shared.base import Model

IMPL = "__modelfleet_command__"  # the attribute of a wrapped method that holds the command's own function


def command_specs(cls: type[Model], command: str) -> list[Spec]:
    """Return the parameters of ``cls``'s command: its signature's, plus the hyperparameters for train."""
    impl = getattr(getattr(cls, command), IMPL, getattr(cls, command))
    specs = params.signature_specs(impl)
    return specs + params.hyperparameters(cls.Params) if command == "train" else specs


def constructor_specs(cls: type[Model]) -> list[Spec]:
    """Return the parameters every command of ``cls`` accepts through the constructor (store, config, dry_run)."""
    return params.signature_specs(cls.__init__)


def wrap(cls: type[Model], command: str) -> Callable[..., dict[str, Any]]:
    """Wrap a command implementation for ``cls``: resolve and validate parameters, then run it.

    The wrapper's ``__signature__`` and docstring list every parameter (for train, every hyperparameter)
    with its type, bounds and environment variable, which is what Fire shows as the command's help.
    """
    impl = getattr(getattr(cls, command), IMPL, getattr(cls, command))
    specs = command_specs(cls, command)
    names = {spec.name for spec in specs}
    signature = inspect.signature(impl)

    def run(self: Model, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            bound = signature.bind_partial(self, *args, **kwargs).arguments
        except TypeError as exc:
            msg = f"'{self.name} {command}': {exc}"
            raise BadArgument(msg) from None
        given = {k: v for k, v in bound.items() if k != "self" and k != "hyperparameters"}
        given.update(bound.get("hyperparameters", {}))
        unknown = sorted(set(given) - names)
        if unknown:
            msg = f"'{self.name} {command}' has no parameter {unknown[0]!r}; it takes: {', '.join(sorted(names))}"
            raise BadArgument(msg)
        values = {name: value for name, (value, _) in settings.resolve(self, command, specs, given).items()}
        _refuse_result_collisions(self, values)
        return impl(self, **values)

    first = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    shown = [
        inspect.Parameter(
            spec.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None if spec.required else spec.default,
            annotation=params.display_annotation(spec),
        )
        for spec in specs
    ]
    run.__signature__ = inspect.Signature(first + shown)
    doc = inspect.getdoc(impl) or ""
    summary = doc.split("\n\nArgs:", 1)[0]
    lines = [f"    {spec.name}: {params.help_line(spec, cls.name, command)}" for spec in specs]
    run.__doc__ = summary + ("\n\nArgs:\n" + "\n".join(lines) if lines else "")
    run.__name__, run.__qualname__, run.__module__ = command, f"{cls.__qualname__}.{command}", cls.__module__
    setattr(run, IMPL, impl)
    return run


def _refuse_result_collisions(model: Model, values: dict[str, Any]) -> None:
    """Refuse a result file that would replace the command's input, an output or the store."""
    from shared import results
    from shared.store import store_url

    places = {f"--{name}": values.get(name) for name in ("data", "output", "holdout_output")}
    places["the store"] = store_url(model._store_url or None)
    places["--config"] = model._config_path
    results.refuse_collisions({what: place for what, place in places.items() if isinstance(place, (str, os.PathLike))})
