"""One version per sharded scoring run: the first shard pins the version in the run's output folder.

Each shard of a run is its own process, and may start minutes after the first. If each resolved ``champion``
(or ``latest``) itself, an alias moved mid-run would split the run between two models. So the first shard
to start creates ``<output folder>/_version.json`` exclusively (create-only, as an alias event is), naming the
version it resolved and the alias event it read; every later shard of the run, given the same ``--version``,
scores with that version whatever the alias says by then. The file starts with ``_``, so readers of the
folder (modelfleet, pyarrow, Spark) skip it as they skip hidden files.

A folder is one run: a shard asking for another version than the pin's (another version id, or an alias
that resolves elsewhere under another name) is refused, never mixed in. A new run writes to a new folder
(e.g. one per day: ``--output=s3://lake/scores/churn/{{ ds }}/``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import TYPE_CHECKING, Any

from shared import aliases, backends
from shared.errors import ArtifactRejected, BadArgument

if TYPE_CHECKING:
    from shared.model import Model
    from shared.store import Store

log = logging.getLogger(__name__)

PIN = "_version.json"
PIN_SCHEMA = 1


def floats(store: Store, model: Model, requested: str) -> bool:
    """Whether ``requested`` can name another version later in the run: 'latest', or an alias without @N."""
    if requested == "latest":
        return True
    ref = aliases.reference(requested)
    return ref is not None and ref[1] is None and aliases.current(store, model.name, ref[0]) is not None


def pinned(
    model: Model, store: Store, folder: str, requested: str, manifest: dict[str, Any], shards: int
) -> dict[str, Any]:
    """The version every shard of the run writing ``folder`` scores with: ``{"version", "pin"}`` and, when it
    was read through an alias, ``resolved`` (that event). This shard's ``manifest`` if it is the first, else
    the pin's. BadArgument if the folder holds a run of another model, or of another version by another name."""
    path = f"{folder.rstrip('/')}/{PIN}"
    backend = backends.open_backend(folder)
    backends.check_create_only(backend, f"--output {folder}", "the shards of a run could not agree on a version")
    pin = {
        "schema": PIN_SCHEMA,
        "model": model.name,
        "requested": requested,
        "version": manifest["version"],
        "alias": manifest.get("resolved"),
        "shards": shards,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        "by": aliases.actor(),
    }
    if backend.put_if_absent(path, json.dumps(pin, indent=2, sort_keys=True).encode(), fault="pin"):
        log.info("pinned %s version %s for every shard of this run in %s", model.name, manifest["version"], path)
        return _chosen(pin, path)
    found = read(backend, path)
    if found.get("model") != model.name:
        msg = f"--output {folder} holds a run of {found.get('model')!r}, not {model.name!r}: give another folder"
        raise BadArgument(msg)
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


def _chosen(pin: dict[str, Any], path: str) -> dict[str, Any]:
    return {"version": pin["version"], "pin": path, **({"resolved": pin["alias"]} if pin.get("alias") else {})}


def read(backend: Any, path: str) -> dict[str, Any]:
    """The pin at ``path``, checked for shape; ArtifactRejected if it is not one this build wrote."""
    from shared.versions import VERSION_ID

    try:
        found = json.loads(backend.get(path))
    except (ValueError, RecursionError):
        found = None
    if (
        not isinstance(found, dict)
        or not isinstance(found.get("version"), str)
        or not VERSION_ID.fullmatch(found["version"])
        or not isinstance(found.get("requested"), str)
    ):
        msg = f"{path} is not a version pin this build reads (damaged or edited): remove it to score the run anew"
        raise ArtifactRejected(msg)
    return found
