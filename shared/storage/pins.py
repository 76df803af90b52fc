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

from shared.errors import ArtifactRejected, BadArgument, ConfigError, MissingInput
from shared.storage import aliases, backends

if TYPE_CHECKING:
    from shared.families.model import Model
    from shared.storage.store import Store
    from shared.tables.shards import Shard

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
    pin = _pin(model, requested, manifest, shards, as_of)
    with _at(folder):
        backend = backends.open_backend(folder)
        backends.check_create_only(backend, f"--output {folder}", "the shards of a run could not agree on a version")
        if backend.put_if_absent(path, json.dumps(pin, indent=2, sort_keys=True).encode(), fault="pin"):
            log.info("pinned %s version %s for every shard of this run in %s", model.name, manifest["version"], path)
            return _chosen(pin, path)
        found = read(backend, path)
    return _agree(model, found, pin, path, folder)


def agreed(
    model: Model, folder: str, requested: str, manifest: dict[str, Any], shards: int, as_of: dt.date | None
) -> dict[str, Any] | None:
    """The pin of the run writing ``folder``, checked as :func:`pinned` checks it, without writing one: None if
    the run has none yet. What a shard's plan scores with, in a dry run too."""
    path = f"{folder.rstrip('/')}/{PIN}"
    with _at(folder):
        backend = backends.open_backend(folder)
        found = read(backend, path) if backend.exists(path) else None
    if found is None:
        return None
    return _agree(model, found, _pin(model, requested, manifest, shards, as_of), path, folder)


def _pin(model: Model, requested: str, manifest: dict[str, Any], shards: int, as_of: dt.date | None) -> dict[str, Any]:
    return {
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


def _agree(model: Model, found: dict[str, Any], pin: dict[str, Any], path: str, folder: str) -> dict[str, Any]:
    """The run's pin ``found``, if this shard (whose own would be ``pin``) may join its run; BadArgument if not."""
    _check_same_run(found, pin, folder)
    _check_vouched(model, found, path)
    requested, version = pin["requested"], pin["version"]
    if found["requested"] != requested and found["version"] != version:
        msg = (
            f"--output {folder} holds a run scored with {found['requested']} (version {found['version']}, "
            f"pinned {found.get('at')}); --version={requested} is {version}: the parts of one "
            "folder must come from one version; give the run's --version, or another folder for a new run"
        )
        raise BadArgument(msg)
    if found["version"] != version:
        log.warning(
            "%s now names version %s; this run's first shard pinned %s (%s): scoring with %s",
            requested,
            version,
            found["version"],
            found.get("at"),
            found["version"],
        )
    return _chosen(found, path)


def plan_version(
    model: Model, store: Store, requested: str, output: str | None, part: Shard | None, as_of: dt.date | None
) -> tuple[dict[str, Any], str, bool]:
    """The version a scoring run uses, where its predictions go, and whether its run is pinned already.

    A shard whose run has a pin uses the pinned version (checked as :func:`pinned` checks it); a shard without
    an ``output`` needs a version that cannot move mid-run; an unsharded output must not land in a sharded
    run's folder. BadArgument, MissingInput (a pinned version the store lost) or ArtifactRejected otherwise.
    """
    from shared.storage import artifacts

    if part is not None and output is None and floats(store, model, requested):
        msg = (
            f"--shard with --version={requested}, which can name another version before the last shard starts, "
            f"needs --output: a folder every shard of this run shares (the first shard pins the version there); "
            f"or give a version id or {requested if requested != 'latest' else 'ALIAS'}@N"
        )
        raise BadArgument(msg)
    manifest = artifacts.resolve(store, model, requested)
    target = _target(model, output, part, store, manifest)
    if part is None:
        if output is not None:
            refuse_inside_run(target)
        return manifest, target, False
    found = agreed(model, target.rsplit("/", 1)[0], requested, manifest, part.count, as_of)
    if found is None:
        return manifest, target, False
    if found["version"] != manifest["version"]:
        manifest = _pinned_manifest(model, store, found)
    return manifest | {key: found[key] for key in ("resolved", "pin", "run") if key in found}, target, True


def gone(model: Model, pin: str, version: str) -> str:
    """The message for a run whose pinned version the store no longer holds."""
    return (
        f"this run's pin {pin} names {model.name} version {version}, which the store no longer holds (gc "
        "removed it?): the run cannot finish with one version; score it anew into another folder"
    )


def _pinned_manifest(model: Model, store: Store, pin: dict[str, Any]) -> dict[str, Any]:
    """The manifest of the version a run's pin names; MissingInput naming the pin if the store lost it."""
    from shared.storage import artifacts

    try:
        manifest = artifacts.resolve(store, model, pin["version"])
    except MissingInput:
        raise MissingInput(gone(model, pin["pin"], pin["version"])) from None
    if manifest["version"] != pin["version"]:  # a pin names a version id, never what an alias or 'latest' gives
        msg = f"{pin['pin']} names {pin['version']}, but the store gives {manifest['version']} for it: remove the pin"
        raise ArtifactRejected(msg)
    return manifest


def _target(model: Model, output: str | None, part: Shard | None, store: Store, manifest: dict[str, Any]) -> str:
    """Where predictions go: ``--output`` or the store; with a shard, its part file in that folder."""
    if part is None:
        return output if output is not None else f"{store.url}/{model.name}/predictions/{manifest['version']}.parquet"
    folder = output if output is not None else f"{store.url}/{model.name}/predictions/{manifest['version']}"
    return f"{folder.rstrip('/')}/{part.part_name}"


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
