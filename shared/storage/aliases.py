"""Aliases: names that point at one version of a model (``champion``, ``production``), each an append-only log.

An alias points where its newest event says. Each move is an event ``{generation, version, replaces, ...}`` in
the store (``<model>/aliases/<alias>/<generation>.json``). The event of generation n+1 is created exclusively
(create-only: a hard link locally, ``If-None-Match: *`` on S3) and names the version it replaces, so of
concurrent moves exactly one gets each generation: the others retry on top of it (or, with ``expect``, refuse),
and no move is ever lost or overwritten. The history is the events in generation order, each saying who moved
the alias, why, and from where (the orchestrator's run, task and try, read from its environment).

``latest`` is no alias: it always means the newest commit. ``champion@3`` names generation 3 of ``champion``,
so the shards of one run can all score the version one event named, whatever moves after.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import logging
import os
import socket
from typing import TYPE_CHECKING, Any

from shared.errors import AliasMoved, ArtifactRejected, BadArgument, MissingInput, StoreUnavailable, shown
from shared.process import stopping
from shared.storage import signing, versions
from shared.storage.versions import ALIAS, AT_GENERATION, RESERVED, VERSION_ID, reserved

if TYPE_CHECKING:
    from shared.storage.store import Store

log = logging.getLogger(__name__)

EXPECTED = "lowercase letters, digits, '-' and '_', starting with a letter (e.g. champion)"
EVENT_SCHEMA = 2  # 2: each event carries its own sha256 and the one of the event before it (1 had neither)
ATTEMPTS = 64  # moves lost to concurrent movers before giving up (each loss means another mover won)
ORCHESTRATOR_ENV = {  # what each event records of the run that moved it, when the orchestrator says
    "dag_id": "AIRFLOW_CTX_DAG_ID",
    "dag_run_id": "AIRFLOW_CTX_DAG_RUN_ID",
    "task_id": "AIRFLOW_CTX_TASK_ID",
    "try_number": "AIRFLOW_CTX_TRY_NUMBER",
    "image": "MODELFLEET_IMAGE",
}


def alias_problem(name: object) -> str | None:
    """What is wrong with ``name`` as an alias, or None."""
    if not isinstance(name, str) or not ALIAS.fullmatch(name):
        return f"must be an alias: {EXPECTED}"
    if name in RESERVED:
        return f"must not be {name!r}: {reserved(name)}; choose another alias"
    return None


def check_alias(name: str) -> str:
    """Return ``name`` if it can be an alias, else BadArgument saying what an alias may be called."""
    if problem := alias_problem(name):
        msg = f"bad alias {shown(name)}: {problem}"
        raise BadArgument(msg)
    return name


def check_alias_text(text: str) -> str:
    """A parameter check for ``--alias``: ValueError saying what an alias may be called."""
    if problem := alias_problem(text):
        raise ValueError(problem)
    return text


def check_expected(text: str) -> str:
    """A parameter check for ``--expect``: a version id, or 'none' (the alias must never have been set)."""
    if text != "none" and versions.problem(text):
        raise ValueError("must be the version id the alias points at now, or 'none' if it was never set")
    return text


def reference(text: str) -> tuple[str, int | None] | None:
    """``champion`` -> ('champion', None); ``champion@3`` -> ('champion', 3); a version id or 'latest' -> None
    (an alias-shaped word may still be a version id: :func:`resolve` decides by what the store holds)."""
    if "@" in text:
        found = AT_GENERATION.fullmatch(text)
        if found is None:
            msg = f"{text!r}: an alias at a generation is ALIAS@N with N from 1 (e.g. champion@3)"
            raise BadArgument(msg)
        return found.group(1), int(found.group(2))
    return (text, None) if ALIAS.fullmatch(text) and text not in RESERVED else None


def history(store: Store, model: str, alias: str) -> list[dict[str, Any]]:
    """Every event of ``alias``, generation 1 first. ArtifactRejected if the log is not one unbroken chain: a
    missing generation, an event that is not what its file name says, or one that replaces another version than
    the event before it named."""
    generations = _generations(store, model, alias)
    raw = store.alias_events(model, alias, generations)
    events: list[dict[str, Any]] = []
    for generation in generations:
        event = _event(raw[generation], model, alias, generation)
        before = events[-1] if events else None
        replaced = before["version"] if before else None
        if event.get("replaces") != replaced:
            msg = (
                f"alias {alias!r} of {model!r}, event {generation} says it replaces {event.get('replaces')!r}, but "
                f"the event before it named {replaced!r}; the log was edited: restore it"
            )
            raise ArtifactRejected(msg)
        if before is not None and "sha256" in before and event.get("previous") != before["sha256"]:
            msg = (
                f"alias {alias!r} of {model!r}, event {generation} does not name the sha256 of event "
                f"{generation - 1} as the one before it; the log was edited: restore it"
            )
            raise ArtifactRejected(msg)
        if before is not None and "sha256" in before and "sha256" not in event:
            msg = (
                f"alias {alias!r} of {model!r}, event {generation} has no sha256 although the event before it has "
                "one (an event of the first schema after a newer one); the log was edited: restore it"
            )
            raise ArtifactRejected(msg)
        events.append(event)
    return events


def digest(event: dict[str, Any]) -> str:
    """The sha256 of an event's content (every key but its own sha256), in one canonical JSON spelling."""
    content = {key: value for key, value in event.items() if key != "sha256"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def current(store: Store, model: str, alias: str) -> dict[str, Any] | None:
    """The newest event of ``alias`` (where it points now), or None if it was never set: one listing and one
    read, however long the log (``history`` checks the whole chain)."""
    generations = _generations(store, model, alias)
    if not generations:
        return None
    newest = generations[-1]
    event = _event(store.alias_events(model, alias, [newest])[newest], model, alias, newest)
    if "sha256" not in event and newest > 1:  # a log of the first schema: only the whole chain says it is one
        return history(store, model, alias)[-1]
    return event


def move(
    store: Store,
    model: str,
    alias: str,
    version: str,
    *,
    action: str = "promote",
    reason: str | None = None,
    run_id: str | None = None,
    gate: dict[str, Any] | None = None,
    expect: str | None = None,
) -> dict[str, Any]:
    """Point ``alias`` at ``version`` with a new event, and return it.

    With ``run_id``, a move that run made already is returned as it is (``already_recorded``): a retried task
    appends nothing. With ``expect``, AliasMoved (76) unless the alias points at that version now (``none``: it
    must be unset). An alias already pointing at ``version`` gets no new event (``unchanged``).
    """
    check_alias(alias)
    store.check_create_only()
    events = history(store, model, alias)  # the whole log once: its chain is checked, a retried run finds its move
    done = [e for e in events if run_id is not None and e.get("run_id") == run_id and e.get("action") == action]
    if done:
        return {**done[-1], "already_recorded": True}
    for attempt in range(ATTEMPTS):
        # the head the whole log just gave; after a lost race, only the new head matters (one listing, one read)
        head = (events[-1] if events else None) if attempt == 0 else current(store, model, alias)
        now = head["version"] if head else None
        if expect is not None and now != (None if expect == "none" else expect):
            msg = (
                f"alias {alias!r} of {model!r} points at {now or 'nothing'}, not {expect!r} as --expect says: someone "
                "moved it first; nothing was changed (look at `aliases --history`, then decide again)"
            )
            raise AliasMoved(msg)
        if head is not None and now == version:
            return {**head, "unchanged": True}
        generation = head["generation"] + 1 if head else 1
        event = {
            "schema": EVENT_SCHEMA,
            "model": model,
            "alias": alias,
            "generation": generation,
            "version": version,
            "replaces": now,
            "action": action,
            "reason": reason,
            "run_id": run_id,
            "gate": gate,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            "by": actor(),
            "previous": head.get("sha256") if head else None,
        }
        event = signing.sign(event, derived=("sha256",))  # with a signing key: nobody without it can make one
        event["sha256"] = digest(event)
        body = json.dumps(event, indent=2, sort_keys=True).encode()
        stopping.check()
        if store.create_alias_event(model, alias, generation, body):
            log.info("%s alias %s -> %s (generation %d)", model, alias, version, generation)
            return event
        log.info("%s alias %s: generation %d was taken by another move; trying again", model, alias, generation)
    msg = f"alias {alias!r} of {model!r}: {ATTEMPTS} moves in a row lost to concurrent ones; retry later"
    raise StoreUnavailable(msg)


def resolve(store: Store, model: str, text: str) -> tuple[str, dict[str, Any] | None]:
    """The version ``text`` names and the alias event it was read from (None for a version id or 'latest').

    A word that is both an alias and a committed version id is refused (the two would be mistaken for each
    other); an alias that was never set, or a generation it has not reached, is MissingInput (66).
    """
    ref = reference(text)
    if ref is None:
        return text, None
    name, generation = ref
    if generation is None and VERSION_ID.fullmatch(name) and store.exists(model, name):
        if name in store.alias_names(model):
            msg = (
                f"{name!r} is both an alias and a version id of {model!r}; name the version by its alias at a "
                f"generation ({name}@N), or rename one of them"
            )
            raise ArtifactRejected(msg)
        return name, None
    generations = _generations(store, model, name)  # only the event it names is read: one listing, one read
    if not generations:
        if generation is None and VERSION_ID.fullmatch(name):
            return name, None  # no alias by that name: a version id (the store says if it exists)
        msg = f"alias {name!r} of {model!r} was never set; set it with '{model} promote --alias={name}'"
        raise MissingInput(msg)
    if generation is not None and generation > len(generations):
        msg = f"alias {name!r} of {model!r} has {len(generations)} events, no generation {generation}"
        raise MissingInput(msg)
    generation = generation or generations[-1]  # the newest, from the listing just made (no second one)
    event = _event(store.alias_events(model, name, [generation])[generation], model, name, generation)
    if "sha256" not in event and generation > 1:  # of the first schema: only the whole chain vouches for it
        event = history(store, model, name)[generation - 1]
    return event["version"], event


def result(event: dict[str, Any]) -> dict[str, Any]:
    """A command's result for an event: model and version first, then the event's facts."""
    first = {"model": event["model"], "version": event["version"], "alias": event["alias"]}
    return {**first, **{key: value for key, value in event.items() if key not in (*first, "schema")}}


def summary(event: dict[str, Any]) -> dict[str, Any]:
    """What a result records of the alias event a version was resolved from."""
    return {key: event[key] for key in ("alias", "generation", "version", "at")}


def actor() -> dict[str, Any]:
    """Who and what moves an alias: the user and host, and what the orchestrator's environment says."""
    found: dict[str, Any] = {"host": socket.gethostname()}
    try:
        found["user"] = getpass.getuser()
    except (KeyError, OSError):  # a container's uid with no passwd entry
        found["user"] = str(os.getuid())
    found.update({key: os.environ[name] for key, name in ORCHESTRATOR_ENV.items() if os.environ.get(name)})
    return found


def _generations(store: Store, model: str, alias: str) -> list[int]:
    """The alias's generations, checked to be 1..n with none missing."""
    generations = store.alias_generations(model, check_alias(alias))
    if generations and generations[0] < 1:
        msg = f"alias {alias!r} of {model!r} holds an event of generation 0 (they count from 1); the log was edited"
        raise ArtifactRejected(msg)
    if generations != list(range(1, len(generations) + 1)):
        missing = sorted(set(range(1, generations[-1] + 1)) - set(generations))
        msg = (
            f"alias {alias!r} of {model!r}: event {missing[0]} is missing (the store holds {len(generations)} "
            f"events up to generation {generations[-1]}); the log was edited: restore it"
        )
        raise ArtifactRejected(msg)
    return generations


def _event(raw: bytes, model: str, alias: str, generation: int) -> dict[str, Any]:
    """One event, checked to be the one its file name says."""
    where = f"alias {alias!r} of {model!r}, event {generation}"
    event = _parsed(raw, where)
    if (event.get("model"), event.get("alias"), event.get("generation")) != (model, alias, generation):
        msg = f"{where} claims to be {event.get('model')!r} {event.get('alias')!r} event {event.get('generation')!r}"
        raise ArtifactRejected(msg)
    sealed = event.get("schema") != 1  # events of the first schema carry no sha256 (a log's oldest may be so)
    if sealed and event.get("sha256") != digest(event):
        msg = f"{where} does not match its own sha256: it was edited after it was written; restore the log"
        raise ArtifactRejected(msg)
    if not sealed and ("sha256" in event or "previous" in event):
        msg = f"{where} claims the first event schema, which had no sha256; the log was edited: restore it"
        raise ArtifactRejected(msg)
    signing.verify(event, where, derived=("sha256",))
    return event


def _parsed(raw: bytes, where: str) -> dict[str, Any]:
    try:
        event = json.loads(raw)
    except (ValueError, RecursionError):
        event = None
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("version"), str)
        or not VERSION_ID.fullmatch(event["version"])
    ):
        msg = f"{where} is not an alias event this build reads; the log was damaged: restore it from a backup"
        raise ArtifactRejected(msg)
    return event
