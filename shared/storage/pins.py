"""One version per sharded scoring run: the first shard pins the version in the run's output folder.

Each shard of a run is its own process, and may start minutes after the first. If each resolved ``champion``
(or ``latest``) itself, an alias moved mid-run would split the run between two models. So the first shard
to start creates ``<output folder>/_version.json`` exclusively (create-only, as an alias event is), naming the
version it resolved and the alias event it read; every later shard of the run, given the same ``--version``,
scores with that version whatever the alias says by then. The file starts with ``_``, so readers of the
folder (modelfleet, pyarrow, Spark) skip it as they skip hidden files.

A folder is one run: a shard of another model, shard count or ``--as_of``, or asking for another version
under another name, is refused, never mixed in; so is an unsharded output into the folder. A new run writes
to a new folder (e.g. one per day: ``--output=s3://lake/scores/churn/{{ ds }}/``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from shared.errors import ArtifactRejected, BadArgument, ConfigError
from shared.storage import aliases, backends

if TYPE_CHECKING:
    from shared.families.model import Model
    from shared.storage.store import Store

log = logging.getLogger(__name__)

PIN = "_version.json"
PIN_SCHEMA = 1
ANEW = "remove the pin to score the run anew"


def floats(store: Store, model: Model, requested: str) -> bool:
    """Whether ``requested`` can name another version later in the run: 'latest', or an alias without @N."""
    if requested == "latest":
        return True
    ref = aliases.reference(requested)
    return ref is not None and ref[1] is None and aliases.current(store, model.name, ref[0]) is not None


def pinned(
    model: Model,
    folder: str,
    requested: str,
    manifest: dict[str, Any],
    shards: int,
    as_of: dt.date | None,
) -> dict[str, Any]:
    """The version every shard of the run writing ``folder`` scores with: ``{"version", "pin"}`` and, when it
    was read through an alias, ``resolved`` (that event). This shard's ``manifest`` if it is the first, else
    the pin's. BadArgument if the folder holds another run: of another model, another shard count, another
    --as_of, or another version by another name."""
    path = f"{folder.rstrip('/')}/{PIN}"
    pin = {
        "schema": PIN_SCHEMA,
        "model": model.name,
        "requested": requested,
        "version": manifest["version"],
        "alias": manifest.get("resolved"),
        "shards": shards,
        "as_of": as_of.isoformat() if as_of else None,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        "by": aliases.actor(),
    }
    with _at(folder):
        backend = backends.open_backend(folder)
        backends.check_create_only(backend, f"--output {folder}", "the shards of a run could not agree on a version")
        if backend.put_if_absent(path, json.dumps(pin, indent=2, sort_keys=True).encode(), fault="pin"):
            log.info("pinned %s version %s for every shard of this run in %s", model.name, manifest["version"], path)
            return _chosen(pin, path)
        found = read(backend, path)
    _check_same_run(found, pin, folder)
    _check_vouched(model, found, path)
    if found["requested"] != requested and found["version"] != manifest["version"]:
        msg = (
            f"--output {folder} holds a run scored with {found['requested']} (version {found['version']}, "
            f"pinned {found.get('at')}); --version={requested} is {manifest['version']}: the parts of one "
            "folder must come from one version; give the run's --version, or another folder for a new run"
        )
        raise BadArgument(msg)
    if found["version"] != manifest["version"]:
        log.warning(
            "%s now names version %s; this run's first shard pinned %s (%s): scoring with %s",
            requested,
            manifest["version"],
            found["version"],
            found.get("at"),
            found["version"],
        )
    return _chosen(found, path)


def existing(folder: str) -> dict[str, Any] | None:
    """The pin of the run in ``folder``, if there is one (what a dry run reports, what a plain output checks)."""
    path = f"{folder.rstrip('/')}/{PIN}"
    with _at(folder):
        backend = backends.open_backend(folder)
        return read(backend, path) if backend.exists(path) else None


def refuse_inside_run(target: str) -> None:
    """BadArgument if an unsharded output would land in the folder of a sharded run: beside its parts, it would
    be read as one of them."""
    folder = target.rstrip("/").rsplit("/", 1)[0] if "/" in target.rstrip("/") else "."
    found = existing(folder)
    if found is not None:
        msg = (
            f"--output {target} is inside the folder of a sharded run of {found.get('model')} (pinned to version "
            f"{found['version']} in {folder}/{PIN}): its readers would take it for a part; write it elsewhere"
        )
        raise BadArgument(msg)


def _check_same_run(found: dict[str, Any], pin: dict[str, Any], folder: str) -> None:
    for key, what in (("model", "model"), ("shards", "shard count"), ("as_of", "--as_of")):
        if found.get(key) != pin[key]:
            msg = (
                f"--output {folder} holds a run of another {what} ({found.get(key)}, pinned {found.get('at')}; "
                f"this shard's is {pin[key]}): the parts of one folder must come from one run; give another folder"
            )
            raise BadArgument(msg)


def _check_vouched(model: Model, found: dict[str, Any], path: str) -> None:
    """ArtifactRejected unless what a pin says it read is what the store says: the version a version id names
    is that id, and the version an alias event names is what that event of the store's log names (a pin is
    no signed record: the alias event it names is). A pin of 'latest' names a committed version, no more."""
    from shared.storage.store import Store

    requested, version, event = found["requested"], found["version"], found.get("alias")
    if requested == "latest":
        return
    ref = aliases.reference(requested)  # alias-shaped: an alias, or a version id of that name
    if event is None:  # read as a version id: the pin names that very version
        if version != requested:
            msg = f"{path} says --version={requested} is version {version}: the pin was edited; {ANEW}"
            raise ArtifactRejected(msg)
        return
    if (
        ref is None
        or not isinstance(event, dict)
        or event.get("alias") != ref[0]
        or type(event.get("generation")) is not int
        or ref[1] not in (None, event["generation"])
    ):
        msg = f"{path} says --version={requested} was read through another alias event: the pin was edited; {ANEW}"
        raise ArtifactRejected(msg)
    named, stored = aliases.resolve(Store(model._store_url), model.name, f"{ref[0]}@{event['generation']}")
    if named != version or (stored and stored.get("at")) != event.get("at"):
        msg = (
            f"{path} says {ref[0]}@{event['generation']} named version {version}, but that event of the store's "
            f"log names {named}: the pin was edited; {ANEW}"
        )
        raise ArtifactRejected(msg)


def _chosen(pin: dict[str, Any], path: str) -> dict[str, Any]:
    chosen = {"version": pin["version"], "pin": path, "run": run_id(pin)}
    return chosen | ({"resolved": pin["alias"]} if pin.get("alias") else {})


def run_id(pin: dict[str, Any]) -> str:
    """The identity of the run a pin started: what each of its shards' drift parts records, so that a part of
    another run (another folder, or before the pin was removed) is never merged into this one's."""
    text = json.dumps(pin, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@contextlib.contextmanager
def run_folder(folder: str, keeps: str) -> Iterator[None]:
    """The failures of a sharded run's folder (as --output), where the run ``keeps`` a file of its own: a file
    in the way, or a folder where the file should be, is BadArgument (64); permission, the network, missing
    credentials are mapped as for any output (77, 75)."""
    from shared.process import failures

    with failures.translated(failures.output_place(folder)):
        try:
            yield
        except (ConfigError, IsADirectoryError, NotADirectoryError, FileExistsError) as exc:
            msg = f"--output {folder}: cannot keep the run's {keeps} there ({exc}); with a shard, name a folder"
            raise BadArgument(msg) from None


def _at(folder: str) -> contextlib.AbstractContextManager[None]:
    return run_folder(folder, PIN)


def read(backend: Any, path: str) -> dict[str, Any]:
    """The pin at ``path``, checked for shape; ArtifactRejected if it is not one this build wrote."""
    from shared.storage.versions import VERSION_ID
    from shared.tables.shards import MAX_SHARDS

    try:
        found = json.loads(backend.get(path))
    except (ValueError, RecursionError):
        found = None
    if (
        not isinstance(found, dict)
        or not isinstance(found.get("version"), str)
        or not VERSION_ID.fullmatch(found["version"])
        or found["version"] == "latest"
        or not isinstance(found.get("requested"), str)
        or type(found.get("shards")) is not int
        or not 1 <= found["shards"] <= MAX_SHARDS
    ):
        msg = f"{path} is not a version pin this build reads (damaged or edited): remove it to score the run anew"
        raise ArtifactRejected(msg)
    return found
