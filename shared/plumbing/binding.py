"""Binding: how a command function becomes a validated method of every model class.

:func:`install` puts one :class:`Command` on a model class per command it registers; the command's module is
imported when the command is first looked up (help, a call, the manifest), so that start-up imports none of
them. For each model class and command, :func:`wrap` then builds the method Fire and Python callers see: it binds the
arguments, refuses unknown names, takes each value from the argument, the environment, the config file or the
default (:mod:`shared.plumbing.settings`), validates it against its annotation, refuses a result file that would land on
what the command reads or writes, and only then runs the command. Its ``__signature__`` and docstring list
every parameter with its type, bounds and environment variable: that is the command's help.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.contract import params
from shared.contract.params import Spec
from shared.errors import BadArgument, ModelDefinitionError
from shared.plumbing import settings

if TYPE_CHECKING:
    from shared.families.model import Model

IMPL = "__modelfleet_command__"  # the attribute of a wrapped method that holds the command's own function


def command_specs(cls: type[Model], command: str) -> list[Spec]:
    """Return the parameters of ``cls``'s command: its signature's, plus the hyperparameters for train."""
    method = getattr(cls, command)
    return specs_of(cls, command, getattr(method, IMPL, method))  # not derived from Model: its plain method


def specs_of(cls: type[Model], command: str, impl: Callable[..., Any]) -> list[Spec]:
    """The parameters of ``impl`` as ``cls``'s command: those that apply to its Params, then (for train) those."""
    hyper = getattr(cls, "Params", None)
    specs = [spec for spec in params.signature_specs(impl) if params.applies(spec, hyper)]
    return specs + params.hyperparameters(hyper) if command == "train" and hyper is not None else specs


def constructor_specs(cls: type[Model]) -> list[Spec]:
    """Return the parameters every command of ``cls`` accepts through the constructor (store, config, dry_run)."""
    return params.signature_specs(cls.__init__)


class Command:
    """A model class's command: the validated method, built from the command's module on first look-up."""

    def __init__(self, name: str, module: str) -> None:
        self.name, self.module = name, module
        self._methods: dict[type, Callable[..., dict[str, Any]]] = {}

    def method(self, owner: type[Model]) -> Callable[..., dict[str, Any]]:
        """The wrapped method of ``owner`` (built once per class)."""
        if owner not in self._methods:
            self._methods[owner] = wrap(owner, self.name, self.function(owner))
        return self._methods[owner]

    def function(self, owner: type[Model]) -> Callable[..., dict[str, Any]]:
        """The command's own function, imported from its module; ModelDefinitionError if it is not there."""
        where = f"model class {owner.__qualname__}: command {self.name!r} is registered as module {self.module!r}"
        try:
            module = importlib.import_module(self.module)
        except ModuleNotFoundError as exc:
            if exc.name is None or not self.module.startswith(exc.name):
                raise  # the module exists but imports something missing: that is its own error
            msg = f"{where}, which cannot be imported ({exc}); fix the registration or add the module"
            raise ModelDefinitionError(msg) from None
        function = getattr(module, self.name, None)
        if not callable(function):
            msg = f"{where}, which has no function {self.name!r}; define it there (see shared.commands)"
            raise ModelDefinitionError(msg)
        return function

    def __get__(self, obj: Model | None, owner: type[Model]) -> Any:
        method = self.method(owner)
        return method if obj is None else method.__get__(obj, owner)


# Methods that Model had before its commands became modules: the commands never call them now, so a class that
# still defines one would be silently ignored. Each is refused, saying where that part went.
RETIRED = {
    "_input": "shared.tables.inputs.read_frame",
    "_source": "shared.tables.inputs.source",
    "_load": "shared.storage.artifacts.load",
    "_stored_schema": "shared.storage.artifacts.stored_schema",
    "_model_file": "shared.storage.artifacts.model_file",
    "_fit_held_out": "shared.training.fitting.fit_held_out",
    "_measure": "shared.training.fitting.measure",
    "_target": "shared.contract.labels.target (a model changes its label through _label_values and _check_target)",
    "_frame_of": "shared.pipelines.scoring.predictions_frame",
    "_score_frame": "shared.commands.score",
    "_default_output": "shared.commands.score (set --output)",
    "_output_target": "shared.commands.score (set --output)",
    "_check_unseen": "shared.pipelines.scoring.check_unseen",
    "_refuse_label": "shared.commands.score (a label column in scoring input is ignored and reported)",
    "_plan": "shared.pipelines.dryrun.plan",
    "_train_result": "shared.commands.train",
    "_declared_kinds": "shared.commands.train",
    "_check_csv_keeps_levels": "shared.commands.train",
}


def registered(cls: type[Model]) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The (command, module) pairs ``cls`` has and their names: all it inherits or declares in
    ``command_modules``, or, if the class body sets ``commands``, only those, in that order."""
    modules = tuple(cls.command_modules)
    if "commands" not in cls.__dict__:
        return modules, tuple(name for name, _ in modules)
    known = dict(modules)
    chosen = tuple(cls.__dict__["commands"])
    unknown = [name for name in chosen if name not in known]
    if unknown:
        msg = (
            f"model class {cls.__qualname__} lists command {unknown[0]!r} in commands, which no module registers; "
            f"its commands: {', '.join(known)} (add one to command_modules, see shared.commands)"
        )
        raise ModelDefinitionError(msg)
    return tuple((name, known[name]) for name in chosen), chosen


def refuse_overrides(cls: type[Model]) -> None:
    """ModelDefinitionError if ``cls``, or a class it inherits from (a mixin), defines a method named like one of
    its commands: it would replace the command and silently drop its parameters, environment and config; or a
    method the commands no longer call (``RETIRED``), which would be silently ignored."""
    for name, _ in cls.command_modules:
        for klass in cls.__mro__:
            own = klass.__dict__.get(name)
            if isinstance(own, Command):
                break  # a command: every class below it was checked when it was defined
            if own is not None:
                where = "defines" if klass is cls else f"inherits from {klass.__qualname__}"
                msg = (
                    f"model class {cls.__qualname__} {where} {name!r}, the name of one of its commands; a method "
                    f"there would replace the command and drop its parameters: rename it, or change what the command "
                    f"does through the hooks of shared.families.model.Model (_fit, _predict, ...)"
                )
                raise ModelDefinitionError(msg)
    for name, home in RETIRED.items():
        holder = next((klass for klass in cls.__mro__ if name in klass.__dict__), None)
        if holder is not None:
            msg = (
                f"model class {cls.__qualname__} defines {name!r} (in {holder.__qualname__}), which the commands no "
                f"longer call, so it would be silently ignored: that part is now {home}; remove it, or use the "
                f"hooks of shared.families.model.Model"
            )
            raise ModelDefinitionError(msg)


def install(cls: type[Model]) -> None:
    """Put each command ``cls`` registers on it, as a :class:`Command` (its module imported on first look-up)."""
    for name, module in cls.command_modules:
        setattr(cls, name, Command(name, module))


def wrap(cls: type[Model], command: str, impl: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
    """Wrap a command's function for ``cls``: resolve and validate parameters, then run it.

    The wrapper's ``__signature__`` and docstring list every parameter (for train, every hyperparameter)
    with its type, bounds and environment variable, which is what Fire shows as the command's help.
    """
    specs = specs_of(cls, command, impl)
    names = {spec.name for spec in specs}
    signature = inspect.signature(impl)
    first = next(iter(signature.parameters))
    extra = next((p.name for p in signature.parameters.values() if p.kind is p.VAR_KEYWORD), None)

    def run(self: Model, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if first in kwargs:  # the model itself is no parameter
            msg = f"'{self.name} {command}' has no parameter {first!r}; it takes: {', '.join(sorted(names))}"
            raise BadArgument(msg)
        try:
            bound = signature.bind_partial(self, *args, **kwargs).arguments
        except TypeError as exc:
            msg = f"'{self.name} {command}': {exc}"
            raise BadArgument(msg) from None
        given = {k: v for k, v in bound.items() if k not in (first, extra)}
        given.update(bound.get(extra, {}) if extra else {})
        unknown = sorted(set(given) - names)
        if unknown:
            msg = f"'{self.name} {command}' has no parameter {unknown[0]!r}; it takes: {', '.join(sorted(names))}"
            raise BadArgument(msg)
        values = {name: value for name, (value, _) in settings.resolve(self, command, specs, given).items()}
        _refuse_result_collisions(self, values)
        return impl(self, **values)

    self_parameter = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    shown = [
        inspect.Parameter(
            spec.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None if spec.required else spec.default,
            annotation=params.display_annotation(spec),
        )
        for spec in specs
    ]
    run.__signature__ = inspect.Signature(self_parameter + shown)  # type: ignore[attr-defined]
    doc = inspect.getdoc(impl) or ""
    summary = doc.split("\n\nArgs:", 1)[0]
    lines = [f"    {spec.name}: {params.help_line(spec, cls.name, command)}" for spec in specs]
    run.__doc__ = summary + ("\n\nArgs:\n" + "\n".join(lines) if lines else "")
    run.__name__, run.__qualname__, run.__module__ = command, f"{cls.__qualname__}.{command}", cls.__module__
    setattr(run, IMPL, impl)
    return run


def _refuse_result_collisions(model: Model, values: dict[str, Any]) -> None:
    """Refuse a result file that would replace the command's input, an output or the store."""
    from shared.storage.store import store_url
    from shared.tables import results

    places = {f"--{name}": values.get(name) for name in ("data", "output", "holdout_output", "report")}
    places["the store"] = store_url(model._store_url or None)
    places["--config"] = model._config_path
    results.refuse_collisions({what: place for what, place in places.items() if isinstance(place, (str, os.PathLike))})
