"""A sharded run's drift counts: each shard keeps its own beside the run's pin, and the run's verdict comes from
all of them.

Shard K of N writes ``<output folder>/_drift/part-K-of-N.json`` (its counts over the version's bins) after its
predictions are in place. It then looks for the counts of all N shards, by their names (never by listing
order): the shard that finds them all (the last to finish) merges them in shard order into exactly the counts
of one pass and writes the run's verdict to ``_drift/run.json``; the others report the run as pending. The
``drift`` command does the same merge later, from any machine. The folder starts with ``_``, so readers of the
predictions skip it as they skip the pin.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from shared import backends
from shared.errors import ArtifactRejected, BadArgument

FOLDER = "_drift"
VERDICT = "run.json"


def check_folder(folder: str) -> None:
    """BadArgument before any work if the run's counts could not be kept in ``folder`` (``_drift`` is a file)."""
    path = f"{folder.rstrip('/')}/{FOLDER}"
    with _at(folder):
        backend = backends.open_backend(folder)
        if backend.exists(path) and not backend.fs.isdir(path):
            msg = f"--output {folder}: {path} is a file, where the run keeps its drift counts; remove it"
            raise BadArgument(msg)


def check_input(folder: str, index: int, count: int, fingerprint: str) -> None:
    """ArtifactRejected (3) before any work if the run's other shards counted another input than this shard
    reads (a folder reused for another run): its part would mix two runs. One part is read: the parts of a
    run that was never mixed all say the same."""
    with _at(folder):
        backend = backends.open_backend(folder)
        listed = backend.list(f"{folder.rstrip('/')}/{FOLDER}/part-*-of-{count:05d}.json")
        own = part_path(folder, index, count).rsplit("/", 1)[-1]
        others = sorted(path for path in listed if path.rsplit("/", 1)[-1] != own)
        if not others:
            return
        try:
            found = json.loads(backend.get(others[0])).get("input")
        except (ValueError, AttributeError, RecursionError):
            return  # a damaged part is the merge's to refuse, naming it
    if found is not None and found != fingerprint:
        msg = (
            f"the shards of the run in {folder} read another input than this shard (a folder reused for another "
            f"run?): its part would mix two runs; score the run anew into a new folder. Nothing was written"
        )
        raise ArtifactRejected(msg)


def part_path(folder: str, index: int, count: int) -> str:
    """Where shard ``index`` of ``count`` keeps its counts."""
    return f"{folder.rstrip('/')}/{FOLDER}/part-{index:05d}-of-{count:05d}.json"


def write_part(folder: str, index: int, count: int, counts: dict[str, Any]) -> str:
    """Keep one shard's counts (a retried shard replaces its own, the same counts again); return the path."""
    path = part_path(folder, index, count)
    with _at(folder):
        backends.open_backend(folder).put(path, json.dumps(counts).encode(), fault="drift")
    return path


def gather(folder: str, count: int, version: str) -> tuple[list[dict[str, Any]], list[int]]:
    """The counts of all the run's shards, in shard order, or the indexes of those still missing (one listing,
    and reads only when all are there). ArtifactRejected for counts that are not of this version, or not
    counts this build wrote."""
    paths = [part_path(folder, k, count) for k in range(count)]
    wanted = {path.rsplit("/", 1)[-1]: k for k, path in enumerate(paths)}
    with _at(folder):
        backend = backends.open_backend(folder)
        listed = backend.list(f"{folder.rstrip('/')}/{FOLDER}/part-*-of-{count:05d}.json")  # one listing
        there = {wanted[name]: path for path in listed if (name := path.rsplit("/", 1)[-1]) in wanted}
        missing = [k for k in range(count) if k not in there]
        found = backend.get_many([there[k] for k in range(count)]) if not missing else {}
    if missing:
        return [], missing
    parts = []
    for k in range(count):  # in shard order, by name
        path = paths[k]
        try:
            part = json.loads(found[there[k]])
        except (ValueError, RecursionError):
            part = None
        if not isinstance(part, dict) or not isinstance(part.get("features"), list) or "prediction" not in part:
            msg = f"{path} is not drift counts this build reads (damaged or edited): score that shard again"
            raise ArtifactRejected(msg)
        if part.get("version") != version:
            msg = (
                f"{path} counts rows scored with version {part.get('version')}, this run's is {version}: the "
                "folder mixes runs; score the run anew into another folder"
            )
            raise ArtifactRejected(msg)
        parts.append(part)
    inputs = {part.get("input") for part in parts}
    if len(inputs) > 1:
        msg = (
            f"the drift counts in {folder}/{FOLDER}/ come from shards that read different inputs (a folder "
            f"reused for another run?): the run's verdict would mix them; score the run anew into a new folder"
        )
        raise ArtifactRejected(msg)
    return parts, missing


def write_verdict(folder: str, verdict: dict[str, Any]) -> str:
    """Keep the run's verdict beside its counts; return the path."""
    path = f"{folder.rstrip('/')}/{FOLDER}/{VERDICT}"
    with _at(folder):
        backends.open_backend(folder).put(path, json.dumps(verdict, indent=2).encode(), fault="drift")
    return path


def _at(folder: str) -> contextlib.AbstractContextManager[None]:
    from shared import pins

    return pins.run_folder(folder, f"drift counts in {FOLDER}/")
