"""Aliases as append-only logs: concurrent moves never lose or duplicate an event, on the local store and S3."""

import json
import multiprocessing
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.errors import AliasMoved, ArtifactRejected, ConfigError, MissingInput
from shared.storage import aliases
from shared.storage.store import GENERATION_DIGITS, Store

WORKERS = 8
ROUNDS = {"local": 100, "s3": 16}  # moves per worker: 800 and 128 moves in all, 8 at a time


def _mover(url, environ, worker, rounds, barrier, expect, results):
    """One of WORKERS processes: each round, wait for all, then move the alias (with --expect: from the head)."""
    os.environ.update(environ)
    store = Store(url)
    won = 0
    try:
        for round_ in range(rounds):
            head = aliases.current(store, "m", "champion") if expect else None
            barrier.wait(timeout=120)
            try:
                aliases.move(
                    store,
                    "m",
                    "champion",
                    f"v{worker}-{round_}",
                    reason=f"worker {worker}",
                    run_id=f"w{worker}-r{round_}",
                    expect=(head["version"] if head else "none") if expect else None,
                )
                won += 1
            except AliasMoved:
                pass
            barrier.wait(timeout=120)  # everyone has moved (or lost) before the next round reads the head
    except BaseException as exc:  # noqa: BLE001 - reported to the test, which fails naming it
        barrier.abort()  # the others stop waiting for this one
        results.put((worker, f"{type(exc).__name__}: {exc}"))
        return
    results.put((worker, won))


def _race(url, rounds, expect=False):
    import queue
    import sys

    context = multiprocessing.get_context("spawn")  # no forked s3fs or moto client threads
    barrier, results = context.Barrier(WORKERS), context.Queue()
    environ = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "MODELFLEET_"))}
    workers = [
        context.Process(target=_mover, args=(url, environ, w, rounds, barrier, expect, results)) for w in range(WORKERS)
    ]
    root = str(Path(__file__).resolve().parents[3])  # a spawned worker imports this module: tests/ from the root
    sys.path.insert(0, root)
    try:
        for process in workers:
            process.start()
    finally:
        sys.path.remove(root)
    won = {}
    while len(won) < WORKERS:
        try:
            worker, outcome = results.get(timeout=5)
            won[worker] = outcome
        except queue.Empty:
            dead = [p.exitcode for p in workers if p.exitcode not in (None, 0)]
            assert not dead, f"workers died without a report (exit codes {dead})"
    for process in workers:
        process.join(timeout=60)
    failed = {worker: outcome for worker, outcome in won.items() if isinstance(outcome, str)}
    assert not failed, failed
    return won


@pytest.mark.slow
def test_concurrent_moves_are_all_kept_one_event_per_generation(any_store, request):
    """8 processes move one alias at the same moments, round after round: every move is an event, every
    generation has exactly one, and the history is one unbroken chain in order (each replaces the one before)."""
    backend = request.node.callspec.params["any_store"]
    won = _race(any_store, ROUNDS[backend])
    events = aliases.history(Store(any_store), "m", "champion")  # checks the chain: it raises on any break
    moves = WORKERS * ROUNDS[backend]
    assert won == dict.fromkeys(range(WORKERS), ROUNDS[backend])
    assert [e["generation"] for e in events] == list(range(1, moves + 1))
    assert sorted(e["version"] for e in events) == sorted(
        f"v{w}-{r}" for w in range(WORKERS) for r in range(ROUNDS[backend])
    )
    for worker in range(WORKERS):  # each worker's moves keep their own order
        mine = [int(e["version"].split("-")[1]) for e in events if e["version"].startswith(f"v{worker}-")]
        assert mine == sorted(mine)


@pytest.mark.slow
def test_concurrent_compare_and_set_has_exactly_one_winner_a_round(any_store, request):
    """With --expect (the head each read), exactly one of 8 concurrent movers wins each round; the others are
    refused (76) and write nothing."""
    backend = request.node.callspec.params["any_store"]
    rounds = ROUNDS[backend] // 2
    won = _race(any_store, rounds, expect=True)
    events = aliases.history(Store(any_store), "m", "champion")
    assert sum(won.values()) == rounds
    assert [e["generation"] for e in events] == list(range(1, rounds + 1))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=st.lists(st.tuples(st.sampled_from("abcde"), st.booleans()), min_size=1, max_size=12))
def test_generated_moves_match_a_plain_list(tmp_path_factory, moves):
    """Generated sequences of moves (some retried under the same run id): the alias points where the last
    distinct move said, a retry appends nothing, and the history is exactly the moves that changed it."""
    store = Store(str(tmp_path_factory.mktemp("store")))
    expected: list[str] = []
    for step, (version, retried) in enumerate(moves):
        run_id = f"run-{step}"
        event = aliases.move(store, "m", "champion", version, run_id=run_id, reason=f"step {step}")
        if retried:
            again = aliases.move(store, "m", "champion", version, run_id=run_id)
            assert again.get("already_recorded") or again.get("unchanged")
            assert again["generation"] == event["generation"]
        if not expected or expected[-1] != version:
            expected.append(version)
        assert aliases.current(store, "m", "champion")["version"] == version
    history = aliases.history(store, "m", "champion")
    assert [e["version"] for e in history] == expected
    assert [e["replaces"] for e in history] == [None, *expected[:-1]]


def test_an_alias_and_a_generation_resolve_to_the_version_each_event_named(tmp_path):
    store = Store(str(tmp_path))
    for version in ("a", "b", "c"):
        aliases.move(store, "m", "champion", version)
    assert aliases.resolve(store, "m", "champion")[0] == "c"
    assert aliases.resolve(store, "m", "champion@1")[0] == "a"
    assert aliases.resolve(store, "m", "latest") == ("latest", None)
    with pytest.raises(MissingInput, match="no generation 4"):
        aliases.resolve(store, "m", "champion@4")
    assert aliases.resolve(store, "m", "production") == ("production", None)  # no such alias: a version id
    with pytest.raises(MissingInput, match="never set"):
        aliases.resolve(store, "m", "production@1")


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        ("remove generation 2", "is missing"),
        ("replaces another version", "was edited"),
        ("not JSON", "not an alias event"),
        ("claims another generation", "claims to be"),
        ("a stray file", "that is no event"),
    ],
)
def test_a_damaged_log_is_refused_not_guessed(tmp_path, damage, says):
    """An edited or damaged log is ArtifactRejected (3) naming the event, never read as some other history, and no
    move is appended to it. (Scoring reads only the newest event: a damaged older one does not stop it.)"""
    store = Store(str(tmp_path))
    for version in ("a", "b", "c"):
        aliases.move(store, "m", "champion", version)
    folder = tmp_path / "m" / "aliases" / "champion"
    second = folder / f"{2:0{GENERATION_DIGITS}d}.json"
    event = json.loads(second.read_text())
    if damage == "remove generation 2":
        second.unlink()
    elif damage == "replaces another version":
        second.write_text(json.dumps({**event, "replaces": "z"}))
    elif damage == "not JSON":
        second.write_text("{")
    elif damage == "claims another generation":
        second.write_text(json.dumps({**event, "generation": 3}))
    else:
        (folder / "notes.json").write_text("{}")
    with pytest.raises(ArtifactRejected, match=says):
        aliases.history(store, "m", "champion")
    with pytest.raises(ArtifactRejected, match=says):
        aliases.move(store, "m", "champion", "d")  # nothing is appended to a broken log
    assert sorted(path.name for path in folder.iterdir())[-1] != f"{4:0{GENERATION_DIGITS}d}.json"


def test_a_store_that_ignores_create_only_refuses_every_move(tmp_path, monkeypatch):
    """A backend that lets a second create through (a proxy dropping If-None-Match) is refused (78) before any
    event is written: moves there could overwrite each other."""
    store = Store(str(tmp_path))
    monkeypatch.setattr(store.backend, "put_if_absent", lambda path, data, fault="manifest": True)
    monkeypatch.setattr(store.backend, "may_ignore_create_only", True)
    from shared.storage import backends

    monkeypatch.setattr(backends, "_CREATE_ONLY", set())
    with pytest.raises(ConfigError, match="does not refuse a second create"):
        aliases.move(store, "m", "champion", "a")
    assert not (tmp_path / "m" / "aliases").exists()


def test_expect_refuses_a_move_when_the_alias_moved_first(tmp_path):
    store = Store(str(tmp_path))
    aliases.move(store, "m", "champion", "a", expect="none")
    with pytest.raises(AliasMoved, match="points at a, not 'none'"):
        aliases.move(store, "m", "champion", "b", expect="none")
    aliases.move(store, "m", "champion", "b", expect="a")
    assert [e["version"] for e in aliases.history(store, "m", "champion")] == ["a", "b"]


def test_each_event_records_who_moved_it_from_the_orchestrator_environment(tmp_path, monkeypatch):
    for name, value in {
        "AIRFLOW_CTX_DAG_ID": "churn_daily",
        "AIRFLOW_CTX_DAG_RUN_ID": "scheduled__2026-12-01",
        "AIRFLOW_CTX_TASK_ID": "train",
        "AIRFLOW_CTX_TRY_NUMBER": "2",
        "MODELFLEET_IMAGE": "registry/modelfleet:1.2",
    }.items():
        monkeypatch.setenv(name, value)
    event = aliases.move(Store(str(tmp_path)), "m", "champion", "a", reason="why not")
    assert event["by"] | {"host": None, "user": None} == {
        "dag_id": "churn_daily",
        "dag_run_id": "scheduled__2026-12-01",
        "task_id": "train",
        "try_number": "2",
        "image": "registry/modelfleet:1.2",
        "host": None,
        "user": None,
    }
    assert event["reason"] == "why not"


EVENT_KEYS = ("version", "replaces", "action", "reason", "run_id", "at", "by", "gate", "previous", "schema", "sha256")
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
STRAY = st.text(st.characters(codec="utf-8", exclude_characters="/\\\x00"), min_size=1, max_size=20).filter(
    lambda name: name not in (".", "..")
)


@st.composite
def edits(draw, events):
    """One edit of one event's content, as a person or a tool might make it: a changed, added or removed key."""
    target = draw(st.integers(0, events - 1))
    key = draw(st.sampled_from(EVENT_KEYS) | st.text(min_size=1, max_size=8))
    how = draw(st.sampled_from(["change", "remove"]))
    value = draw(st.sampled_from(["a", "b", "c", "z", "v9"]) | JSONISH)
    return target, key, how, value


@settings(max_examples=60, deadline=None)
@given(events=st.integers(1, 4), data=st.data())
def test_generated_edits_of_any_event_are_refused_and_nothing_is_appended(tmp_path_factory, events, data):
    """Any change of any event's content (the newest included, whatever key: the version it names, who moved it) is
    ArtifactRejected (3) wherever the log is read, and no move is appended to it: each event carries its own sha256
    and the one of the event before it."""
    store_dir = tmp_path_factory.mktemp("edits")
    store = Store(str(store_dir))
    for version in ("a", "b", "c", "a")[:events]:
        aliases.move(store, "m", "champion", version)
    target, key, how, value = data.draw(edits(events))
    path = store_dir / "m" / "aliases" / "champion" / f"{target + 1:0{GENERATION_DIGITS}d}.json"
    event = json.loads(path.read_text())
    edited = {k: v for k, v in event.items() if k != key}
    if how == "change":
        edited[key] = value
    if edited == event:
        return  # no edit at all
    path.write_text(json.dumps(edited, indent=data.draw(st.sampled_from([None, 2]))))
    with pytest.raises(ArtifactRejected):
        aliases.history(store, "m", "champion")
    if target == events - 1:  # the newest event is what scoring reads
        with pytest.raises(ArtifactRejected):
            aliases.resolve(store, "m", "champion")
    with pytest.raises(ArtifactRejected):
        aliases.move(store, "m", "champion", "d")
    assert len(list(path.parent.iterdir())) == events


def test_a_reformatted_event_is_the_same_event(tmp_path):
    """Only content counts: an event written back with other whitespace or key order is still that event."""
    store = Store(str(tmp_path))
    for version in ("a", "b"):
        aliases.move(store, "m", "champion", version)
    for path in (tmp_path / "m" / "aliases" / "champion").iterdir():
        event = json.loads(path.read_text())
        path.write_text(json.dumps(dict(reversed(list(event.items())))))
    assert [e["version"] for e in aliases.history(store, "m", "champion")] == ["a", "b"]


@settings(max_examples=40, deadline=None)
@given(
    name=STRAY | st.integers(0, 10**GENERATION_DIGITS - 1).map(lambda g: f"{g:0{GENERATION_DIGITS}d}.json"),
    folder=st.booleans(),
)
def test_generated_stray_entries_in_a_log_are_refused(tmp_path_factory, name, folder):
    """Anything in an alias's folder that is not one of its events (a file or a folder, whatever its name, one
    named like an event included) is ArtifactRejected (3), and nothing is appended to the log."""
    store_dir = tmp_path_factory.mktemp("stray")
    store = Store(str(store_dir))
    for version in ("a", "b"):
        aliases.move(store, "m", "champion", version)
    log_dir = store_dir / "m" / "aliases" / "champion"
    before = sorted(p.name for p in log_dir.iterdir())
    if name in before and not folder:
        return  # that is an event of the log
    stray = log_dir / name
    if stray.exists():
        return
    try:
        stray.mkdir() if folder else stray.write_bytes(b"{}")
    except OSError:
        return  # a name this filesystem refuses
    for call in (
        lambda: aliases.history(store, "m", "champion"),
        lambda: aliases.resolve(store, "m", "champion"),
        lambda: aliases.move(store, "m", "champion", "d"),
    ):
        with pytest.raises(ArtifactRejected):
            call()
    assert sorted(p.name for p in log_dir.iterdir()) == sorted([*before, name])


def test_a_log_of_the_first_schema_still_reads_and_the_next_move_seals_it(tmp_path):
    """Events written before they carried a sha256 are read as they are; a move appends a sealed event, after
    which an event of the first schema is refused."""
    store = Store(str(tmp_path))
    for version in ("a", "b"):
        aliases.move(store, "m", "champion", version)
    folder = tmp_path / "m" / "aliases" / "champion"
    for path in sorted(folder.iterdir()):
        event = json.loads(path.read_text())
        legacy = {k: v for k, v in event.items() if k not in ("sha256", "previous")} | {"schema": 1}
        path.write_text(json.dumps(legacy))
    assert aliases.resolve(store, "m", "champion")[0] == "b"
    aliases.move(store, "m", "champion", "c")
    aliases.move(store, "m", "champion", "d")
    assert [e["version"] for e in aliases.history(store, "m", "champion")] == ["a", "b", "c", "d"]
    newest = folder / f"{4:0{GENERATION_DIGITS}d}.json"
    event = json.loads(newest.read_text())
    newest.write_text(json.dumps({k: v for k, v in event.items() if k not in ("sha256", "previous")} | {"schema": 1}))
    with pytest.raises(ArtifactRejected, match="edited"):
        aliases.history(store, "m", "champion")
    with pytest.raises(ArtifactRejected, match="edited"):
        aliases.resolve(store, "m", "champion")


@pytest.mark.parametrize("name", ["BAD", "latest", "none", "9lives"])
def test_a_folder_under_aliases_that_no_alias_can_be_called_is_skipped_not_an_error(tmp_path, name, caplog):
    """No command can name it, so it means nothing: listed aliases skip it with a warning (gc, aliases go on)."""
    store = Store(str(tmp_path))
    aliases.move(store, "m", "champion", "a")
    stray = tmp_path / "m" / "aliases" / name
    stray.mkdir()
    (stray / f"{1:0{GENERATION_DIGITS}d}.json").write_text("{}")
    assert store.alias_names("m") == ["champion"]
    assert f"aliases/{name} is no alias" in caplog.text
