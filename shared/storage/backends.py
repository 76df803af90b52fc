"""Where a store's bytes live: a small protocol, and a backend for a local folder and one for any fsspec URL.

A backend knows how to put a whole file so that readers see all of it or nothing, how to create a file only if
it does not exist yet (the commit), and how to get, list and remove files. :func:`open_backend` picks one by
the store URL's scheme: a path or ``file://`` is a local folder, anything else goes through fsspec. The store
(:mod:`shared.storage.store`) decides what to write where; a backend only moves bytes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import uuid
from typing import Any, Protocol

from shared.errors import ArtifactRejected, ConfigError
from shared.process import faults, partials
from shared.process.atomic import fsync_dir, replacing
from shared.storage import manifest as shape
from shared.tables.data import filesystem

STORE_ENV = "MODELFLEET_STORE"
# The most bytes read of a store file that no manifest gives a size: a manifest, a compiled library's record
# (its check sample: about 15 kB per feature), an alias event, a pin, a drift part. A larger one is refused.
RECORD_LIMIT = 64 * 2**20


class WrongSize(ArtifactRejected):
    """A store file that is not the size recorded for it, or larger than :data:`RECORD_LIMIT`: refused unread."""

    def __init__(self, path: str, found: int, expected: int | None, *, more: bool = False) -> None:
        self.path, self.found, self.expected, self.more = path, found, expected, more
        if expected is None:
            msg = f"store file {path} is {self.shown} bytes, more than the {RECORD_LIMIT} a record of ours can be"
        else:
            msg = f"store file {path} is {self.shown} bytes, its record says {expected}"
        super().__init__(f"{msg}; refusing it (damaged, or not written by modelfleet)")

    @property
    def shown(self) -> str:
        """The size found: a number, or ``more than N`` when the file grew past what was read of it."""
        return f"more than {self.found}" if self.more else str(self.found)


def limit(path: str, found: int | None, size: int | None) -> int:
    """The most bytes a store file that must be ``size`` bytes (None: at most RECORD_LIMIT) may hold; WrongSize,
    before any byte is read, if ``found`` (its size, when the filesystem says it cheaply) is not that."""
    most = RECORD_LIMIT if size is None else size
    if found is not None and (found > most or (size is not None and found != size)):
        raise WrongSize(path, found, size)
    return most


def checked(path: str, data: bytes, size: int | None) -> bytes:
    """``data``, read as one byte more than :func:`limit` allows, if it is what that allows; WrongSize otherwise."""
    most = RECORD_LIMIT if size is None else size
    if len(data) > most or (size is not None and len(data) != size):
        raise WrongSize(path, min(len(data), most), size, more=len(data) > most)
    return data


class Backend(Protocol):
    """The operations a store needs of the place its bytes live. Paths are the backend's own (under ``root``)."""

    url: str
    root: str
    fs: Any
    may_ignore_create_only: bool  # a remote store can sit behind a proxy that drops If-None-Match: probe it

    def get(self, path: str, inside: str | None = None, size: int | None = None) -> bytes:
        """The whole file, which must be ``size`` bytes (without it: at most RECORD_LIMIT); WrongSize otherwise,
        found by its size before it is read, and never reading more than one byte past the limit. With
        ``inside``, ArtifactRejected if it is a link or resolves outside that folder."""
        ...

    def get_many(self, paths: list[str]) -> dict[str, bytes]:
        """Several whole files at once (concurrently where the filesystem can), by path, each at most
        RECORD_LIMIT bytes (WrongSize otherwise)."""
        ...

    def put(self, path: str, data: bytes, fault: str) -> None:
        """Write a whole file: readers see all of it or nothing. ``fault`` names its crash points."""
        ...

    def put_if_absent(self, path: str, data: bytes, fault: str = "manifest") -> bool:
        """Create ``path`` with ``data`` only if nothing is there yet; return whether this call created it."""
        ...

    def entries(self, folder: str) -> list[tuple[str, bool]]:
        """What ``folder`` holds, as it is now: each entry's name and whether it is a folder (none if missing)."""
        ...

    def list(self, pattern: str) -> list[str]:
        """The paths matching a glob ``pattern``, as they are now (no cached listing)."""
        ...

    def remove(self, path: str) -> None:
        """Remove a file or a folder and everything under it."""
        ...

    def exists(self, path: str) -> bool: ...

    def modified(self, path: str) -> dt.datetime | None:
        """When ``path`` was last written, if the backend says."""
        ...

    def check_writable(self) -> None:
        """PermissionError (or the backend's own error) unless files can be written under ``root``."""
        ...

    def durable(self, folder: str) -> None:
        """Make what was written in ``folder`` survive a crash before anything names it."""
        ...

    def holding(self, folder: str) -> contextlib.AbstractContextManager[None]:
        """Create ``folder`` and mark it as this live writer's while the body runs (:mod:`shared.process.partials`)."""
        ...

    def abandoned(self, folder: str) -> bool:
        """Whether ``folder``'s writer is gone, by :mod:`shared.process.partials`' rules: never a live writer's."""
        ...


_CREATE_ONLY: set[str] = set()  # places probed to refuse a second create, in this process


def check_create_only(backend: Backend, where: str, why: str) -> None:
    """ConfigError (78) unless ``backend`` refuses a second create of one object (some S3 proxies drop
    If-None-Match). Probed once per place and process, with an object of this process's own beside the others'."""
    if backend.url in _CREATE_ONLY or not backend.may_ignore_create_only:
        return
    probe = f"{backend.root}/.modelfleet-probe-{uuid.uuid4().hex}"
    first = backend.put_if_absent(probe, b"probe", fault="probe")
    second = backend.put_if_absent(probe, b"again", fault="probe")
    with contextlib.suppress(OSError):
        backend.remove(probe)
    if not (first and not second):
        msg = f"{where} does not refuse a second create of one object (a proxy that drops If-None-Match?); {why}"
        raise ConfigError(msg)
    _CREATE_ONLY.add(backend.url)


def open_backend(url: str) -> Backend:
    """The backend for a store URL: a local folder for a path or ``file://``, else fsspec."""
    fs, root = filesystem(url)
    root = root.rstrip("/")
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    return LocalBackend(url, fs, root) if "file" in protocols else FsspecBackend(url, fs, root)


class FsspecBackend:
    """Any fsspec filesystem: an object store (s3, gs, az) publishes each PUT whole, and ``xb`` is create-only."""

    may_ignore_create_only = True

    def __init__(self, url: str, fs: Any, root: str) -> None:
        self.url, self.fs, self.root = url, fs, root

    def get(self, path: str, inside: str | None = None, size: int | None = None) -> bytes:
        info = self.fs.info(path)  # one HEAD on an object store (a whole-file read asks it too), or the listing's
        found = info.get("size") if info.get("type") == "file" and isinstance(info.get("size"), int) else None
        most = limit(path, found, size)
        if found == 0:
            return b""  # a range of an empty object is no range: S3 answers 416
        return checked(path, self.fs.cat_file(path, start=0, end=most + 1), size)  # one ranged GET

    def get_many(self, paths: list[str]) -> dict[str, bytes]:
        if not paths:
            return {}
        # one ranged read each, concurrently where the filesystem can; a failed one (missing, empty) on its own
        found = self.fs.cat_ranges(list(paths), 0, RECORD_LIMIT + 1, on_error="return")
        return {
            path: self.get(path) if isinstance(data, BaseException) else checked(path, data, None)
            for path, data in zip(paths, found, strict=True)
        }

    def put(self, path: str, data: bytes, fault: str) -> None:
        faults.point(f"{fault}-write")
        self.fs.pipe_file(path, data)  # one PUT: object stores publish it whole or not at all
        faults.point(f"{fault}-written")

    def put_if_absent(self, path: str, data: bytes, fault: str = "manifest") -> bool:
        faults.point(f"{fault}-write")
        try:
            with self.fs.open(path, "xb") as handle:  # S3 If-None-Match, GCS ifGenerationMatch=0
                handle.write(data)
        except FileExistsError:
            return False
        finally:
            self.fs.invalidate_cache()
        return True

    def entries(self, folder: str) -> list[tuple[str, bool]]:
        self.fs.invalidate_cache()
        try:
            found = self.fs.ls(folder, detail=True)
        except FileNotFoundError:
            return []
        return [(item["name"].rstrip("/").rsplit("/", 1)[-1], item["type"] == "directory") for item in found]

    def list(self, pattern: str) -> list[str]:
        self.fs.invalidate_cache()  # object stores cache listings; a commit elsewhere must show
        return self.fs.glob(pattern)

    def remove(self, path: str) -> None:
        self.fs.rm(path, recursive=True)

    def exists(self, path: str) -> bool:
        return self.fs.exists(path)

    def modified(self, path: str) -> dt.datetime | None:
        info = self.fs.info(path)
        stamp = info.get("LastModified") or info.get("mtime") or info.get("updated")
        if isinstance(stamp, (int, float)):
            return dt.datetime.fromtimestamp(stamp, dt.UTC)
        if isinstance(stamp, dt.datetime):
            return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
        return shape.parse_time(stamp) if isinstance(stamp, str) else None

    def check_writable(self) -> None:
        self.fs.invalidate_cache()
        self.fs.ls(self.root.split("/", 1)[0])  # the bucket answers and our credentials work

    def durable(self, folder: str) -> None:
        """Nothing to do: an object store's PUT is durable when it returns."""

    def holding(self, folder: str) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()  # an object store shows an object once it is whole: its age tells

    def abandoned(self, folder: str) -> bool:
        self.fs.invalidate_cache()
        found = self.fs.find(folder, detail=True)
        return bool(found) and all(partials.gone(entry, local=False) for entry in found.values())


class LocalBackend(FsspecBackend):
    """A local folder: whole files by write, fsync and rename; create-only by a hard link; links refused."""

    may_ignore_create_only = False  # link(2) never replaces an existing name

    def __init__(self, url: str, fs: Any, root: str) -> None:
        super().__init__(url, fs, root)
        existing = _nearest_existing(root)
        if not os.path.isdir(existing):
            msg = (
                f"store {url}: {existing} is a file, not a folder; point --store or {STORE_ENV} "
                f"at a folder (it is created if missing)"
            )
            raise ConfigError(msg)

    def get(self, path: str, inside: str | None = None, size: int | None = None) -> bytes:
        if inside is not None and (
            os.path.islink(path) or not os.path.realpath(path).startswith(os.path.realpath(inside) + os.sep)
        ):
            msg = f"{os.path.relpath(path, inside)} is a link or leaves the version folder; refusing it"
            raise ArtifactRejected(msg)
        with open(path, "rb") as handle:  # the size of what is open: no race with a rename in between
            found = os.fstat(handle.fileno()).st_size
            limit(path, found, size)
            data = handle.read(found + 1)  # (a read allocates what it is asked for: never more than is there)
        if len(data) > found:
            raise WrongSize(path, found, size, more=True)  # it grew while it was read
        return checked(path, data, size)

    def get_many(self, paths: list[str]) -> dict[str, bytes]:
        return {path: self.get(path) for path in paths}

    def put(self, path: str, data: bytes, fault: str) -> None:
        with replacing(self.fs, path, local=True, durable=True) as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
            faults.point(f"{fault}-write")  # a crash half-way through leaves only a hidden partial
            handle.write(data[len(data) // 2 :])
        faults.point(f"{fault}-written")

    def put_if_absent(self, path: str, data: bytes, fault: str = "manifest") -> bool:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _sweep_creates(path)  # a killed create of this same path left its temporary file: a dead writer's
        tmp = f"{path}.{uuid.uuid4().hex}.tmp"
        try:
            _write_synced(tmp, data, f"{fault}-write")
            try:
                os.link(tmp, path)  # atomic and create-only: fails if another attempt committed first
            except FileExistsError:
                return False
            fsync_dir(os.path.dirname(path))
            return True
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def check_writable(self) -> None:
        existing = _nearest_existing(self.root)  # a file in the way was refused when the store was opened
        if not os.access(existing, os.W_OK):
            raise PermissionError(13, "Permission denied", existing)

    def durable(self, folder: str) -> None:
        fsync_dir(folder)  # each file was fsynced as it was written; now the folder entries

    def holding(self, folder: str) -> contextlib.AbstractContextManager[None]:
        os.makedirs(folder, exist_ok=True)
        return partials.holding(folder)

    def abandoned(self, folder: str) -> bool:
        return partials.gone({"name": folder}, local=True)


def _nearest_existing(path: str) -> str:
    """``path`` if it exists, else the nearest folder above it that does: where it would be created."""
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path) or "."
    return path


def _sweep_creates(path: str) -> None:
    """Remove the temporary files that dead creates of ``path`` left beside it (``<name>.<32 hex>.tmp``, held
    by a live writer while it writes: :mod:`shared.process.partials`' rules)."""
    folder, name = os.path.split(path)
    pattern = re.compile(rf"{re.escape(name)}\.[0-9a-f]{{32}}\.tmp")
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if pattern.fullmatch(entry.name) and partials.gone({"name": entry.path}, local=True):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _write_synced(path: str, data: bytes, fault: str) -> None:
    """Write ``data`` to a new local file and fsync it, held as a live writer's while it is written (see
    :mod:`shared.process.partials`); the fault point sits halfway through."""
    with open(path, "wb") as handle:
        partials.hold(handle)
        handle.write(data[: len(data) // 2])
        handle.flush()
        faults.point(fault)
        handle.write(data[len(data) // 2 :])
        handle.flush()
        os.fsync(handle.fileno())
