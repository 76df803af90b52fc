"""Parameter values from a config file (``--config=FILE``): YAML, JSON or TOML, one section per command.

    train:
      n_estimators: 300
      learning_rate: 0.1
    score:
      version: latest

Values from the file rank below command-line flags and environment variables, above the defaults.
"""

import gc
import json
import os
from pathlib import Path
from typing import Any

from shared.errors import ConfigError
from shared.failures import config_place, translated

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
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from exc
