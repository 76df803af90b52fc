"""The artifact store: versioned, verified model files on a local folder or any fsspec URL.

Layout::

    <store>/<model>/versions/<version>/<attempt>/<file>   files of one training attempt
    <store>/<model>/versions/<version>/manifest.json      written last and create-only: the commit
    <store>/<model>/aliases/<alias>/<generation>.json     an alias's moves, each created exclusively

A version exists only once its manifest exists. Each attempt writes under its own folder, so concurrent
or retried attempts never overwrite each other's bytes, and the first manifest wins. Readers check every
file's size and sha256 against the manifest before any parser sees it.

One cohesive thing: :class:`Store` is the one owner of this layout (every path under a model, every
create-only write, every size and sha256 check on read), and its methods for versions, attempts, compiled
libraries and alias events share those private path and check helpers, so the class stays whole in one module.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.errors import (
    ArtifactRejected,
    BadArgument,
    LocalIOError,
    MissingInput,
    Untrusted,
)
from shared.estimators.formats import ALLOWED as ALLOWED_FORMATS
from shared.process import faults, stopping
from shared.process.failures import store_place, translated
from shared.storage import backends, signing
from shared.storage import manifest as shape
from shared.storage.backends import STORE_ENV, open_backend
from shared.storage.versions import ALIAS, RESERVED, VERSION_ID, check_version_id

log = logging.getLogger(__name__)

DEFAULT_STORE = "./modelfleet-store"
MANIFEST = "manifest.json"
# 2: features are an ordered list (name, kind, levels). 1: features were a mapping, whose order a JSON writer
# with sorted keys lost; such versions are still read, in the order their model file records.
SCHEMA_VERSION = 2
READABLE_SCHEMAS = (1, 2)
COMPILED = "compiled"  # a version's compiled libraries: <version>/compiled/<platform>.json and its .so
NATIVE_FORMAT = "native-library"  # never parsed: loaded only by shared.estimators.compiled after its checks
ATTEMPT_DIGITS = 12  # an attempt folder's name: this many hex digits
ATTEMPT = f"[0-9a-f]{{{ATTEMPT_DIGITS}}}"
GENERATION_DIGITS = 8  # an alias event's file name: its generation, zero-padded (00000001.json)
EVENT_NAME = re.compile(rf"([0-9]{{{GENERATION_DIGITS}}})\.json")
IN_FLIGHT = re.compile(rf"[0-9]{{{GENERATION_DIGITS}}}\.json\.[0-9a-f]{{32}}\.tmp")  # LocalBackend.put_if_absent's


@dataclass(frozen=True)
class Artifact:
    """One file to store: its name inside the version, its bytes and its format."""

    name: str
    data: bytes
    format: str


def store_url(url: str | os.PathLike | None) -> str:
    """The store a command uses: the URL given, else $MODELFLEET_STORE, else the default folder."""
    return os.fspath(url) if url is not None else os.environ.get(STORE_ENV) or DEFAULT_STORE


def new_version_id() -> str:
    """Return a fresh version id that sorts by time: ``20261125T041500Z-1a2b3c4d``."""
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{now}-{uuid.uuid4().hex[:8]}"


class Store:
    """Versioned model artifacts under one root: a local folder or an fsspec URL."""

    def __init__(self, url: str | os.PathLike | None = None) -> None:
        self.url = store_url(url)
        if not self.url:
            msg = "the store URL is empty; give a folder or URL, or leave --store out for the default"
            raise BadArgument(msg)
        self.backend = open_backend(self.url)
        self.fs, self.root = self.backend.fs, self.backend.root
        signing.check()  # a key that is not one is 78 before any work, not at the first record

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # -- reading ---------------------------------------------------------------------------------

    def versions(self, model: str) -> list[dict[str, Any]]:
        """Return the readable committed versions of ``model``, oldest first, as their manifests."""
        return self.listing(model)[0]

    def listing(self, model: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Return the readable manifests of ``model`` (oldest first) and the entries that cannot be read.

        One damaged entry (an operator's backup copy, a stray folder) must not hide every other version: it is
        listed apart, as ``{"version", "error", "time"}`` (the commit time it claims, else when it was written),
        and the caller decides whether it matters.
        """
        pattern = f"{self._model_dir(model)}/versions/*/{MANIFEST}"
        with _translated(self.url):
            paths = self.backend.list(pattern)
        readable, unreadable = [], []
        for path in paths:
            folder, raw = path.rstrip("/").split("/")[-2], None
            try:
                raw = self._fetch_manifest(path)
                readable.append(self._check_manifest(raw, path, model, folder))
            except ArtifactRejected as exc:
                when = _claimed_time(raw) or self._modified(path)
                unreadable.append({"version": folder, "error": str(exc), "time": when})
        return sorted(readable, key=lambda m: (m["committed_at"], m["version"])), unreadable

    def resolve(self, model: str, version: str = "latest") -> dict[str, Any]:
        """Return the manifest of ``version`` (``latest`` is the newest commit); MissingInput if none.

        For ``latest``, unreadable entries older than the newest readable commit are skipped with a warning;
        one that may be newer refuses (3): scoring an older version in its place would be a silent wrong result.
        """
        if version == "latest":
            found, unreadable = self.listing(model)
            newest = shape.parse_time(found[-1]["committed_at"]) if found else None
            for entry in unreadable:
                if newest is None or entry["time"] is None or entry["time"] >= newest:
                    msg = (
                        f"the newest entry of {model!r} in store {self.url} may be {entry['version']!r}, which "
                        f"cannot be read ({entry['error']}); repair or remove it, or name a --version"
                    )
                    raise ArtifactRejected(msg)
                log.warning("skipping %s version %s, which cannot be read: %s", model, entry["version"], entry["error"])
            if not found:
                msg = f"no trained version of {model!r} in store {self.url}: run '{model} train' first"
                raise MissingInput(msg)
            return found[-1]
        path = self._manifest_path(model, check_version_id(version))
        with _translated(self.url):
            exists = self.backend.exists(path)
        if not exists:
            known = [m["version"] for m in self.versions(model)][-5:]
            msg = f"version {version!r} of {model!r} not found in store {self.url}; newest: {known or 'none'}"
            raise MissingInput(msg)
        return self._read_manifest(path, model, version)

    def read(self, manifest: dict[str, Any], name: str) -> tuple[bytes, str]:
        """Return the verified bytes and format of file ``name`` of a committed version.

        Raises ArtifactRejected if the file is missing, escapes its version folder, or its size or
        sha256 differ from the manifest: no parser ever sees a file that fails these checks.
        """
        entry = next((f for f in manifest["files"] if f["name"] == name), None)
        where = f"{manifest['model']} version {manifest['version']}"
        if entry is None:
            msg = f"{where} has no file named {name!r}; the manifest lists {[f['name'] for f in manifest['files']]}"
            raise ArtifactRejected(msg)
        return self._verified(manifest, entry, ALLOWED_FORMATS), entry["format"]

    def compiled(self, manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The compiled libraries recorded for a committed version, by platform key
        (:mod:`shared.estimators.compiled`); a record that cannot be read is ``{"error": ...}`` under its key."""
        folder = f"{self._version_dir(manifest['model'], manifest['version'])}/{COMPILED}"
        with _translated(self.url):
            paths = self.backend.list(f"{folder}/*.json")
        found: dict[str, dict[str, Any]] = {}
        for path in sorted(paths):
            key = path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".json")
            try:
                with _translated(self.url):
                    record = json.loads(self.backend.get(path))  # at most RECORD_LIMIT bytes
                if not isinstance(record, dict) or not isinstance(record.get("file"), dict):
                    raise ValueError("no file entry")
                signing.verify(record, "it")  # with a verify key: before anything it names is read or loaded
            except Untrusted as exc:  # not a damaged build to fall back from: a record nobody trusted signed
                found[key] = {"error": f"its record {COMPILED}/{key}.json: {exc}", "untrusted": True}
                continue
            except (ValueError, RecursionError, LocalIOError, MissingInput, ArtifactRejected) as exc:
                found[key] = {"error": f"its record {COMPILED}/{key}.json cannot be read ({exc})"}
                continue
            found[key] = record
        return found

    def read_compiled(self, manifest: dict[str, Any], record: dict[str, Any]) -> bytes:
        """The verified bytes of a compiled library a record of :meth:`compiled` names (size and sha256)."""
        entry = {**record["file"], "path": f"{COMPILED}/{record['file'].get('path')}"}
        return self._verified(manifest, entry, (NATIVE_FORMAT,), "its record")

    def add_compiled(self, manifest: dict[str, Any], key: str, data: bytes, record: dict[str, Any]) -> dict:
        """Store a compiled library of a committed version for platform ``key``, and its record, created once:
        if another process recorded one for that key first, that one stays and is returned. Its attempt folder
        is held as a live writer's (see :mod:`shared.process.partials`) until the record names it."""
        folder = f"{self._version_dir(manifest['model'], manifest['version'])}/{COMPILED}"
        attempt = uuid.uuid4().hex[:ATTEMPT_DIGITS]
        entry = {"path": f"{attempt}/{key}.so", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        body = signing.sign({**record, "key": key, "file": entry | {"format": NATIVE_FORMAT}})
        with _translated(self.url), self.backend.holding(f"{folder}/{attempt}"):
            self.backend.put(f"{folder}/{entry['path']}", data, fault="library")
            self.backend.durable(f"{folder}/{attempt}")
            raw = json.dumps(body, indent=2, sort_keys=True).encode()
            if self.backend.put_if_absent(f"{folder}/{key}.json", raw, fault="record"):
                return body
            with contextlib.suppress(OSError):
                self.backend.remove(f"{folder}/{attempt}")
        return {**self.compiled(manifest).get(key, {}), "already_compiled": True}

    def abandoned_compiled(self, model: str, versions: list[str] | None = None) -> list[dict[str, str]]:
        """The attempt folders of compiled libraries that no record names and whose writer is gone (killed
        between its library and its record), of ``versions`` (default: every one), each ``{"version", "path"}``.

        A folder being written is never one (the rules of :mod:`shared.process.partials`); while any record of a version
        cannot be read, none of its folders is (that record may name one)."""
        with _translated(self.url):
            listed = self.backend.list(f"{self._model_dir(model)}/versions/*/{COMPILED}/*")
        folders: dict[str, list[str]] = {}
        for path in listed:
            version, name = path.rstrip("/").split("/")[-3], path.rstrip("/").split("/")[-1]
            if re.fullmatch(ATTEMPT, name) and (versions is None or version in versions):
                folders.setdefault(version, []).append(name)
        found = []
        for version, names in sorted(folders.items()):
            folder = f"{self._version_dir(model, version)}/{COMPILED}"
            with _translated(self.url):
                gone = [name for name in sorted(names) if self.backend.abandoned(f"{folder}/{name}")]
            # only now the records: one its writer made before letting go of its folder is seen
            records = list(self.compiled({"model": model, "version": version}).values()) if gone else []
            if any("error" in record for record in records):
                continue
            named = {str(record["file"].get("path")).split("/")[0] for record in records}
            found += [{"version": version, "path": f"{COMPILED}/{name}"} for name in gone if name not in named]
        return found

    def remove_abandoned(self, model: str, abandoned: list[dict[str, str]]) -> None:
        """Remove attempt folders :meth:`abandoned_compiled` found (best effort: one that is gone is no error)."""
        for item in abandoned:
            with _translated(self.url), contextlib.suppress(OSError, MissingInput, LocalIOError):
                self.backend.remove(f"{self._version_dir(model, item['version'])}/{item['path']}")
                log.info("removed %s of %s version %s, left by a dead compile", item["path"], model, item["version"])

    def remove_compiled(self, manifest: dict[str, Any], key: str, judged: dict[str, Any]) -> None:
        """Remove a version's compiled library for ``key`` that failed its checks: its record and its own attempt
        folder, only while the record is still ``judged`` (the one found bad, not one another process just
        stored in its place); a record already gone is no error."""
        folder = f"{self._version_dir(manifest['model'], manifest['version'])}/{COMPILED}"
        if self.compiled(manifest).get(key) != judged:
            return
        with _translated(self.url), contextlib.suppress(MissingInput):
            self.backend.remove(f"{folder}/{key}.json")
        path = (judged.get("file") or {}).get("path") if isinstance(judged.get("file"), dict) else None
        if isinstance(path, str) and re.fullmatch(rf"{ATTEMPT}/[^/]+\.so", path):  # <attempt>/<key>.so only
            with _translated(self.url), contextlib.suppress(OSError, MissingInput, LocalIOError):
                self.backend.remove(f"{folder}/{path.split('/')[0]}")

    def _verified(
        self, manifest: dict[str, Any], entry: dict[str, Any], allowed: tuple[str, ...], says: str = "the manifest"
    ) -> bytes:
        """The bytes of a file ``entry`` of a version names, after its path, format, size and sha256 checks."""
        where = f"{manifest['model']} version {manifest['version']}"
        relative = _safe_relative(entry.get("path"), where)
        if entry.get("format") not in allowed:
            msg = f"{where}: {relative} has format {entry.get('format')!r}; allowed: {', '.join(allowed)}"
            raise ArtifactRejected(msg)
        size = entry.get("size")
        if type(size) is not int or size < 0:
            raise ArtifactRejected(f"{where}: {says} gives {relative} no size in bytes ({size!r:.40})")
        version_dir = self._version_dir(manifest["model"], manifest["version"])
        path = f"{version_dir}/{relative}"
        try:
            with _translated(self.url):
                data = self.backend.get(path, inside=version_dir, size=size)  # never more than size + 1 bytes
        except backends.WrongSize as exc:
            msg = f"{where}: {relative} is {exc.shown} bytes, {says} says {size}: file damaged; it was not loaded"
            raise ArtifactRejected(msg) from None
        except ArtifactRejected as exc:  # a link, or a path that resolves outside its version folder
            raise ArtifactRejected(f"{where}: {exc}") from exc
        except MissingInput as exc:
            msg = f"{where}: file {relative} listed in {says} is missing"
            raise ArtifactRejected(msg) from exc
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry.get("sha256"):
            msg = f"{where}: {relative} has sha256 {digest[:12]}…, {says} says {str(entry.get('sha256'))[:12]}…"
            raise ArtifactRejected(msg)
        return data

    # -- writing ---------------------------------------------------------------------------------

    def commit(self, model: str, version: str, files: list[Artifact], record: dict[str, Any]) -> dict:
        """Write ``files`` and commit them as ``version`` of ``model``; return the manifest that won.

        If the version is already committed (a retry, or a concurrent attempt that finished first),
        nothing is changed and the existing manifest is returned with ``already_committed`` set.
        """
        check_version_id(version)
        attempt = uuid.uuid4().hex[:12]
        version_dir = self._version_dir(model, version)
        entries = []
        with _translated(self.url):
            for item in files:
                relative = f"{attempt}/{item.name}"
                self.backend.put(f"{version_dir}/{relative}", item.data, fault="model")
                entries.append(
                    {
                        "name": item.name,
                        "path": relative,
                        "size": len(item.data),
                        "sha256": hashlib.sha256(item.data).hexdigest(),
                        "format": item.format,
                    }
                )
            manifest = {
                "schema_version": SCHEMA_VERSION,
                "model": model,
                "version": version,
                "attempt": attempt,
                "committed_at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
                "files": entries,
                **record,
            }
            self.backend.durable(f"{version_dir}/{attempt}")  # the files must be durable before the commit names them
            manifest = signing.sign(manifest)  # with a signing key: the manifest, and so every file it lists
            body = json.dumps(manifest, indent=2, sort_keys=True).encode()
            stopping.check()  # never commit after a signal asked to stop, even one something swallowed
            path = f"{version_dir}/{MANIFEST}"
            landed = self._landed(path, body)
            with stopping.committing(f"{model} version {version}", landed, model=model, version=version) as done:
                if self.backend.put_if_absent(path, body):
                    done()  # from here on a stop says this version was committed
                    faults.point("manifest-written")
                    return manifest
            with contextlib.suppress(OSError):
                self.backend.remove(f"{version_dir}/{attempt}")  # another attempt won: drop our copy
        existing = self.resolve(model, version)
        return {**existing, "already_committed": True}

    # -- retention (the policy: shared.commands.gc) -------------------------------------------------

    def uncommitted(self, model: str) -> list[dict[str, Any]]:
        """Version folders with no manifest (a training attempt being written, or one whose writer died), each
        ``{"version", "modified"}``: when its newest file was written, if the backend says."""
        with _translated(self.url):
            committed = {
                p.rstrip("/").split("/")[-2]
                for p in self.backend.list(f"{self._model_dir(model)}/versions/*/{MANIFEST}")
            }
            files = self.backend.list(f"{self._model_dir(model)}/versions/*/*/*")
        found: dict[str, list[str]] = {}
        for path in files:
            version = path.rstrip("/").split("/")[-3]
            if version not in committed:
                found.setdefault(version, []).append(path)
        out = []
        for version, paths in sorted(found.items()):
            stamps = [stamp for stamp in map(self._modified, paths) if stamp is not None]
            out.append({"version": version, "modified": max(stamps) if stamps else None})
        return out

    def retire(self, model: str, version: str) -> bytes:
        """Remove the manifest of ``version``: from now on it does not exist. Return the manifest's bytes (to
        :meth:`reinstate` it if the version turns out to be needed)."""
        path = self._manifest_path(model, version)
        with _translated(self.url):
            body = self.backend.get(path)
            self.backend.remove(path)
        return body

    def reinstate(self, model: str, version: str, body: bytes) -> None:
        """Put back a manifest :meth:`retire` removed (create-only: a new commit of that id wins)."""
        with _translated(self.url):
            self.backend.put_if_absent(self._manifest_path(model, version), body)

    def purge(self, model: str, version: str) -> None:
        """Remove the folder of a version that has no manifest (retired, or an attempt that was never committed)."""
        with _translated(self.url):
            if self.backend.exists(self._manifest_path(model, version)):
                msg = f"{model} version {version} is committed; retire it before removing its files"
                raise BadArgument(msg)
            self.backend.remove(self._version_dir(model, version))

    # -- aliases (their meaning: shared.storage.aliases) ----------------------------------------------------

    def alias_names(self, model: str) -> list[str]:
        """The names of ``model``'s aliases that have at least one event, sorted."""
        with _translated(self.url):
            paths = self.backend.list(f"{self._model_dir(model)}/aliases/*/{'[0-9]' * GENERATION_DIGITS}.json")
        found = sorted({path.rstrip("/").split("/")[-2] for path in paths})
        for stray in [name for name in found if not ALIAS.fullmatch(name) or name in RESERVED]:
            # no command can name it, so it can mean nothing: skipped (said), never a reason to refuse the rest
            log.warning("%s: aliases/%s is no alias (not a name an alias may have); it is skipped", model, stray)
        return [name for name in found if ALIAS.fullmatch(name) and name not in RESERVED]

    def alias_generations(self, model: str, alias: str) -> list[int]:
        """The generations of one alias's events, as their file names number them, sorted; ArtifactRejected for a
        file there that is no event."""
        with _translated(self.url):
            entries = self.backend.entries(self._alias_dir(model, alias))
        generations = []
        for name, folder in entries:
            if not folder and IN_FLIGHT.fullmatch(name):
                continue  # a local create's own partial (killed or still writing): never an event
            found = EVENT_NAME.fullmatch(name)
            if found is None or folder:
                what = "a folder" if folder else "a file"
                msg = (
                    f"alias {alias!r} of {model!r} holds {name!r}, {what} that is no event "
                    f"({'0' * (GENERATION_DIGITS - 1)}1.json, ...); the log was damaged: remove it from the store"
                )
                raise ArtifactRejected(msg)
            generations.append(int(found.group(1)))
        return sorted(generations)

    def alias_events(self, model: str, alias: str, generations: list[int]) -> dict[int, bytes]:
        """The raw events of these generations of one alias (fetched at once: one round trip on an object store)."""
        paths = {generation: self._alias_event_path(model, alias, generation) for generation in generations}
        with _translated(self.url):
            found = self.backend.get_many(list(paths.values()))
        return {generation: found[path] for generation, path in paths.items()}

    def create_alias_event(self, model: str, alias: str, generation: int, body: bytes) -> bool:
        """Create event ``generation`` of an alias if no event has that generation yet; whether this one did."""
        path = self._alias_event_path(model, alias, generation)
        moved = {"alias": alias, "generation": generation, "version": json.loads(body).get("version")}
        what = f"{model}'s alias {alias} -> {moved['version']} (generation {generation})"
        with _translated(self.url), stopping.committing(what, self._landed(path, body), **moved) as done:
            if not self.backend.put_if_absent(path, body, fault="alias"):
                return False
            done()
            return True

    def check_create_only(self) -> None:
        """ConfigError (78) unless the store refuses a second create of one object (some S3 proxies ignore
        If-None-Match): an alias's moves are safe only where that holds. Probed once per store and process."""
        with _translated(self.url):
            backends.check_create_only(
                self.backend,
                f"store {self.url}",
                "aliases need create-only writes to be moved safely: use a store that enforces them",
            )

    def check_writable(self) -> None:
        """Make sure the store's root is (or can be created as) a writable folder, before any real work."""
        with _translated(self.url):
            self.backend.check_writable()

    def exists(self, model: str, version: str) -> bool:
        """Return whether ``version`` of ``model`` is committed."""
        with _translated(self.url):
            return self.backend.exists(self._manifest_path(model, check_version_id(version)))

    # -- paths and primitives --------------------------------------------------------------------

    def _model_dir(self, model: str) -> str:
        return f"{self.root}/{model}"

    def _version_dir(self, model: str, version: str) -> str:
        return f"{self._model_dir(model)}/versions/{version}"

    def _alias_dir(self, model: str, alias: str) -> str:
        return f"{self._model_dir(model)}/aliases/{alias}"

    def _alias_event_path(self, model: str, alias: str, generation: int) -> str:
        return f"{self._alias_dir(model, alias)}/{generation:0{GENERATION_DIGITS}d}.json"

    def _landed(self, path: str, body: bytes) -> Callable[[], bool]:
        """Whether a create-only write of ``body`` at ``path`` took place (for a stop raised around it)."""
        return lambda: self.backend.get(path) == body

    def _manifest_path(self, model: str, version: str) -> str:
        return f"{self._version_dir(model, version)}/{MANIFEST}"

    def _modified(self, path: str) -> dt.datetime | None:
        """When a store entry was last written, if the backend says."""
        try:
            with _translated(self.url):
                return self.backend.modified(path)
        except (MissingInput, LocalIOError):
            return None

    def _read_manifest(self, path: str, model: str, version: str) -> dict[str, Any]:
        """Read and check a manifest; its model and version must be those of the folder it was found in."""
        return self._check_manifest(self._fetch_manifest(path), path, model, version)

    def _fetch_manifest(self, path: str) -> bytes:
        try:
            with _translated(self.url):
                return self.backend.get(path)
        except LocalIOError as exc:  # a folder named manifest.json, an unreadable entry
            msg = f"manifest {path} cannot be read as a file: {exc}"
            raise ArtifactRejected(msg) from exc

    def _check_manifest(self, raw: bytes, path: str, model: str, version: str) -> dict[str, Any]:
        """Parse and check a manifest's bytes; its model and version must be those of its folder."""
        try:
            manifest = json.loads(raw)
        except ValueError as exc:
            msg = f"manifest {path} is not valid JSON: {exc}"
            raise ArtifactRejected(msg) from exc
        except RecursionError:  # nested thousands deep: no manifest this build wrote
            msg = f"manifest {path} nests too deeply to be a modelfleet manifest; refusing it"
            raise ArtifactRejected(msg) from None
        schema = manifest.get("schema_version") if isinstance(manifest, dict) else None
        if (
            isinstance(manifest, dict)
            and "schema_version" in manifest
            and (type(schema) is not int or schema not in READABLE_SCHEMAS)
        ):
            readable = " and ".join(map(str, READABLE_SCHEMAS))  # True == 1, but it is no schema number
            msg = f"manifest {path} has schema {schema!r:.40}; this build reads schemas {readable}"
            raise ArtifactRejected(msg)
        shape.check(manifest, path)
        if manifest["model"] != model or manifest["version"] != version or not VERSION_ID.fullmatch(version):
            msg = (
                f"manifest {path} claims to be {manifest['model']!r:.80} version {manifest['version']!r:.80}, "
                f"but it sits in the folder of {model!r} version {version!r}; refusing it"
            )
            raise ArtifactRejected(msg)
        signing.verify(manifest, f"manifest {path}")  # with a verify key: before any file it lists is read
        return manifest


def _claimed_time(raw: bytes | None) -> dt.datetime | None:
    """The commit time an unreadable manifest claims, if it is JSON with one (a backup copy's is old)."""
    try:
        claimed = json.loads(raw).get("committed_at") if raw is not None else None
    except (ValueError, AttributeError, RecursionError):
        return None
    return shape.parse_time(claimed) if isinstance(claimed, str) else None


def _safe_relative(path: Any, where: str) -> str:
    """Return a manifest path if it stays inside its version folder, else raise ArtifactRejected."""
    parts = str(path).split("/")
    if not isinstance(path, str) or path.startswith(("/", "\\")) or ".." in parts or "" in parts or ":" in path:
        msg = f"{where}: manifest path {path!r} leaves the version folder; refusing to read it"
        raise ArtifactRejected(msg)
    return path


def _translated(url: str) -> contextlib.AbstractContextManager[None]:
    """Map filesystem errors to modelfleet errors that name the store (the rules of :mod:`shared.process.failures`)."""
    return translated(store_place(url))
