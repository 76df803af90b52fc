"""A sharded run's drift counts: each shard keeps its own beside the run's pin, and the run's verdict comes from
all of them, once each.

Shard K of N writes ``<output folder>/_drift/part-K-of-N.json`` (its counts over the version's bins) after its
predictions are in place, with what proves which rows it counts (:func:`provenance`): the run (its pin), its
shard K/N, the identity of the whole input, and the units of the input it read (file, row group, rows,
weight), as :func:`shared.tables.shards.assign` gave them to it. It then looks for the parts of the run by listing
the folder (never a list of N names): the shard that finds all N (the last to finish) checks that they hold
the input's units exactly once, in shard order (:func:`gather`), merges them into exactly the counts of one
pass and writes the run's verdict to ``_drift/run.json``; the others report the run as pending. The ``drift``
command does the same later, from any machine. The folder starts with ``_``, so readers of the predictions skip
it as they skip the pin.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import itertools
import json
import re
from typing import TYPE_CHECKING, Any, NamedTuple

from shared.errors import ArtifactRejected, BadArgument
from shared.storage import backends

if TYPE_CHECKING:
    from shared.tables.shards import Shard

FOLDER = "_drift"
VERDICT = "run.json"
PART_SCHEMA = 2  # 1 (no key): counts without provenance, written before parts proved what they count
_NAME = re.compile(r"part-([0-9]{5,7})-of-([0-9]{5,7})\.json")
SHOWN_MISSING = 10  # a message names at most this many missing shards


class Gathered(NamedTuple):
    """The parts of a run, in shard order (none until all are there), or how many are missing and the first."""

    parts: list[dict[str, Any]]
    missing: int
    first_missing: list[int]


def check_folder(folder: str) -> None:
    """BadArgument before any work if the run's counts could not be kept in ``folder`` (``_drift`` is a file)."""
    path = f"{folder.rstrip('/')}/{FOLDER}"
    with _at(folder):
        backend = backends.open_backend(folder)
        if backend.exists(path) and not backend.fs.isdir(path):
            msg = f"--output {folder}: {path} is a file, where the run keeps its drift counts; remove it"
            raise BadArgument(msg)


def provenance(source: Any, shard: Shard, span: range, run: str) -> dict[str, Any]:
    """What a part records about the rows it counts: the ``run`` (its pin's id), the shard, the identity of
    ``source`` (the whole input), and the units of it in ``span`` (the shard's slice, as :func:`shards.assign`
    gave it), each as [file, row group, rows, weight]."""
    files, units, identity = _identity(source)
    return {
        "schema": PART_SCHEMA,
        "run": run,
        "shard": [shard.index, shard.count],
        "files": files,
        "input": identity,
        "first": span.start,
        "units": units[span.start : span.stop],
    }


def _identity(source: Any) -> tuple[str, list[list[Any]], str]:
    """The digest of ``source``'s file names, its units in order, and the digest of both: the input's identity."""
    units = [[unit.file, unit.group, unit.rows, unit.weight] for unit in source.units]
    files = _digest([str(name) for name in source.files])
    return files, units, _digest([files, units])


def check_input(folder: str, own: dict[str, Any]) -> None:
    """ArtifactRejected (3) before any work if the run's other shards counted another input than this shard
    reads (``own`` is its :func:`provenance`; a folder reused for another run): its part would mix two runs.
    One part is read: the parts of a run that was never mixed all say the same."""
    index, count = own["shard"]
    with _at(folder):
        backend = backends.open_backend(folder)
        others = sorted(path for k, path in _listed(backend, folder, count).items() if k != index)
        if not others:
            return
        try:
            found = json.loads(backend.get(others[0])).get("part", {}).get("input")
        except (ValueError, AttributeError, RecursionError):
            return  # a damaged or older part is the merge's to refuse, naming it
    if found is not None and found != own["input"]:
        msg = (
            f"{others[0]}: the shards of the run in {folder} read another input than this shard (a folder reused "
            f"for another run?): its part would mix two runs; score the run anew into a new folder. Nothing was written"
        )
        raise ArtifactRejected(msg)


def part_path(folder: str, index: int, count: int) -> str:
    """Where shard ``index`` of ``count`` keeps its counts."""
    return f"{folder.rstrip('/')}/{FOLDER}/part-{index:05d}-of-{count:05d}.json"


def write_part(folder: str, counts: dict[str, Any], proof: dict[str, Any]) -> str:
    """Keep one shard's counts with their :func:`provenance` (a retried shard replaces its own); return the path."""
    path = part_path(folder, *proof["shard"])
    with _at(folder):
        backends.open_backend(folder).put(path, json.dumps(counts | {"part": proof}).encode(), fault="drift")
    return path


def gather(folder: str, count: int, version: str, run: str, source: Any = None) -> Gathered:
    """The counts of all the run's shards, in shard order, or how many are still missing (one listing, and
    reads only when all are there). ArtifactRejected, naming the part, unless every part counts rows of this
    ``version`` and ``run`` (and of the input ``source``, when a shard that read it merges), holds the shard its
    name says, and the parts together hold every unit of the input once, in shard order."""
    with _at(folder):
        backend = backends.open_backend(folder)
        there = _listed(backend, folder, count)  # one listing: what is there, never a list of N paths
        if len(there) < count:
            gaps = (k for k in range(count) if k not in there)
            return Gathered([], count - len(there), list(itertools.islice(gaps, SHOWN_MISSING)))
        found = backend.get_many([there[k] for k in sorted(there)])
    parts = [_read(found[there[k]], there[k], k, count, version, run) for k in sorted(there)]
    _check_cover(parts, [there[k] for k in sorted(there)], folder, source)
    return Gathered(parts, 0, [])


def _listed(backend: Any, folder: str, count: int) -> dict[int, str]:
    """The parts of a run of ``count`` shards in the folder, by the shard their name says (names in another
    form, or of a shard that does not exist, are no parts)."""
    listed = backend.list(f"{folder.rstrip('/')}/{FOLDER}/part-*-of-{count:05d}.json")
    there = {}
    for path in listed:
        name = _NAME.fullmatch(path.rsplit("/", 1)[-1])
        if name and int(name[2]) == count and int(name[1]) < count and name[0] == _name(int(name[1]), count):
            there[int(name[1])] = path
    return there


def _name(index: int, count: int) -> str:
    return part_path("", index, count).rsplit("/", 1)[-1]


def _read(raw: bytes, path: str, k: int, count: int, version: str, run: str) -> dict[str, Any]:
    """One part, checked to be counts of this version and run that say they are shard ``k``'s."""
    try:
        part = json.loads(raw)
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
    again = f"score shard {k} again (--shard={k}/{count})"
    proof = part.get("part")
    if not isinstance(proof, dict) or proof.get("schema") != PART_SCHEMA:
        msg = (
            f"{path} does not say which shard and rows it counts (written by an earlier modelfleet, or edited): "
            f"the run's verdict cannot prove it counts every row once; {again}"
        )
        raise ArtifactRejected(msg)
    if not _well_formed(proof):
        msg = f"{path}: its record of the shard and rows it counts is damaged or was edited; {again}"
        raise ArtifactRejected(msg)
    if proof["shard"] != [k, count]:
        index, of = proof["shard"]
        msg = (
            f"{path} holds the counts of shard {index}/{of}, not of shard {k}/{count} as its name says (copied "
            f"or renamed?): merged, it would count some rows twice and others never; {again}"
        )
        raise ArtifactRejected(msg)
    if proof["run"] != run:
        msg = (
            f"{path} counts rows of another run than the one pinned in this folder (copied from another folder, "
            f"or left from a run whose pin was removed); {again}"
        )
        raise ArtifactRejected(msg)
    return part


def _well_formed(proof: dict[str, Any]) -> bool:
    def whole(value: Any) -> bool:
        return type(value) is int and 0 <= value < 2**53

    def unit(value: Any) -> bool:
        return (
            isinstance(value, list)
            and len(value) == 4
            and whole(value[0])
            and (value[1] is None or whole(value[1]))
            and (value[2] is None or whole(value[2]))
            and whole(value[3])
        )

    shard = proof.get("shard")
    return (
        all(isinstance(proof.get(key), str) for key in ("run", "files", "input"))
        and isinstance(shard, list)
        and len(shard) == 2
        and all(whole(v) for v in shard)
        and whole(proof.get("first"))
        and isinstance(proof.get("units"), list)
        and all(unit(u) for u in proof["units"])
    )


def _check_cover(parts: list[dict[str, Any]], paths: list[str], folder: str, source: Any) -> None:
    """ArtifactRejected naming the part unless the parts, in shard order, hold the units of one input exactly
    once, and each counts the rows its units hold. The input is :func:`_input_of` the parts."""
    expected, whole, whose = _input_of(parts, source)
    units: list[list[Any]] = []
    count = len(parts)
    for k, (part, path) in enumerate(zip(parts, paths, strict=True)):  # in shard order: k is the name's
        proof = part["part"]
        if (proof["files"], proof["input"]) != expected:
            msg = (
                f"{path} counts rows of another input than {whose} (a folder reused for another run, or a part "
                f"copied from one, or edited?): the run's verdict would mix them; score the run anew into a new folder"
            )
            raise ArtifactRejected(msg)
        first, held = proof["first"], len(proof["units"])
        if first != len(units):
            what = "counted twice" if first < len(units) else "that no part counts"
            msg = (
                f"{path} counts {held} units of the input from unit {first}, but the parts before it end at unit "
                f"{len(units)}: the parts would leave rows {what}; score shard {k} again (--shard={k}/{count})"
            )
            raise ArtifactRejected(msg)
        if whole is not None and proof["units"] != whole[first : first + held]:
            msg = (
                f"{path} lists other units (files, row groups, rows) than the input holds from unit {first}: "
                f"edited; score shard {k} again (--shard={k}/{count})"
            )
            raise ArtifactRejected(msg)
        known = [u[2] for u in proof["units"]]
        if None not in known and sum(known) != part["rows"]:
            msg = (
                f"{path} counts {part['rows']} rows, but the units it says it read hold {sum(known)}: damaged or "
                f"edited; score shard {k} again (--shard={k}/{count})"
            )
            raise ArtifactRejected(msg)
        units += proof["units"]
    if _digest([expected[0], units]) != expected[1]:
        msg = (
            f"the drift parts in {folder}/{FOLDER}/ do not hold the input they name exactly once between them (a "
            f"part's list of units was edited, or the last ones are missing): score the run anew into a new folder"
        )
        raise ArtifactRejected(msg)


def _input_of(parts: list[dict[str, Any]], source: Any) -> tuple[tuple[str, str], list[list[Any]] | None, str]:
    """The run's input (its files' digest and identity), its units if known, and whose it is: ``source``'s, when
    a shard that read it merges; else the one the parts' own units prove (the digest of their units in shard
    order is its identity), else the one most parts name."""
    if source is not None:
        files, whole, identity = _identity(source)
        return (files, identity), whole, "this shard's"
    named = collections.Counter((part["part"]["files"], part["part"]["input"]) for part in parts)
    units = [unit for part in parts for unit in part["part"]["units"]]
    proven = [pair for pair, _ in named.most_common(3) if _digest([pair[0], units]) == pair[1]]
    return (proven or [named.most_common(1)[0][0]])[0], None, "the run's (the input its other parts name)"


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, separators=(",", ":")).encode()).hexdigest()


def write_verdict(folder: str, verdict: dict[str, Any]) -> str:
    """Keep the run's verdict beside its counts; return the path."""
    path = f"{folder.rstrip('/')}/{FOLDER}/{VERDICT}"
    with _at(folder):
        backends.open_backend(folder).put(path, json.dumps(verdict, indent=2).encode(), fault="drift")
    return path


def _at(folder: str) -> contextlib.AbstractContextManager[None]:
    from shared.storage import pins

    return pins.run_folder(folder, f"drift counts in {FOLDER}/")
