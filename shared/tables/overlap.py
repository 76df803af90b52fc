"""Where a command writes is never where it reads: an output that is an input, or lies inside one, is refused.

Paths are compared as the filesystem will see them: local paths with links, ``.`` and ``..`` resolved, URLs
by their protocol and path. An input that exists is that path, whatever characters it holds; only one that
does not is a glob, as its reader decides. An output overlaps an input when it is the input file, lies inside the input
folder, matches the input glob (or lies inside something that matches it), or is one of the files the input
lists (which may be links to files elsewhere). The check runs before any work, in the dry run too, so that
nothing an input holds is ever replaced by what a command writes.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from typing import Any

from shared.errors import BadArgument
from shared.tables.data import GLOB_CHARS, filesystem


def refuse(target: str, data: Any, flag: str, listed: Iterable[str] = ()) -> None:
    """BadArgument (64) if writing ``target`` would replace or land inside the input ``data``.

    ``listed`` are the input's files as its reader listed them, if it did.
    """
    if data is None or not isinstance(data, (str, os.PathLike)):
        return  # the embedded sample, or a caller's frame: nothing on disk to overwrite
    data = os.fspath(data)
    out_fs, out = _where(target)
    in_fs, source = _where(data)
    if out_fs != in_fs:
        return
    files = {os.path.realpath(f) if in_fs == "local" else f.rstrip("/") for f in listed}
    hit = out == source or _inside(out, source) or out in files
    if not hit and GLOB_CHARS & set(source) and _read_as_pattern(in_fs, source, files):
        hit = any(_matches(path, source) for path in (out, *_parents(out)))
    if hit:
        msg = f"{flag}={target!r} is, or lies inside, the input {data!r}; write the output outside the input"
        raise BadArgument(msg)


def _where(path: str) -> tuple[str, str]:
    """The filesystem a path is on, and the path as that filesystem resolves it."""
    from fsspec.spec import AbstractFileSystem

    fs, resolved = filesystem(path)
    while isinstance(getattr(fs, "fs", None), AbstractFileSystem):  # a cache chained in front of a filesystem
        fs = fs.fs
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if protocol in ("file", "local"):
        return "local", os.path.realpath(resolved)
    return protocol, resolved.rstrip("/")


def _read_as_pattern(protocol: str, source: str, listed: set[str]) -> bool:
    """Whether the input's reader reads it as a glob: a path that exists is that path, whatever it holds. Locally,
    whether it exists; on an object store (no network here), whether the reader listed it as itself (unknown:
    a pattern, which refuses more outputs, never fewer)."""
    return not os.path.exists(source) if protocol == "local" else source not in listed


def _matches(path: str, pattern: str) -> bool:
    """Whether a glob lists ``path``: ``*``, ``?`` and ``[...]`` stay within one name, ``**`` spans folders."""
    if "**" in pattern:
        return fnmatch.fnmatchcase(path, pattern)
    names, parts = path.split("/"), pattern.split("/")
    return len(names) == len(parts) and all(map(fnmatch.fnmatchcase, names, parts))


def _inside(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip("/" + os.sep) + "/")


def _parents(path: str) -> list[str]:
    parts = path.rstrip("/").split("/")
    return ["/".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]
