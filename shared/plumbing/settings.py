"""Where a parameter's value comes from: the argument, else the environment, else the config file, else the
default; and which of them it came from (``describe`` shows it).

Variables are ``MODELFLEET_<MODEL>_<COMMAND>_<PARAM>``, then model-wide ``MODELFLEET_<MODEL>_<PARAM>``; where a
command writes (an output) is set per command only, so that no value meant for one command redirects
another's output. Values from the environment or a config file that do not fit are configuration errors (78).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.errors import BadArgument, ConfigError
from shared.tables.inputs import as_pandas, is_table_object

if TYPE_CHECKING:
    from shared.contract.params import Spec
    from shared.families.model import Model


def resolve(
    model: Model, command: str, specs: list[Spec], given: dict[str, Any], *, missing_ok: bool = False
) -> dict[str, tuple[Any, str]]:
    """Return each parameter's value and where it came from: argument, env, config or default. A required
    parameter given nowhere is BadArgument, or with ``missing_ok`` (for describe) None from 'required'."""
    section = config_section(model, command, specs)
    settings = {}
    for spec in specs:
        variable = next((v for v in spec.env_vars(model.name, command) if v in os.environ), None)
        shared = spec.env_var(model.name)
        if spec.output and shared in os.environ and spec.name not in given:
            msg = (
                f"{shared} is set, but where a command writes is set per command only, so that no value "
                f"meant for one command redirects another's output; use {spec.env_var(model.name, command)}"
            )
            raise ConfigError(msg)
        if spec.name in given:
            value = given[spec.name]
            if isinstance(value, os.PathLike):
                value = os.fspath(value)
            if spec.name == "data" and is_table_object(value):  # in Python, data may be a frame or table
                value = as_pandas(value)
            else:
                value = spec.from_python(value, f"--{spec.name}")
            settings[spec.name] = (value, "argument")
        elif variable is not None:
            settings[spec.name] = (_as_config(spec.from_text, os.environ[variable], variable), "env")
        elif spec.name in section:
            where = f"{model._config_path}: {command}.{spec.name}"
            settings[spec.name] = (_as_config(spec.from_python, section[spec.name], where), "config")
        elif spec.required and missing_ok:
            settings[spec.name] = (None, "required")
        elif spec.required:
            msg = f"'{model.name} {command}' needs --{spec.name}"
            raise BadArgument(msg)
        else:
            settings[spec.name] = (spec.default, "default")
    return settings


def config_section(model: Model, command: str, specs: list[Spec]) -> dict[str, Any]:
    """The config file's values for ``command`` (read once per model object); ConfigError for unknown names."""
    if model._config_path is None:
        return {}
    from shared.plumbing.config import did_you_mean
    from shared.plumbing.config import load as load_config

    if model._config is None:
        model._config = load_config(model._config_path)
        unknown = sorted(set(model._config) - set(model.commands))
        if unknown:
            hint = did_you_mean(unknown[0], list(model.commands))
            msg = (
                f"config file {model._config_path} names unknown command {unknown[0]!r}{hint}; "
                f"commands: {model.commands}"
            )
            raise ConfigError(msg)
    section = model._config.get(command, {})
    names = [spec.name for spec in specs]
    unknown = sorted(set(section) - set(names))
    if unknown:
        hint = did_you_mean(unknown[0], names)
        msg = f"config file {model._config_path}: '{command}' has no parameter {unknown[0]!r}{hint}; it takes: {names}"
        raise ConfigError(msg)
    return section


def _as_config(parse: Callable[..., Any], value: Any, where: str) -> Any:
    """Parse a value from the environment or a config file; a bad one is a configuration error (78)."""
    try:
        return parse(value, where)
    except BadArgument as exc:
        raise ConfigError(str(exc)) from None
