"""One atomic writer: a file appears at its path whole, or not at all, whatever stops the writer.

Outputs, the store's local files and the result file are all written by :func:`replacing`: the bytes go to a
hidden partial beside the destination (``shared.process.partials``: readers of a folder skip names that start with
'.'), held locked while it is written, and moved into place once complete.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shared.process import partials, stopping
from shared.process.failures import transient

log = logging.getLogger(__name__)


@contextlib.contextmanager
def replacing(
    fs: Any, path: str, *, local: bool, durable: bool = False, shown: str | None = None, output: bool = False
) -> Iterator[Any]:
    """Yield a binary handle; what the body writes appears at ``path`` (of filesystem ``fs``) when it ends.

    Partials that killed writers of the same file left are removed first (never a live writer's). With
    ``durable``, the bytes and then the folder entry are fsynced, so a crash after the move keeps the file.
    If anything fails the partial is removed, unless the network failed: an object store shows no upload that
    did not complete, and asking would wait out its timeouts again. ``shown`` is how logs name the file. An
    ``output`` is a command's commit: a stop after its move says it was written (``shared.process.stopping``).
    """
    parent, name = fs._parent(path), Path(path).name
    if fs.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "it is a folder; name a file (or remove the folder)", path)
    fs.makedirs(parent, exist_ok=True)
    try:
        entries = fs.ls(parent, detail=True)
    except FileNotFoundError:  # an object store has no folder until something is written below it
        entries = []
    for removed in partials.sweep(fs, entries, name, local=local):
        log.info("removed %s, the partial file of an earlier write of %s that did not finish", removed, shown or path)
    tmp = partials.name(parent, name)
    try:
        with fs.open(tmp, "wb") as handle:
            if local:
                partials.hold(handle)
            yield handle
            if durable and local:
                handle.flush()
                os.fsync(handle.fileno())
        what, landed = f"the output {shown or path}", (lambda: output and not fs.exists(tmp))
        with stopping.committing(what, landed, output=shown or path) as done:
            _move(fs, tmp, path, local=local)
            if output:
                done()
        if durable and local:
            fsync_dir(parent)
    except BaseException as exc:
        if not transient(exc):
            with contextlib.suppress(Exception):
                if fs.exists(tmp):
                    fs.rm_file(tmp)  # by its name: fsspec's rm reads a name holding * ? [ as a glob
        raise


def _move(fs: Any, source: str, target: str, *, local: bool) -> None:
    """Move one file by its name (fsspec's ``mv`` on an object store reads a name holding ``*``, ``?`` or ``[``
    as a glob): a rename locally, a copy and a delete on an object store."""
    if local:
        fs.mv(source, target)
    else:
        fs.cp_file(source, target)
        fs.rm_file(source)


def fsync_dir(path: str) -> None:
    """Make a folder's entries (a file just moved or linked into it) survive a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
