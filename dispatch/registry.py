"""The model registry: entry points in the ``modelfleet.models`` group, imported only when needed.

Any installed distribution can add a model by declaring an entry point in that group. A model's extra
(named like the model) lists what it needs; if that is not installed, the model is listed as
unavailable and calling it says which extra to install.
"""

from __future__ import annotations

import difflib
import importlib.metadata
from functools import cache
from typing import Any

from shared.errors import ConfigError, UsageError

GROUP = "modelfleet.models"


@cache
def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=GROUP)}


def names() -> list[str]:
    """Return the registered model names, sorted."""
    return sorted(_entry_points())


def missing_requirements(name: str) -> list[str]:
    """Return the requirements of model ``name``'s extra that are not installed (empty when usable)."""
    from packaging.requirements import Requirement

    ep = _entry(name)
    dist = ep.dist
    missing = []
    for text in (dist.requires or []) if dist else []:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None or marker.evaluate({"extra": ""}) or not marker.evaluate({"extra": name}):
            continue  # not a requirement of this model's extra
        try:
            found = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(requirement.name)
            continue
        if not requirement.specifier.contains(found, prereleases=True):
            missing.append(f"{requirement.name}{requirement.specifier} (found {found})")
    return missing


def load(name: str, *, require: bool = True) -> type:
    """Import and return the class of model ``name``.

    Raises UsageError for an unknown name (listing the known ones). With ``require``, also raises
    ConfigError if the model's extra is not installed, saying which one to install.
    """
    ep = _entry(name)
    missing = missing_requirements(name)
    if missing and require:
        raise ConfigError(_install_hint(ep, missing))
    try:
        return ep.load()
    except ImportError as exc:
        raise ConfigError(_install_hint(ep, [exc.name or str(exc)])) from exc


def _install_hint(ep: importlib.metadata.EntryPoint, missing: list[str]) -> str:
    dist = ep.dist.name if ep.dist else "modelfleet"
    return (
        f"model {ep.name!r} is not installed in this environment (missing: {', '.join(missing)}); "
        f"install it with: pip install '{dist}[{ep.name}]'"
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


def _entry(name: str) -> importlib.metadata.EntryPoint:
    entry_points = _entry_points()
    if name not in entry_points:
        raise UsageError(unknown("model", name, sorted(entry_points)))
    return entry_points[name]


def unknown(kind: str, given: str, choices: list[str]) -> str:
    """Return a one-line message for an unknown name, with the closest match and the valid choices."""
    close = difflib.get_close_matches(given, choices, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {kind} {given!r}{hint}; choose from: {', '.join(choices) or 'none installed'}"
