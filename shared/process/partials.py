"""Hidden partial files of output writes, and removing the ones whose writer died.

An output is written to ``.<name>.<32 hex>.tmp`` beside it and moved into place when complete. A writer killed
outright (SIGKILL, out of memory, a lost node) cannot remove its partial, so the next write to the same output
removes the partials of writers that are gone, and never one a live writer still holds:

- local: the writer holds an exclusive ``flock`` on its partial until it is moved or removed; the kernel drops
  the lock when the process dies, however it dies. A partial is removed only if its lock is free and it has not
  been written for ``GRACE_SECONDS`` (which covers the instant between a writer creating its file and locking it).
- remote (object stores): a partial only becomes visible when its upload completes, just before it is moved,
  so one older than ``REMOTE_STALE_SECONDS`` is a dead writer's.

A writer's folder follows the same rules (:func:`holding`, :func:`gone`): a compiled library's attempt folder
in the store until its record names it, a build's temporary folder until the build ends.

Removing is best effort: a partial that cannot be inspected or removed is left alone, never an error.
Listing the folder is the caller's, so that an unreachable store fails the write at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

GRACE_SECONDS = 5.0
REMOTE_STALE_SECONDS = 3600.0
_HEX = "[0-9a-f]{32}"


def name(parent: str, output: str) -> str:
    """A fresh partial's path for the output file named ``output`` in folder ``parent``."""
    return f"{parent}/.{output}.{uuid.uuid4().hex}.tmp"


def hold(handle: Any) -> None:
    """Mark a local partial as in use for as long as ``handle`` stays open."""
    import fcntl

    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


@contextlib.contextmanager
def holding(path: str) -> Iterator[None]:
    """Mark a local file or folder as a live writer's while the body runs (an flock on it, dropped at death)."""
    import fcntl

    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(fd)


def gone(entry: dict[str, Any], *, local: bool) -> bool:
    """Whether the writer of a partial file or folder (``entry``, as a detailed listing gives it) is gone."""
    return _local_gone(entry["name"]) if local else _remote_gone(entry)


def sweep(fs: Any, entries: list[dict[str, Any]], output: str, *, local: bool) -> list[str]:
    """Remove the partials of dead writers of ``output`` among ``entries`` (a folder's detailed listing);
    return the paths removed."""
    pattern = re.compile(rf"\.{re.escape(output)}\.{_HEX}\.tmp")
    removed = []
    for entry in entries:
        path = entry["name"]
        if entry.get("type") != "file" or not pattern.fullmatch(path.rstrip("/").rsplit("/", 1)[-1]):
            continue
        if gone(entry, local=local):
            with contextlib.suppress(OSError):
                fs.rm_file(path)
                removed.append(path)
    return removed


def _local_gone(path: str) -> bool:
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        if time.time() - os.fstat(fd).st_mtime < GRACE_SECONDS:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a live writer holds it
        return True
    finally:
        os.close(fd)


def _remote_gone(entry: dict[str, Any]) -> bool:
    modified = entry.get("LastModified") or entry.get("updated") or entry.get("mtime")
    if isinstance(modified, str):
        with contextlib.suppress(ValueError):
            modified = dt.datetime.fromisoformat(modified.replace("Z", "+00:00"))
    if isinstance(modified, dt.datetime):
        modified = modified.timestamp()
    if not isinstance(modified, (int, float)):
        return False  # cannot tell its age: leave it
    return time.time() - modified > REMOTE_STALE_SECONDS
