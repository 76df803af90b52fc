"""The modelfleet command line: ``modelfleet MODEL COMMAND [--flag=value ...]``.

Python Fire runs the command on the Fire root object (model names mapped to model classes). Before
Fire runs anything, this module checks the model, the command and every flag name against the
signatures, because Fire would run a command first and only then reject a misspelt flag. Results are
printed as one JSON object on stdout; logs and errors go to stderr; errors map to documented exit codes.
"""

from __future__ import annotations

import inspect
import logging
import os
import sys
import traceback

from dispatch import registry
from shared.errors import ModelfleetError, UsageError, exit_code_for
from shared.results import to_json

PROG = "modelfleet"
HELP = ("--help", "-h")
log = logging.getLogger("dispatch")


def main(argv: list[str] | None = None) -> int:
    """Run one modelfleet command line and return its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("MODELFLEET_DEBUG", "") in ("1", "true", "yes")
    args = [arg for arg in args if arg != "--debug"]
    _configure_logging()
    try:
        return _run(args)
    except ModelfleetError as exc:
        _report(exc, debug, f"{PROG}: error: {_one_line(exc)}")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence maps anything to a documented code
        code = exit_code_for(exc)
        kind = "internal error" if code == 70 else "error"
        hint = "" if debug else " (run with --debug for the traceback)"
        _report(exc, debug, f"{PROG}: {kind}: {type(exc).__name__}: {_one_line(exc)}{hint}")
        return code


def _run(args: list[str]) -> int:
    words = [arg for arg in args if not arg.startswith("-")][:2]
    if any(arg in HELP for arg in args) or not args:
        return _help(words)
    model = args[0]
    if model.startswith("-"):
        msg = f"expected a model name first, got {model!r}; usage: {PROG} MODEL COMMAND [--flag=value ...]"
        raise UsageError(msg)
    cls = registry.load(model, require=False)
    if len(args) < 2 or args[1].startswith("-"):
        msg = f"missing command for {model!r}; choose from: {', '.join(cls.commands)}"
        raise UsageError(msg)
    command = args[1]
    if command not in cls.commands:
        raise UsageError(registry.unknown(f"command for {model!r}:", command, list(cls.commands)))
    flags = _check_flags(args[2:], flag_names(cls, command), f"{model} {command}")
    registry.load(model)  # usage is right; now make sure the model's extra is installed
    return _fire(registry.root([model]), [model, command, *flags])


def flag_names(cls: type, command: str) -> list[str]:
    """Return the flags ``MODEL COMMAND`` accepts: the model's constructor flags and the command's."""
    names = []
    for fn in (cls.__init__, getattr(cls, command)):
        for parameter in list(inspect.signature(fn).parameters.values())[1:]:
            if parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                names.append(parameter.name)
    return names


def _check_flags(tokens: list[str], allowed: list[str], where: str) -> list[str]:
    """Check every flag name before anything runs; return the tokens normalised to --name=value."""
    out, seen = [], set()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--") or token == "--":  # noqa: S105 - not a password
            msg = f"unexpected argument {token!r} for '{where}': give every value as --name=value"
            raise UsageError(msg)
        name, has_value, value = token[2:].partition("=")
        name = name.replace("-", "_")
        if not has_value and i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
            value, has_value = tokens[i + 1], True
            i += 1
        if name not in allowed:
            choices = [f"--{n}" for n in allowed]
            raise UsageError(registry.unknown(f"flag for '{where}':", f"--{name}", choices))
        if name in seen:
            msg = f"flag --{name} given more than once for '{where}'; give it once"
            raise UsageError(msg)
        seen.add(name)
        out.append(f"--{name}={value}" if has_value else f"--{name}")
        i += 1
    return out


def _help(words: list[str]) -> int:
    """Show Fire's help for the root, a model, or a command."""
    if not words:
        return _fire(registry.root(), ["--help"])
    cls = registry.load(words[0], require=False)  # its commands are known even without its extra
    if len(words) == 1:
        return _fire({words[0]: _commands_view(cls)}, [words[0], "-", "--help"])  # '-': Fire lists commands
    if words[1] not in getattr(cls, "commands", ()):
        raise UsageError(registry.unknown(f"command for {words[0]!r}:", words[1], list(cls.commands)))
    return _fire({words[0]: cls}, [*words, "--help"])


def _commands_view(cls: type) -> type:
    """Return a class that shows only the model's commands, so its help hides its declarations."""
    members = {name: getattr(cls, name) for name in getattr(cls, "commands", ())}
    return type(cls.__name__, (), {"__doc__": cls.__doc__, "__init__": cls.__init__, **members})


def _fire(root: dict, command: list[str]) -> int:
    import fire

    try:
        fire.Fire(root, command=command, name=PROG, serialize=to_json)
    except fire.core.FireExit as exc:
        return int(exc.code or 0)
    return 0


def _configure_logging() -> None:
    level = os.environ.get("MODELFLEET_LOG_LEVEL", "INFO").upper()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")


def _report(exc: BaseException, debug: bool, line: str) -> None:
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    print(line, file=sys.stderr)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
