"""The modelfleet command line: ``modelfleet MODEL COMMAND [--flag=value ...]``.

Python Fire runs the command on the Fire root object (model names mapped to model classes, plus
``manifest``). Before Fire runs anything, :mod:`dispatch.commandline` checks the model, the command and
every flag and parses each value by its type, because Fire would run a command first and only then reject
a misspelt flag, and would guess types from the text. The contract with the orchestrator:

- stdout carries exactly one JSON object, the result; logs go to stderr;
- the same object is written atomically to ``$MODELFLEET_RESULT_PATH``, or to ``/airflow/xcom/return.json``
  when that folder exists; a failure writes ``{"error", "message", "exit_code"}`` there instead (a command
  that did its work and still fails, ``train`` refused promotion, prints and writes its result with them);
- the exit code comes from the documented table (see :mod:`shared.errors`).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import logging
import os
import re
import signal
import sys
import traceback
from typing import TYPE_CHECKING, Any

from dispatch import registry
from dispatch.commandline import MANIFEST, NEW, Call, parse, short_flags, spaced_values, specs_for
from shared.errors import (
    Interrupted,
    LocalIOError,
    ModelfleetError,
    ResultFileConflict,
    Stopped,
    UsageError,
    exit_code_for,
)
from shared.plumbing.binding import constructor_specs
from shared.process import stopping
from shared.tables.results import RESULT_ENV, redact, replaceable, result_path, to_json, write_result

if TYPE_CHECKING:
    from shared.contract.params import Spec
    from shared.families.model import Model

PROG = "modelfleet"
HELP = ("--help", "-h")
log = logging.getLogger("dispatch")


def main(argv: list[str] | None = None) -> int:
    """Run one modelfleet command line and return its exit code."""
    console = argv is None  # the process is this command line's own (not a test or a notebook calling it)
    handlers = {signum: signal.getsignal(signum) for signum in (*stopping.STOPS, stopping.RETRY)}
    stopping.install()  # again: `python -m dispatch` did at once, the console script only now
    if console:
        from shared.estimators import formats

        formats.LEAN_IMPORTS = True
    try:
        return _main(argv)
    finally:
        if console:
            stopping.settle()  # the exit code is decided: no signal may change it until the process ends
        else:
            stopping.clear()
            for signum, handler in handlers.items():  # in-process callers (tests, a notebook) get theirs back
                signal.signal(signum, handler)


def _main(argv: list[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("MODELFLEET_DEBUG", "").lower() in ("1", "true", "yes")
    args = [arg for arg in args if arg != "--debug"]
    _configure_logging()
    text = None
    try:
        with stopping.working():  # a signal stops the work; once the outcome is decided it changes nothing
            done = _work(args)
        if done is not None:
            text, filed = done
            _write_result_file(filed)
    except _Unprinted as exc:  # `--help | head -c0`: the reader left
        return _stdout_failed(exc.error, debug)
    except Stopped as exc:  # what it had committed before the stop stays committed, and the stop says so
        return _fail(exc, exc.exit_code, f"{PROG}: error: {_one_line(stopping.reported(exc))}", debug)
    except ModelfleetError as exc:
        return _fail(exc, exc.exit_code, f"{PROG}: error: {_one_line(exc)}", debug)
    except KeyboardInterrupt as exc:  # a SIGINT that arrived before our handler was installed
        return _fail(exc, Interrupted.exit_code, f"{PROG}: error: interrupted before the command finished", debug)
    except Exception as exc:  # noqa: BLE001 - the last line of defence maps anything to a documented code
        code = exit_code_for(exc)
        kind = "internal error" if code == 70 else "error"
        hint = "" if debug else " (run with --debug for the traceback)"
        return _fail(exc, code, f"{PROG}: {kind}: {type(exc).__name__}: {_one_line(exc)}{hint}", debug)
    if text is None:
        return 0
    try:
        print(text, flush=True)
    except OSError as exc:  # stdout closed (a pipe whose reader left) or full: the result file holds the result
        return _stdout_failed(exc, debug)
    return 0


def _work(args: list[str]) -> tuple[str, str] | None:
    """What to print and what the result file gets: the command's result as JSON text (both), or, for a view for
    people (``describe --format=text``), its text and its JSON object; None when help was shown."""
    if sys.stdout is None:  # started with stdout closed (`>&-`): nobody could read the result
        raise LocalIOError("stdout is closed; nothing was run (the result would have nowhere to go)")
    if not args or any(arg in HELP for arg in args):
        try:
            _help([arg for arg in args if not arg.startswith("-")][:2])
        except OSError as exc:
            raise _Unprinted(exc) from None
        return None
    _check_result_file()  # before any work: a file there that is no earlier result stays as it is
    result = _run(args)
    if isinstance(result, str):  # text for people; the result file still gets the object it shows
        return redact(result), redact(to_json(getattr(result, "data", {"text": str(result)})))
    text = redact(to_json(result))
    return text, text


class _Unprinted(Exception):
    """Help that could not be printed: reported as a closed stdout (74)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def _stdout_failed(exc: OSError, debug: bool) -> int:
    """Exit 74 with one error line when stdout cannot be written, and no second error when Python exits."""
    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    error = LocalIOError(f"cannot print the result on stdout: {exc.strerror or exc}")
    return _fail(error, error.exit_code, f"{PROG}: error: {error}", debug)


def _run(args: list[str]) -> dict[str, Any]:
    """Check the whole command line, then let Fire run it; return the command's result."""
    if args[0] == MANIFEST:
        if len(args) > 1:
            msg = f"'{PROG} {MANIFEST}' takes no arguments; got {' '.join(args[1:])!r}"
            raise UsageError(msg)
        return _fire({MANIFEST: _manifest_command()}, [MANIFEST])
    if args[0] == NEW:
        from dispatch import scaffold

        name, values = scaffold.parse(spaced_values(args[1:], _new_specs()))
        return scaffold.new(name, **values)
    call = parse(args)
    registry.load(call.model)  # the command line is right; now make sure the model's extra is installed
    return _fire(registry.root([call.model]), fire_args(call))


def fire_args(call: Call) -> list[str]:
    """Write a parsed call for Fire: each typed value as the Python literal Fire reads back unchanged."""
    tokens = [call.model, call.command]
    for name, value in call.values.items():
        if hasattr(value, "isoformat"):
            value = value.isoformat()  # the command's validation turns the ISO text back into a date
        tokens.append(f"--{name}={value!r}")
    return tokens


def _fire(root: dict, command: list[str]) -> Any:
    """Run Fire with stdout pointed at stderr, so that nothing but our JSON reaches stdout."""
    import fire

    results: list[Any] = []

    def capture(result: Any) -> None:
        results.append(result)  # returning None makes Fire print nothing itself

    with _stdout_to_stderr():
        try:
            fire.Fire(root, command=command, name=PROG, serialize=capture)
        except fire.core.FireExit as exc:
            msg = f"could not run '{' '.join(command)}' (Fire exit {exc.code})"
            raise UsageError(msg) from None
    return results[0] if results else {}


def _help(words: list[str]) -> int:
    """Show help for the root, a model, or a command on stdout, without a pager: Fire's text, with our synopsis,
    the short aliases the command line accepts, and the global flags."""
    specs: dict[str, Spec] = {}
    usage = f"{PROG} MODEL COMMAND [--flag=value ...]"
    if not words:
        root = {**registry.root(), MANIFEST: _manifest_command(), NEW: _new_command()}
        command = ["--help"]
    elif words[0] == MANIFEST:
        root, command, usage = {MANIFEST: _manifest_command()}, [MANIFEST, "--help"], f"{PROG} {MANIFEST}"
    elif words[0] == NEW:
        root, command, usage = {NEW: _new_command()}, [NEW, "--help"], f"{PROG} {NEW} NAME [--flag=value ...]"
        specs = _new_specs()
    else:
        cls = registry.load(words[0], require=False)  # its commands are known even without its extra
        if len(words) == 1:
            root, command = {words[0]: _commands_view(cls)}, [words[0], "-", "--help"]  # '-': list commands
            usage = f"{PROG} {words[0]} COMMAND [--flag=value ...]"
        elif words[1] not in cls.commands:
            raise UsageError(registry.unknown(f"command for {words[0]!r}:", words[1], list(cls.commands)))
        else:
            root, command = {words[0]: cls}, [*words, "--help"]
            usage, specs = f"{PROG} {words[0]} {words[1]} [--flag=value ...]", specs_for(cls, words[1])
    text = _tidied(_fire_help(root, command), usage, specs)
    if specs and words and words[0] != NEW:
        text += _global_flags(registry.load(words[0], require=False), specs)
    sys.stdout.write(text)
    sys.stdout.flush()  # here, so that a reader who left is seen now (74), not when Python exits (120)
    return 0


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_FLAG_LINE = re.compile(r"^    (?:-\w, )?--(\w+)", re.MULTILINE)


def _fire_help(root: dict, command: list[str]) -> str:
    """Fire's help text for ``command``, as a string: no pager, no colours, no ``INFO: Showing help`` line."""
    import fire
    from fire import core

    shown: list[str] = []
    display = core.Display
    core.Display = lambda lines, out: shown.extend(lines)  # Fire's own display pages to the terminal
    try:
        with contextlib.suppress(fire.core.FireExit), contextlib.redirect_stderr(io.StringIO()):  # its INFO line
            fire.Fire(root, command=command, name=PROG)
    finally:
        core.Display = display
    return _ANSI.sub("", "\n".join(shown)).rstrip("\n") + "\n"


def _tidied(text: str, usage: str, specs: dict[str, Spec]) -> str:
    """Fire's help with the program's synopsis and, on each flag, the short alias the command line accepts."""
    text = re.sub(r"(?<=^SYNOPSIS\n)(?:    .*\n)+", f"    {usage}\n", text, count=1, flags=re.MULTILINE)
    if not specs:
        return text
    aliases = _aliases(specs)
    return _FLAG_LINE.sub(lambda m: f"    {_alias(m.group(1), aliases)}--{m.group(1)}", text)


def _aliases(specs: dict[str, Spec]) -> dict[str, str]:
    """Each flag's one-letter alias that the command line accepts (``-h`` is help, never an alias)."""
    return {name: short for short, name in short_flags(specs).items() if f"-{short}" not in HELP}


def _alias(name: str, aliases: dict[str, str]) -> str:
    return f"-{aliases[name]}, " if name in aliases else ""


def _global_flags(cls: type[Model], specs: dict[str, Spec]) -> str:
    """The flags every command takes (the model's constructor's, and --debug), as a help section."""
    aliases = _aliases(specs)
    lines = ["", "GLOBAL FLAGS", "    Every command takes these too. Give a value as --flag=value or --flag value."]
    documented = dict(re.findall(r"^\s*(\w+): (.+)$", inspect.getdoc(cls.__init__) or "", re.MULTILINE))
    for spec in constructor_specs(cls):
        shown = f"--{spec.name}" if spec.flag else f"--{spec.name}={spec.name.upper()}"
        lines += [f"    {_alias(spec.name, aliases)}{shown}", f"        {spec.help or documented.get(spec.name, '')}"]
    lines += ["    --debug", "        On an error, print the traceback too (or set MODELFLEET_DEBUG=1)."]
    return "\n".join(lines) + "\n"


def _commands_view(cls: type[Model]) -> type:
    """Return a class that shows only the model's commands, so its help hides its declarations."""
    members = {name: getattr(cls, name) for name in cls.commands}
    doc = f"{cls.__doc__}\n\nEvery command also takes --store=URL, --config=FILE, --dry_run and --debug."
    return type(cls.__name__, (), {"__doc__": doc, "__init__": cls.__init__, **members})


def _new_specs() -> dict[str, Spec]:
    """The flags ``new`` takes, as :func:`dispatch.scaffold.parse` reads them."""
    from dispatch.scaffold import new
    from shared.contract.params import Spec, signature_specs

    return {"name": Spec("name", str), **{spec.name: spec for spec in signature_specs(new)}}


def _manifest_command() -> Any:
    from dispatch.manifest import manifest

    return manifest


def _new_command() -> Any:
    from dispatch.scaffold import shown

    return shown()


def _fail(exc: BaseException, code: int, line: str, debug: bool) -> int:
    trace = redact("".join(traceback.format_exception(exc))) if debug else None
    if os.environ.get("MODELFLEET_LOG_FORMAT", "").lower() == "json":  # every stderr line is JSON then
        record = logging.LogRecord(PROG, logging.ERROR, __file__, 0, line, None, None)
        entry = {**json.loads(_JsonLines().format(record)), "exit_code": code}
        line = json.dumps({**entry, "traceback": trace} if trace else entry)  # the traceback inside the line
    elif trace:
        print(trace, file=sys.stderr, end="")
    print(redact(line), file=sys.stderr, flush=True)
    stopped = isinstance(exc, Stopped)
    message = _one_line(stopping.reported(exc) if isinstance(exc, Stopped) else exc)
    error = {"error": type(exc).__name__, "message": redact(message), "exit_code": code}
    if stopped and stopping.commits():
        error["committed"] = stopping.commits()  # the stop came after a commit: the result names it
    carried = getattr(exc, "result", None)  # a command that did its work and still fails (NotPromoted)
    text = redact(to_json({**carried, **error})) if isinstance(carried, dict) else json.dumps(error)
    if not isinstance(exc, ResultFileConflict):  # there, the result would replace what the command reads
        with contextlib.suppress(OSError, ModelfleetError):  # not an earlier result there: left as it is
            _write_result_file(text)
    if isinstance(carried, dict):
        with contextlib.suppress(OSError):
            print(text, flush=True)
    return code


def _check_result_file() -> None:
    """ResultFileConflict (64) if the result file's place holds a file that is not an earlier result."""
    path = result_path()
    if path and not replaceable(path):
        msg = (
            f"{RESULT_ENV}={path!r} names a file that is not an earlier result (an input, a config, a model file?); "
            f"it is never replaced: point {RESULT_ENV} elsewhere"
        )
        raise ResultFileConflict(msg)


def _write_result_file(text: str) -> None:
    """Write the result for the orchestrator: $MODELFLEET_RESULT_PATH, or Airflow's XCom file if its folder exists."""
    _check_result_file()
    path = result_path()
    if path:
        write_result(text, path)


@contextlib.contextmanager
def _stdout_to_stderr():
    """Send everything written to stdout (by Python or by C libraries) to stderr while a command runs."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


class _JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        return json.dumps(entry)


class _Text(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _configure_logging() -> None:
    level = os.environ.get("MODELFLEET_LOG_LEVEL", "INFO").upper()
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("MODELFLEET_LOG_FORMAT", "").lower() == "json":
        handler.setFormatter(_JsonLines())
    else:
        handler.setFormatter(_Text("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.captureWarnings(False)  # forget a hook an earlier in-process run installed (pytest may have undone it)
    logging.captureWarnings(True)  # Python warnings become log records: JSON lines too, when logs are JSON
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")


MAX_MESSAGE = 2000  # an error line stays readable whatever a library put in its message
_LONG_TOKEN = re.compile(r"\S{201,}")  # a value a library echoed in full (a 100 kB cell), never a real path


def _one_line(exc: BaseException | str) -> str:
    """The message on one line: long echoed values cut to about 80 characters, the whole to MAX_MESSAGE."""
    text = _LONG_TOKEN.sub(lambda m: f"{m.group()[:80]}...({len(m.group())} characters)", str(exc))
    text = " ".join(text.split())
    text = text if len(text) <= MAX_MESSAGE else f"{text[:MAX_MESSAGE]}... (message cut)"
    return text or type(exc).__name__
