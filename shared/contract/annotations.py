"""A parameter's annotation as plain data and back, exactly: what lets a manifest check a call as the image would.

``encode(annotation)`` gives JSON-ready data; ``decode(data)`` rebuilds an annotation EQUAL to the original, so that
a :class:`shared.contract.params.Spec` rebuilt from a manifest parses, validates and refuses exactly like the code's own
(the same type, bounds, choices, Check functions and messages). Each node is an object with a ``kind``:

- ``int``, ``float``, ``str``, ``bool``, ``date``, ``datetime``, ``any``, ``none``;
- ``literal`` with ``choices``; ``list`` with ``items`` (a node, or absent for a bare ``list``);
- ``union`` with ``of`` (the members in order; ``X | None`` is a union with ``{"kind": "none"}``);

and, for an ``Annotated`` type, ``meta``: its markers in order, each one of ``{"shown": NAME}``, ``{"bounds":
{"ge": 1}}``, ``{"check": "module:qualname"}``, ``{"per_command": true}``, ``{"output": true}``, ``{"needs": FIELD}``.
A Check function is carried by name and must live in modelfleet's core (``shared`` or ``dispatch``), which every
environment that reads a manifest has; :func:`carry` refuses (ConfigError, naming the parameter) any annotation
that would not come back equal, so that a manifest is never looser than the code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import types
import typing
from typing import Annotated, Any, Literal, Union

from shared.contract.params import Bounds, Check, Needs, Output, PerCommand, Shown
from shared.errors import ConfigError

CORE = ("shared", "dispatch")  # the packages whose Check functions a manifest may name
_PLAIN = {int: "int", float: "float", str: "str", bool: "bool", dt.date: "date", dt.datetime: "datetime"}
_KINDS = {name: cls for cls, name in _PLAIN.items()}
_FLAGS = {"per_command": PerCommand, "output": Output}


class Uncarried(ValueError):
    """An annotation (or a part of one) that has no plain-data form."""


def encode(annotation: Any) -> dict[str, Any]:
    """The annotation as plain data; Uncarried if some part of it has no such form."""
    if typing.get_origin(annotation) is Annotated:
        node = encode(typing.get_args(annotation)[0])
        return {**node, "meta": [_marker(item) for item in annotation.__metadata__]}
    if annotation is Any:
        return {"kind": "any"}
    if annotation is type(None):
        return {"kind": "none"}
    plain = next((name for cls, name in _PLAIN.items() if annotation is cls), None)
    if plain is not None:
        return {"kind": plain}
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        if not all(isinstance(choice, (str, int, float, bool)) for choice in args):
            raise Uncarried(f"a Literal of {args!r}")
        return {"kind": "literal", "choices": list(args)}
    if origin in (Union, types.UnionType):
        return {"kind": "union", "of": [encode(arg) for arg in args]}
    if annotation is list:
        return {"kind": "list"}
    if origin is list and len(args) == 1:
        return {"kind": "list", "items": encode(args[0])}
    raise Uncarried(f"the type {annotation!r}")


def decode(data: dict[str, Any]) -> Any:
    """The annotation that :func:`encode` gave ``data`` for; Uncarried if ``data`` is no such form."""
    try:
        annotation = _decode(data)
        meta = data.get("meta")
        if meta is None:
            return annotation
        if not isinstance(meta, list) or not meta:
            raise Uncarried(f"meta {meta!r} is no list of markers")
        return Annotated[(annotation, *(_unmarker(item) for item in meta))]
    except (KeyError, TypeError, AttributeError) as exc:
        msg = f"{data!r} is no annotation ({type(exc).__name__}: {exc})"
        raise Uncarried(msg) from None


def carry(annotation: Any, where: str) -> dict[str, Any]:
    """:func:`encode`, checked: ConfigError naming ``where`` unless decoding gives back an EQUAL annotation."""
    try:
        data = encode(annotation)
        back = decode(data)
    except Uncarried as exc:
        msg = f"{where}: {exc} cannot be carried by the manifest, so a DAG could not be checked against it; {_FIX}"
        raise ConfigError(msg) from None
    if back != annotation:
        msg = f"{where}: the manifest would carry {annotation!r} as {back!r}, which is not the same; {_FIX}"
        raise ConfigError(msg)
    return data


_FIX = (
    "declare it with int, float, str, bool, date, datetime, Literal, list, X | None, and the markers of "
    "shared.contract.params (Shown, Bounds, Check with a function of shared or dispatch, PerCommand, Output, Needs)"
)


def _decode(data: dict[str, Any]) -> Any:
    kind = data["kind"]
    if kind in _KINDS:
        return _KINDS[kind]
    if kind == "any":
        return Any
    if kind == "none":
        return type(None)
    if kind == "literal":
        return Literal[tuple(data["choices"])]
    if kind == "union":
        return Union[tuple(decode(member) for member in data["of"])]  # noqa: UP007 - built at run time
    if kind == "list":
        return list[decode(data["items"])] if "items" in data else list  # type: ignore[misc]
    raise Uncarried(f"the kind {kind!r}")


def _marker(item: Any) -> dict[str, Any]:
    if isinstance(item, Shown):
        return {"shown": item.name}
    if isinstance(item, Bounds):
        return {"bounds": {key: value for key, value in dataclasses.asdict(item).items() if value is not None}}
    if isinstance(item, Needs):
        return {"needs": item.field}
    if isinstance(item, Check):
        return {"check": _name(item.fn)}
    for key, marker in _FLAGS.items():
        if type(item) is marker:
            return {key: True}
    raise Uncarried(f"the marker {item!r}")


def _unmarker(data: dict[str, Any]) -> Any:
    if not isinstance(data, dict) or len(data) != 1:
        raise Uncarried(f"{data!r} is no marker")
    ((key, value),) = data.items()
    if key == "shown":
        return Shown(value)
    if key == "bounds":
        return Bounds(**value)
    if key == "needs":
        return Needs(value)
    if key == "check":
        return Check(_function(value))
    if key in _FLAGS and value is True:
        return _FLAGS[key]()
    raise Uncarried(f"{data!r} is no marker")


def _name(fn: Any) -> str:
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        raise Uncarried(f"the check {fn!r}, which has no importable name")
    if module.split(".")[0] not in CORE:
        raise Uncarried(f"the check {module}:{qualname}, which is not in modelfleet's core ({' or '.join(CORE)})")
    return f"{module}:{qualname}"


def _function(name: str) -> Any:
    module, _, qualname = name.partition(":")
    if module.split(".")[0] not in CORE or not qualname:
        raise Uncarried(f"the check {name!r}, which is not a function of modelfleet's core ({' or '.join(CORE)})")
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        msg = f"the check {name!r}, which this modelfleet does not have ({exc})"
        raise Uncarried(msg) from None
    if not callable(obj):
        raise Uncarried(f"the check {name!r}, which is not a function")
    return obj
