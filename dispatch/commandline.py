"""Command lines to typed calls and back: ``parse(argv)`` and ``argv(model, command, **params)``.

Every value is parsed by its parameter's annotation (see :mod:`shared.contract.params`), never by Fire's literal
guess, and everything is checked before any work starts. ``argv`` is the inverse of ``parse``: for any
valid call, ``parse(argv(model, command, **params))`` gives back the same typed values.

The models, commands and flags come from a :class:`Catalog`: the models installed here (``parse`` and ``argv``
use those), or the manifest of an image (``Catalog.from_manifest(path)``, written by ``modelfleet manifest``),
which checks a call exactly as the image would without any model installed: what an Airflow environment needs.
"""

import inspect
import json
import os
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from dispatch import registry
from shared import __version__
from shared.contract import annotations
from shared.contract.params import Spec
from shared.errors import ConfigError, UsageError
from shared.plumbing.binding import command_specs, constructor_specs

MANIFEST = "manifest"
MANIFEST_FORMAT = 1  # the form of ``modelfleet manifest``'s document that Catalog.from_manifest reads
NEW = "new"  # ``modelfleet new NAME``: see dispatch.scaffold
_SECRET_WORDS = {"secret", "password", "passwd", "token", "credential", "credentials", "apikey"}
_SECRET_PAIRS = re.compile(r"(^|_)(api|access|private|secret|session)_key(_|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Call:
    """A parsed command line: which model, which command, and typed values for the flags given."""

    model: str
    command: str
    values: dict[str, Any]


def specs_for(cls: type, command: str) -> dict[str, Spec]:
    """Every flag ``MODEL COMMAND`` takes: the command's parameters and the model's constructor flags."""
    return {spec.name: spec for spec in [*constructor_specs(cls), *command_specs(cls, command)]}


class Catalog:
    """The models, their commands and each command's flags: what ``parse`` and ``argv`` check a call against.

    ``Catalog.installed()`` reads the models installed here (the image's command line does);
    ``Catalog.from_manifest(path)`` reads an image's ``modelfleet manifest``, so that a DAG is checked with no model
    installed beside it. Both give the same answers and the same messages for the same models.
    """

    @staticmethod
    def installed() -> "Catalog":
        """The models installed in this environment (the registry's entry points)."""
        return _Installed()

    @staticmethod
    def from_manifest(path: "str | os.PathLike[str]") -> "Catalog":
        """The models of the image whose ``modelfleet manifest`` output is at ``path``; ConfigError (78), naming
        the path, if it is missing, no manifest, of another modelfleet version, or carries a parameter this
        modelfleet cannot check exactly."""
        path = os.path.abspath(os.fspath(path))
        try:
            stat = os.stat(path)
        except OSError as exc:
            msg = f"the manifest {path} cannot be read ({exc.strerror}); {_WRITE.format(path=path)}"
            raise ConfigError(msg) from None
        return _manifest(path, stat.st_mtime_ns, stat.st_size)

    def commands(self, model: str) -> tuple[str, ...]:
        """The commands of ``model``; UsageError for an unknown model (with the closest name)."""
        raise NotImplementedError

    def specs(self, model: str, command: str) -> dict[str, Spec]:
        """Every flag ``model command`` takes; UsageError for an unknown model or command."""
        commands = self.commands(model)
        if command not in commands:
            raise UsageError(registry.unknown(f"command for {model!r}:", command, list(commands)))
        return self._specs(model, command)

    def _specs(self, model: str, command: str) -> dict[str, Spec]:
        raise NotImplementedError

    def parse(self, args: list[str]) -> Call:
        """Parse ``MODEL COMMAND [--flag=value ...]`` into a Call; UsageError or BadArgument if anything is off."""
        if not args or args[0].startswith("-"):
            given = repr(args[0]) if args else "nothing"
            msg = f"expected a model name first, got {given}; usage: modelfleet MODEL COMMAND [--flag=value ...]"
            raise UsageError(msg)
        model = args[0]
        commands = self.commands(model)
        if len(args) < 2 or args[1].startswith("-"):
            msg = f"missing command for {model!r}; choose from: {', '.join(commands)}"
            raise UsageError(msg)
        command = args[1]
        specs = self.specs(model, command)
        where = f"{model} {command}"
        values: dict[str, Any] = {}
        for token in spaced_values(args[2:], specs):
            name, text = split_flag(token, where, specs)
            spec = specs[name]
            if name in values:
                msg = f"flag --{name} given more than once for '{where}'; give it once"
                raise UsageError(msg)
            values[name] = spec.from_text(text)
        return Call(model, command, values)

    def argv(self, model: str, command: str, **params: Any) -> list[str]:
        """Return the argument list that makes the image run ``model command`` with ``params`` (see :func:`argv`)."""
        specs = self.specs(model, command)
        tokens = [model, command]
        for name, value in params.items():
            spec = _known(name, f"{model} {command}", specs)
            value = spec.from_python(value, f"--{name}")
            text = spec.to_text(value)
            if text is None:
                tokens.append(f"--{name}" if value else f"--no{name}")
            else:
                tokens.append(f"--{name}={text}")
        return tokens


class _Installed(Catalog):
    """The models installed here, each imported (not its dependencies) when first asked for."""

    def commands(self, model: str) -> tuple[str, ...]:
        return tuple(registry.load(model, require=False).commands)

    def _specs(self, model: str, command: str) -> dict[str, Spec]:
        return specs_for(registry.load(model, require=False), command)


class _Manifest(Catalog):
    """The models an image's manifest lists, each parameter rebuilt from its carried annotation."""

    def __init__(self, path: str, document: Any) -> None:
        self.path = path
        if not isinstance(document, dict) or not isinstance(document.get("models"), dict):
            msg = f"the manifest {path} is no modelfleet manifest (it has no 'models'); {_WRITE.format(path=path)}"
            raise ConfigError(msg)
        version, form = document.get("modelfleet"), document.get("format")
        if form != MANIFEST_FORMAT or version != __version__:
            msg = (
                f"the manifest {path} was written by modelfleet {version} (format {form}), but this environment has "
                f"modelfleet {__version__} (format {MANIFEST_FORMAT}), whose checks may differ: install the image's "
                f"modelfleet beside Airflow, or {_WRITE.format(path=path)} with an image of modelfleet {__version__}"
            )
            raise ConfigError(msg)
        self.models: dict[str, Any] = document["models"]
        self._all = {
            (model, command): self._rebuild(model, command, entry)
            for model in self.models
            for command, entry in self._entry(model).get("commands", {}).items()
        }

    def commands(self, model: str) -> tuple[str, ...]:
        if model not in self.models:
            raise UsageError(registry.unknown("model", model, sorted(self.models)))
        entry = self._entry(model)
        if "error" in entry:
            raise ConfigError(f"{entry['error']} (in the image the manifest {self.path} describes)")
        if entry.get("available") is False:
            msg = (
                f"model {model!r} is not installed in the image the manifest {self.path} describes; build the image "
                f"with it ({entry.get('install', f'its extra {model}')})"
            )
            raise ConfigError(msg)
        return tuple(entry.get("commands", {}))

    def _specs(self, model: str, command: str) -> dict[str, Spec]:
        return self._all[(model, command)]

    def _entry(self, model: str) -> dict[str, Any]:
        entry = self.models[model]
        if not isinstance(entry, dict):
            msg = f"the manifest {self.path} is corrupt: model {model!r} is {entry!r}; {_WRITE.format(path=self.path)}"
            raise ConfigError(msg)
        return entry

    def _rebuild(self, model: str, command: str, entry: Any) -> dict[str, Spec]:
        specs = {}
        for name, described in (entry.get("parameters", {}) if isinstance(entry, dict) else {}).items():
            try:
                annotation = annotations.decode(described["annotation"])
                default = described.get("default", inspect.Parameter.empty)
                specs[name] = Spec(name, annotation, default, described.get("help", ""))
            except (annotations.Uncarried, KeyError, TypeError, AttributeError) as exc:
                why = str(exc) if isinstance(exc, annotations.Uncarried) else f"no annotation ({exc!r})"
                msg = f"the manifest {self.path}: --{name} of '{model} {command}' carries {why}; "
                raise ConfigError(msg + _WRITE.format(path=self.path)) from None
        return specs


_WRITE = "write it from the image with: modelfleet manifest > {path}"


@cache
def _manifest(path: str, mtime_ns: int, size: int) -> Catalog:
    """One manifest file, read once per version of it (a DAG file calls pod_task many times)."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as exc:
        msg = f"the manifest {path} cannot be read ({exc.strerror}); {_WRITE.format(path=path)}"
        raise ConfigError(msg) from None
    except ValueError as exc:
        msg = f"the manifest {path} is not valid JSON ({exc}); {_WRITE.format(path=path)}"
        raise ConfigError(msg) from None
    return _Manifest(path, document)


def parse(args: list[str]) -> Call:
    """Parse ``MODEL COMMAND [--flag=value ...]`` into a Call; UsageError or BadArgument if anything is off."""
    return _Installed().parse(args)


def argv(model: str, command: str, **params: Any) -> list[str]:
    """Return the argument list that makes the image run ``model command`` with ``params``.

    The values are validated against the command's signature now, so a DAG fails when it is parsed, not
    when its task runs, and are written so that they parse back unchanged (a string '007' stays '007').

    >>> argv("churn", "train", n_estimators=300, run_id="20241010")
    ['churn', 'train', '--n_estimators=300', '--run_id=20241010']
    """
    return _Installed().argv(model, command, **params)


def short_flags(specs: dict[str, Spec]) -> dict[str, str]:
    """The one-letter aliases Fire's help shows: ``-l`` for a flag that alone starts with ``l``."""
    initials = [name[0] for name in specs]
    return {name[0]: name for name in specs if initials.count(name[0]) == 1}


def spaced_values(tokens: list[str], specs: dict[str, Spec]) -> list[str]:
    """``--name value`` (or ``-n value``) joined into ``--name=value`` for a known flag that takes a value.

    A bool flag never takes the next token; nor does any flag take one that starts with ``--``, or with ``-``
    unless it is a number (``--x -1``). Everything else is left for :func:`split_flag` to judge.
    """
    joined: list[str] = []
    position = 0
    while position < len(tokens):
        token = tokens[position]
        name = token[2:] if token.startswith("--") else short_flags(specs).get(token[1:], "")
        spec = specs.get(name.replace("-", "_")) if token.startswith("-") and "=" not in token else None
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        if spec is not None and not spec.flag and following is not None and _is_value(following):
            joined.append(f"--{spec.name}={following}")
            position += 2
        else:
            joined.append(token)
            position += 1
    return joined


def _is_value(token: str) -> bool:
    """Whether a token can be a flag's value: no flag (``-...``), unless it is a negative number."""
    if not token.startswith("-"):
        return True
    try:
        float(token)
    except ValueError:
        return False
    return True


def split_flag(token: str, where: str, specs: dict[str, Spec]) -> tuple[str, str | bool]:
    """Split ``--name=value``, ``--name``, ``--noname`` or ``-n=value`` into the name and its text (or a bool)."""
    short, _, rest = token[1:].partition("=")
    if token.startswith("-") and not token.startswith("--") and short in short_flags(specs):
        token = f"--{short_flags(specs)[short]}" + (f"={rest}" if "=" in token else "")
    if not token.startswith("--") or token == "--":  # noqa: S105 - a command-line token, not a password
        msg = f"unexpected argument {token!r} for '{where}': give every value as --name=value"
        raise UsageError(msg)
    name, has_value, text = token[2:].partition("=")
    name = name.replace("-", "_")
    if has_value:
        return _known(name, where, specs).name, text
    negated = name[2:].lstrip("_")  # --noflag, --no_flag, --no-flag
    if name not in specs and name.startswith("no") and negated in specs and specs[negated].flag:
        return negated, False
    spec = _known(name, where, specs)
    if not spec.flag:
        msg = f"--{name} needs a value: --{name}=VALUE ({spec.type_name()})"
        raise UsageError(msg)
    return name, True


def _known(name: str, where: str, specs: dict[str, Spec]) -> Spec:
    if _SECRET_WORDS & set(name.lower().split("_")) or _SECRET_PAIRS.search(name):
        msg = (
            f"--{name} looks like a secret; secrets are never taken as flags (they would show in process lists "
            "and logs): set it in the environment or a mounted file instead"
        )
        raise UsageError(msg)
    if name not in specs:
        raise UsageError(registry.unknown(f"flag for '{where}':", f"--{name}", [f"--{n}" for n in specs]))
    return specs[name]
