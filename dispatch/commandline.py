"""Command lines to typed calls and back: ``parse(argv)`` and ``argv(model, command, **params)``.

Every value is parsed by its parameter's annotation (see :mod:`shared.params`), never by Fire's literal
guess, and everything is checked before any work starts. ``argv`` is the inverse of ``parse``: for any
valid call, ``parse(argv(model, command, **params))`` gives back the same typed values.
"""

import re
from dataclasses import dataclass
from typing import Any

from dispatch import registry
from shared.binding import command_specs, constructor_specs
from shared.errors import UsageError
from shared.params import Spec

MANIFEST = "manifest"
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


def parse(args: list[str]) -> Call:
    """Parse ``MODEL COMMAND [--flag=value ...]`` into a Call; UsageError or BadArgument if anything is off."""
    if not args or args[0].startswith("-"):
        given = repr(args[0]) if args else "nothing"
        msg = f"expected a model name first, got {given}; usage: modelfleet MODEL COMMAND [--flag=value ...]"
        raise UsageError(msg)
    model = args[0]
    cls = registry.load(model, require=False)
    if len(args) < 2 or args[1].startswith("-"):
        msg = f"missing command for {model!r}; choose from: {', '.join(cls.commands)}"
        raise UsageError(msg)
    command = args[1]
    if command not in cls.commands:
        raise UsageError(registry.unknown(f"command for {model!r}:", command, list(cls.commands)))
    specs = specs_for(cls, command)
    where = f"{model} {command}"
    values: dict[str, Any] = {}
    for token in args[2:]:
        name, text = split_flag(token, where, specs)
        spec = specs[name]
        if name in values:
            msg = f"flag --{name} given more than once for '{where}'; give it once"
            raise UsageError(msg)
        values[name] = spec.from_text(text)
    return Call(model, command, values)


def argv(model: str, command: str, **params: Any) -> list[str]:
    """Return the argument list that makes the image run ``model command`` with ``params``.

    The values are validated against the command's signature now, so a DAG fails when it is parsed, not
    when its task runs, and are written so that they parse back unchanged (a string '007' stays '007').

    >>> argv("churn", "train", n_estimators=300, run_id="20241010")
    ['churn', 'train', '--n_estimators=300', '--run_id=20241010']
    """
    cls = registry.load(model, require=False)
    if command not in cls.commands:
        raise UsageError(registry.unknown(f"command for {model!r}:", command, list(cls.commands)))
    specs = specs_for(cls, command)
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


def short_flags(specs: dict[str, Spec]) -> dict[str, str]:
    """The one-letter aliases Fire's help shows: ``-l`` for a flag that alone starts with ``l``."""
    initials = [name[0] for name in specs]
    return {name[0]: name for name in specs if initials.count(name[0]) == 1}


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
