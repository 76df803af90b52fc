"""MkDocs hook: the reference pages, generated at build time from the code, so they cannot drift from it.

- ``reference/commands.md``: every model, command and flag, from ``modelfleet manifest`` (``dispatch.manifest``);
- ``reference/exit-codes.md``: every exit code, from the exception hierarchy, with examples from
  ``exit_code_examples.yml`` beside this file (the build fails if the two disagree);
- ``reference/environment.md``: every environment variable (``shared.process.environment`` and each flag's own).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import yaml
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

HERE = Path(__file__).parent


def on_files(files: Files, config: Any) -> Files:
    """Add the generated reference pages to the site."""
    from dispatch import manifest

    document = manifest.build()
    pages = {
        "reference/commands.md": commands(document),
        "reference/exit-codes.md": exit_codes(document),
        "reference/environment.md": environment(document),
    }
    for path, content in pages.items():
        files.append(File.generated(config, path, content=content))
    return files


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _value(value: Any) -> str:
    return "" if value is None else f"`{value!r}`" if not isinstance(value, str) else f"`{value}`" if value else '`""`'


def commands(document: dict[str, Any]) -> str:
    lines = [
        "# Commands",
        "",
        f"Generated from `modelfleet manifest` (modelfleet {document['modelfleet']}). Usage: `{document['usage']}`.",
        "Every command also takes `--store=URL`, `--config=FILE`, `--dry_run` and `--debug`",
        "([command line](../guides/command-line.md)). Each flag can also be set by its environment variable",
        "([where values come from](../guides/command-line.md#where-values-come-from)).",
        "",
    ]
    for model, entry in document["models"].items():
        lines += [f"## `{model}`", "", entry["summary"], ""]
        for command, spec in entry["commands"].items():
            lines += [f"### `modelfleet {model} {command}`", "", spec["summary"], ""]
            lines += ["| flag | type | default | help | environment |", "|---|---|---|---|---|"]
            for name, parameter in spec["parameters"].items():
                facts = _cell(parameter["type"])
                bounds = parameter.get("constraints", {})
                if bounds:
                    symbols = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
                    facts += ", " + ", ".join(f"{symbols[k]} {v:g}" for k, v in bounds.items())
                default = "required" if parameter["required"] else _value(parameter.get("default"))
                env = parameter.get("env_command") or parameter.get("env", "")
                lines.append(
                    f"| `--{name}` | {facts} | {_cell(default)} | {_cell(parameter['help'])} | `{env}` |"
                    if env
                    else f"| `--{name}` | {facts} | {_cell(default)} | {_cell(parameter['help'])} | |"
                )
            lines.append("")
    return "\n".join(lines) + "\n"


def exit_codes(document: dict[str, Any]) -> str:
    from shared import errors

    examples = {str(k): v for k, v in yaml.safe_load((HERE / "exit_code_examples.yml").read_text()).items()}
    codes = document["exit_codes"]
    meanings = {"0": "Success.", str(errors.ModelfleetError.exit_code): "Internal error: a bug."}
    for cls in [*errors.ModelfleetError.__subclasses__(), *errors.Stopped.__subclasses__()]:
        meanings[str(cls.exit_code)] = inspect.cleandoc(cls.__doc__ or "").split("\n\n", 1)[0].replace("\n", " ")
    stray, missing = sorted(set(examples) - set(codes), key=int), sorted(set(codes) - set(examples), key=int)
    if stray or missing:
        msg = f"exit_code_examples.yml: codes that are none {stray}, codes with no example {missing}"
        raise PluginError(msg)
    lines = [
        "# Exit codes",
        "",
        "Generated from the exception hierarchy (`shared/errors.py`), the same table `modelfleet manifest` prints.",
        "User errors print one line on stderr, `modelfleet: error: <what was wrong>; <what was expected>`, and no",
        "traceback.",
        "",
        "| code | meaning | examples |",
        "|---|---|---|",
    ]
    for code in codes:
        lines.append(f"| {code} | {_cell(meanings.get(code, codes[code]))} | {_cell(examples[code] or '')} |")
    return "\n".join(lines) + "\n"


def environment(document: dict[str, Any]) -> str:
    from shared.process.environment import VARIABLES

    lines = [
        "# Environment variables",
        "",
        "Generated from `shared/process/environment.py` and `modelfleet manifest`.",
        "",
        "## Settings",
        "",
        "| variable | what it does |",
        "|---|---|",
        *(f"| `{name}` | {_cell(text)} |" for name, text in VARIABLES),
        "",
        "## One per flag",
        "",
        "`MODELFLEET_<MODEL>_<COMMAND>_<FLAG>` sets one command's flag; `MODELFLEET_<MODEL>_<FLAG>`, below it, sets",
        "it for every command of the model that has it (never a flag that says where a command writes). The flag",
        "beats both; both beat `--config`. Every model's variables:",
        "",
    ]
    for model, entry in document["models"].items():
        found = sorted({p["env"] for c in entry["commands"].values() for p in c["parameters"].values() if p.get("env")})
        lines += [f"- `{model}`: " + ", ".join(f"`{name}`" for name in found)]
    return "\n".join(lines) + "\n"
