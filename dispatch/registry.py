"""The model registry: entry points in the ``modelfleet.models`` group, imported only when needed.

Any installed distribution can add a model by declaring an entry point in that group. A model's extra
(named like the model) lists what it needs; if that is not installed, the model is listed as
unavailable and calling it says which extra to install.

A model's name is its registered name: the class an entry point names must have that ``name``
(``shared.families.model.Model`` sets it to the lowercased class name unless the class declares one), and no two
distributions may register the same name. Either mistake makes the model unusable (ConfigError, exit 78)
with a message saying what to change; help still lists it, as unavailable, with that message.

Entry points and extras are read straight from the ``*.dist-info`` folders on ``sys.path`` (the
standard on-disk format that ``importlib.metadata`` also reads): ``importlib.metadata`` would pull in
an e-mail parser for METADATA files, which alone made ``modelfleet --help`` 20% slower.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
import sys
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from shared.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from shared.families.model import Model

GROUP = "modelfleet.models"
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
_NAME = re.compile(r"\s*([A-Za-z0-9._-]+)")


@dataclass(frozen=True)
class Entry:
    """One registered model: its name, ``module:attr``, and the distribution that registers it."""

    name: str
    target: str
    dist: str
    dist_path: str

    def requires(self) -> list[tuple[str, str]]:
        """The distribution's requirements as (package, extra) pairs; extra is '' for the base ones."""
        found = []
        try:
            with open(os.path.join(self.dist_path, "METADATA"), encoding="utf-8") as handle:
                for line in handle:
                    if line in ("\n", "\r\n"):
                        break  # the headers end at the first blank line
                    if line.startswith("Requires-Dist:"):
                        requirement, _, marker = line[len("Requires-Dist:") :].partition(";")
                        extra, name = _EXTRA.search(marker), _NAME.match(requirement)
                        if name is not None:
                            found.append((name.group(1), extra.group(1) if extra else ""))
        except OSError:
            return []
        return found


def normal(name: str) -> str:
    """A distribution or extra name as packaging compares them (PEP 503, PEP 685): lowercase, each run of ``-``,
    ``_`` and ``.`` one ``-``; ``Upsell_V2`` and ``upsell-v2`` are one name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def _installed() -> dict[str, str]:
    """Every installed distribution on sys.path: normalised name -> its dist-info folder."""
    found: dict[str, str] = {}
    for folder in sys.path:
        try:
            entries = os.scandir(folder or ".")
        except OSError:
            continue
        with entries:
            for entry in entries:
                if entry.name.endswith((".dist-info", ".egg-info")) and entry.is_dir():
                    name = entry.name.rsplit(".", 1)[0].split("-", 1)[0]
                    found.setdefault(normal(name), entry.path)  # the first on sys.path wins, as for imports
    return found


@cache
def _entry_points() -> dict[str, tuple[Entry, ...]]:
    """Every registration in the group: model name -> one Entry per distribution that registers it."""
    entries: dict[str, dict[str, Entry]] = {}
    for dist, path in _installed().items():
        try:
            with open(os.path.join(path, "entry_points.txt"), encoding="utf-8") as handle:
                text = handle.read()
        except OSError:
            continue
        section = None
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("["):
                section = line.strip("[]").strip()
            elif section == GROUP and "=" in line:
                name, _, target = line.partition("=")
                by_dist = entries.setdefault(name.strip(), {})
                by_dist.setdefault(dist, Entry(name.strip(), target.strip(), dist, path))
    return {name: tuple(by_dist.values()) for name, by_dist in entries.items()}


def distributions() -> set[str]:
    """The normalised names of every distribution installed on sys.path."""
    return set(_installed())


def dist_info(name: str) -> str | None:
    """The metadata folder of installed distribution ``name`` (any spelling packaging reads as it), or None."""
    return _installed().get(normal(name))


def names() -> list[str]:
    """Return the registered model names, sorted."""
    return sorted(_entry_points())


def registered_by(name: str) -> list[str]:
    """Return the distributions that register model ``name`` (empty for an unknown name)."""
    return [entry.dist for entry in _entry_points().get(name, ())]


def missing_requirements(name: str) -> list[str]:
    """Return the requirements of model ``name``'s extra that are not installed (empty when usable)."""
    installed, extra_name = _installed(), normal(name)  # METADATA names the extra normalised (`extra == "a-b"`)
    return [
        package
        for package, extra in _entry(name).requires()
        if normal(extra) == extra_name and normal(package) not in installed
    ]


def load(name: str, *, require: bool = True) -> type[Model]:
    """Import and return the class of model ``name``.

    Raises UsageError for an unknown name (listing the known ones). Raises ConfigError if two
    distributions register the name, or if the entry point does not name a model class whose ``name``
    is the registered one; with ``require``, also if the model's extra is not installed, saying which
    one to install.
    """
    entry = _entry(name)
    missing = missing_requirements(name)
    if missing and require:
        raise ConfigError(_install_hint(entry, missing))
    module, _, attr = entry.target.partition(":")
    try:
        obj = importlib.import_module(module.strip())
    except ImportError as exc:
        raise ConfigError(_install_hint(entry, [exc.name or str(exc)])) from exc
    where = module.strip()
    for part in filter(None, attr.strip().split(".")):
        if not hasattr(obj, part):
            raise ConfigError(_not_a_model(entry, f"{where!r} has no attribute {part!r}"))
        obj, where = getattr(obj, part), f"{where}.{part}"
    if not isinstance(obj, type):
        raise ConfigError(_not_a_model(entry, f"it is {_kind(obj)}, not a class"))
    declared = getattr(obj, "name", None)
    if not isinstance(declared, str):
        raise ConfigError(
            _not_a_model(entry, "the class has no 'name' attribute (derive it from shared.families.model.Model)")
        )
    if declared != entry.name:
        msg = (
            f"model class {entry.target!r} has name {declared!r} but distribution {entry.dist!r} registers it as "
            f'{entry.name!r}; set name = "{entry.name}" in the class, or register it as {declared!r}'
        )
        raise ConfigError(msg)
    return cast("type[Model]", obj)


def _not_a_model(entry: Entry, why: str) -> str:
    return (
        f"entry point {entry.name!r} = {entry.target!r} of distribution {entry.dist!r} does not name a model "
        f"class: {why}; point it at the model's class in the {GROUP!r} group"
    )


def _kind(obj: Any) -> str:
    kind = type(obj).__name__
    return f"an {kind}" if kind[:1].lower() in "aeiou" else f"a {kind}"


def _install_hint(entry: Entry, missing: list[str]) -> str:
    return (
        f"model {entry.name!r} is not installed in this environment (missing: {', '.join(missing)}); "
        f"install it with: pip install '{entry.dist}[{normal(entry.name)}]'"
    )


def root(selected: list[str] | None = None) -> dict[str, Any]:
    """Return the Fire root object: model names mapped to their classes.

    Only the ``selected`` models are imported (all of them for the top-level help). A model that cannot
    be used here appears as a stand-in whose help line says how to install it.
    """
    fleet: dict[str, Any] = {}
    for name in selected or names():
        try:
            fleet[name] = load(name)
        except ConfigError as exc:
            fleet[name] = type(name, (), {"__doc__": f"{_summary(name)} [unavailable here] {exc}"})
    return fleet


def _summary(name: str) -> str:
    try:
        doc = load(name, require=False).__doc__ or ""
    except ConfigError:
        return name
    return doc.strip().split("\n", 1)[0]


def _entry(name: str) -> Entry:
    entry_points = _entry_points()
    if name not in entry_points:
        raise UsageError(unknown("model", name, sorted(entry_points)))
    registered = entry_points[name]
    if len(registered) > 1:
        by = " and ".join(f"{entry.dist!r} ({entry.target})" for entry in registered)
        msg = (
            f"model {name!r} is registered by {len(registered)} distributions in the {GROUP!r} group: {by}; "
            f"uninstall one of them, or rename one entry point"
        )
        raise ConfigError(msg)
    return registered[0]


def unknown(kind: str, given: str, choices: list[str]) -> str:
    """Return a one-line message for an unknown name, with the closest match and the valid choices."""
    close = difflib.get_close_matches(given, choices, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {kind} {given!r}{hint}; choose from: {', '.join(choices) or 'none installed'}"
