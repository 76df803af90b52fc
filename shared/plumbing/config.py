"""Parameter values from a config file (``--config=FILE``): YAML, JSON or TOML, one section per command.

    train:
      n_estimators: 300
      learning_rate: 0.1
    score:
      version: latest

Values from the file rank below command-line flags and environment variables, above the defaults.

YAML is read by the YAML 1.2 core schema: only ``true`` and ``false`` are booleans, so ``on_drift: off`` is the
text 'off' (YAML 1.1 made ``off``, ``no``, ``yes`` and ``on`` booleans); ``1e3`` is a number, ``1:30`` and ``0777``
are not sexagesimal or octal. A misspelt command or parameter name is refused with the closest name.
"""

import difflib
import gc
import json
import os
import re
from pathlib import Path
from typing import Any

from shared.errors import ConfigError
from shared.process.failures import config_place, translated

SUFFIXES = (".yaml", ".yml", ".json", ".toml")
MAX_BYTES = 1 << 20  # a parameter file, not a data set
MAX_VALUES, MAX_DEPTH = 10_000, 16  # counted through every reference: YAML aliases cannot multiply a value


def load(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Read a config file into ``{command: {parameter: value}}``; ConfigError for anything malformed."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        msg = f"config file {path} must end in {', '.join(SUFFIXES)}"
        raise ConfigError(msg)
    try:
        with translated(config_place(path)):
            if path.stat().st_size > MAX_BYTES:
                msg = f"config file {path} is larger than {MAX_BYTES} bytes; it holds parameter values, not data"
                raise ConfigError(msg)
            text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        msg = f"config file {path} is not UTF-8 text"
        raise ConfigError(msg) from None
    # A collection at the depth a deep file drives a parser to can fail in an object's finalizer ("Exception
    # ignored in ...": a second line on stderr): none runs while it parses.
    collecting = gc.isenabled()
    gc.disable()
    try:
        data = _parse(text, suffix)
    except ValueError as exc:  # JSON and TOML parse errors are ValueErrors; YAML's are wrapped in one
        first = " ".join(str(exc).split())[:200]
        msg = f"config file {path} is not valid {suffix.lstrip('.').upper()}: {first}"
        raise ConfigError(msg) from None
    except RecursionError:  # the parsers recurse per level: a file nested hundreds deep exhausts the stack
        msg = f"config file {path} nests deeper than {MAX_DEPTH} levels; it holds parameter tables"
        raise ConfigError(msg) from None
    finally:
        if collecting:
            gc.enable()
    data = {} if data is None else data
    _check_bounded(data, path)
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        msg = f"config file {path} must map command names to parameter tables, e.g. 'train: {{n_estimators: 300}}'"
        raise ConfigError(msg)
    return data


def _check_bounded(data: Any, path: Path) -> None:
    """ConfigError if the parsed file holds more than MAX_VALUES values or nests deeper than MAX_DEPTH, counting
    every reference (a 400-byte YAML file of nested aliases stands for billions of values)."""
    stack, seen = [(data, 0)], 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if seen > MAX_VALUES or depth > MAX_DEPTH:
            what = f"more than {MAX_VALUES} values" if seen > MAX_VALUES else f"values nested deeper than {MAX_DEPTH}"
            msg = f"config file {path} holds {what} (YAML aliases count each time they are used); it cannot be right"
            raise ConfigError(msg)
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _parse(text: str, suffix: str) -> Any:
    if suffix == ".json":
        return json.loads(text)
    if suffix == ".toml":
        import tomllib

        return tomllib.loads(text)
    import yaml

    try:
        return yaml.load(text, Loader=core_loader())  # noqa: S506 - a SafeLoader, with the core schema's scalars
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from exc


def did_you_mean(given: str, choices: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to a misspelt name, or nothing."""
    close = difflib.get_close_matches(given, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


_BOOL, _INT, _FLOAT = (f"tag:yaml.org,2002:{kind}" for kind in ("bool", "int", "float"))
_CORE = (  # YAML 1.2 core schema, in the order it resolves a plain scalar: an int before a float
    (_BOOL, r"true|True|TRUE|false|False|FALSE", "tTfF"),
    (_INT, r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
    (
        _FLOAT,
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        "-+.0123456789",
    ),
)
_LOADER: Any = None


def core_loader() -> Any:
    """PyYAML's SafeLoader with YAML 1.2 core booleans, integers and floats in place of YAML 1.1's."""
    global _LOADER  # built once, on the first YAML file
    if _LOADER is None:
        import yaml

        class CoreLoader(yaml.SafeLoader):
            """SafeLoader resolving plain scalars by the YAML 1.2 core schema."""

        CoreLoader.yaml_implicit_resolvers = {
            first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }
        for tag, pattern, firsts in _CORE:
            CoreLoader.add_implicit_resolver(tag, re.compile(f"^(?:{pattern})$"), list(firsts))
        CoreLoader.add_constructor(_INT, _core_int)
        _LOADER = CoreLoader
    return _LOADER


def _core_int(loader: Any, node: Any) -> int:
    text = loader.construct_scalar(node)
    base = {"0o": 8, "0x": 16}.get(text[:2])
    return int(text[2:], base) if base else int(text)
