"""promote, rollback and aliases through the command line; score and evaluate with --version=ALIAS[@N]."""

import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.churn import Churn

FAST = ["--n_estimators=5", "--num_threads=1"]


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    """A store with versions v1 and v2 of churn, and a labelled table to evaluate on."""
    root = tmp_path_factory.mktemp("promotion")
    model = Churn(store=str(root / "store"))
    model.train(run_id="v1", n_estimators=5)
    model.train(run_id="v2", n_estimators=9)
    model._sample_frame(300, 7).to_parquet(root / "labelled.parquet")
    return root


@pytest.fixture
def store(two_versions, tmp_path):
    """A private copy of the two-version store, for a test that moves aliases."""
    import shutil

    shutil.copytree(two_versions / "store", tmp_path / "store")
    shutil.copy(two_versions / "labelled.parquet", tmp_path / "labelled.parquet")
    return tmp_path


def run(modelfleet, root, *args):
    done = modelfleet(["churn", *args, f"--store={root / 'store'}"], cwd=root)
    return done, (json.loads(done.stdout) if done.returncode == 0 else None)


def test_score_and_evaluate_use_the_version_the_alias_points_at_and_say_which_event(modelfleet, store):
    run(modelfleet, store, "promote", "--alias=champion", "--version=v1", "--reason=first")
    _, moved = run(modelfleet, store, "promote", "--alias=champion", "--version=v2", "--reason=better")
    assert (moved["version"], moved["replaces"], moved["generation"]) == ("v2", "v1", 2)
    _, now = run(modelfleet, store, "evaluate", "--data=labelled.parquet", "--version=champion")
    _, pinned = run(modelfleet, store, "evaluate", "--data=labelled.parquet", "--version=champion@1")
    _, direct = run(modelfleet, store, "evaluate", "--data=labelled.parquet", "--version=v1")
    assert now["version"] == "v2"
    assert now["alias"]["generation"] == 2
    assert pinned["version"] == "v1"
    assert pinned["alias"] == {"alias": "champion", "generation": 1, "version": "v1", "at": pinned["alias"]["at"]}
    assert pinned["metrics"] == direct["metrics"]
    _, scored = run(modelfleet, store, "score", "--version=champion", "--output=out.parquet")
    assert (scored["version"], scored["alias"]["alias"]) == ("v2", "champion")
    _, latest = run(modelfleet, store, "score", "--output=latest.parquet")
    assert "alias" not in latest


def test_rollback_points_back_and_is_an_event_too(modelfleet, store):
    for version in ("v1", "v2"):
        run(modelfleet, store, "promote", "--alias=champion", f"--version={version}")
    _, back = run(modelfleet, store, "rollback", "--alias=champion", "--reason=drifted")
    assert (back["version"], back["replaces"], back["action"], back["generation"]) == ("v1", "v2", "rollback", 3)
    _, shown = run(modelfleet, store, "aliases", "--history")
    assert [e["version"] for e in shown["aliases"]["champion"]] == ["v1", "v2", "v1"]
    assert shown["latest"] == "v2"
    _, now = run(modelfleet, store, "aliases")
    assert now["aliases"]["champion"]["version"] == "v1"


@pytest.mark.parametrize(
    ("setup", "args", "code", "says"),
    [
        ([], ["rollback", "--alias=champion"], 66, "never set"),
        ([["promote", "--alias=champion", "--version=v1"]], ["rollback", "--alias=champion"], 66, "none before it"),
        (
            [["promote", "--alias=champion", "--version=v1"]],
            ["promote", "--alias=champion", "--version=v2", "--expect=v2"],
            76,
            "points at v1, not 'v2'",
        ),
        (
            [["promote", "--alias=champion", "--version=v1"]],
            ["promote", "--alias=champion", "--version=v2", "--expect=none"],
            76,
            "points at v1",
        ),
        ([], ["promote", "--alias=latest", "--version=v1"], 64, "--alias must not be 'latest'"),
        ([], ["promote", "--alias=Champion", "--version=v1"], 64, "--alias must be an alias"),
        ([], ["promote", "--alias=champion", "--version=v9"], 66, "not found"),
        ([], ["promote", "--alias=champion", "--version=champion@x"], 64, "--version"),
        ([], ["score", "--version=champion"], 66, "not found"),
        ([["promote", "--alias=champion", "--version=v1"]], ["score", "--version=champion@2"], 66, "no generation 2"),
        ([], ["promote", "--alias=champion", "--version=v1", "--expect=bad/id"], 64, "--expect"),
    ],
)
def test_refusals_exit_with_their_code_in_one_line_and_move_nothing(modelfleet, store, setup, args, code, says):
    for step in setup:
        assert run(modelfleet, store, *step)[0].returncode == 0
    before = sorted(p.name for p in (store / "store" / "churn").rglob("*"))
    done, _ = run(modelfleet, store, *args)
    assert done.returncode == code, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("modelfleet:")]
    assert len(errors) == 1
    assert says in errors[0]
    assert sorted(p.name for p in (store / "store" / "churn").rglob("*")) == before


def test_a_damaged_version_is_never_promoted(modelfleet, store):
    """A version whose model file fails its checksum is refused (3) and the alias is not set."""
    [model_file] = (store / "store" / "churn" / "versions" / "v1").rglob("model.txt")
    model_file.write_bytes(model_file.read_bytes().replace(b"tree", b"tref", 1))
    done, _ = run(modelfleet, store, "promote", "--alias=champion", "--version=v1")
    assert done.returncode == 3, done.stderr
    assert not (store / "store" / "churn" / "aliases").exists()


def test_a_retried_promotion_with_its_run_id_moves_nothing_again(modelfleet, store):
    _, first = run(modelfleet, store, "promote", "--alias=champion", "--version=v1", "--run_id=dag-run-1")
    run(modelfleet, store, "promote", "--alias=champion", "--version=v2", "--run_id=dag-run-2")
    _, retried = run(modelfleet, store, "promote", "--alias=champion", "--version=v1", "--run_id=dag-run-1")
    assert retried["already_recorded"] is True
    assert retried["generation"] == first["generation"] == 1
    _, shown = run(modelfleet, store, "aliases", "--history")
    assert [e["version"] for e in shown["aliases"]["champion"]] == ["v1", "v2"]


def test_dry_run_says_what_would_move_and_moves_nothing(modelfleet, store):
    run(modelfleet, store, "promote", "--alias=champion", "--version=v1")
    _, planned = run(modelfleet, store, "promote", "--alias=champion", "--version=v2", "--dry_run")
    assert planned == {
        "dry_run": True,
        "model": "churn",
        "command": "promote",
        "version": "v2",
        "alias": "champion",
        "replaces": "v1",
    }
    _, shown = run(modelfleet, store, "aliases")
    assert shown["aliases"]["champion"]["version"] == "v1"


def test_a_word_that_is_both_an_alias_and_a_version_is_refused(modelfleet, store):
    """Version 'champion' and alias 'champion' (made before the checks below existed, or by two racing runs) could
    be mistaken for each other: refused (3); champion@1 is not."""
    from shared.storage import aliases
    from shared.storage.store import Store

    Churn(store=str(store / "store")).train(run_id="champion", n_estimators=5)
    aliases.move(Store(str(store / "store")), "churn", "champion", "v1")
    done, _ = run(modelfleet, store, "score", "--version=champion", "--output=o.parquet")
    assert done.returncode == 3, done.stderr
    assert "both an alias and a version id" in done.stderr
    _, pinned = run(modelfleet, store, "score", "--version=champion@1", "--output=o.parquet")
    assert pinned["version"] == "v1"


def test_names_that_would_be_mistaken_for_each_other_are_refused_when_made(modelfleet, store):
    """An alias named like a version, and a run id named like an alias, are refused (64) before anything is made."""
    done, _ = run(modelfleet, store, "promote", "--alias=v2", "--version=v1")
    assert done.returncode == 64, done.stderr
    assert "mistaken" in done.stderr
    run(modelfleet, store, "promote", "--alias=champion", "--version=v1")
    done, _ = run(modelfleet, store, "train", "--run_id=champion", *FAST)
    assert done.returncode == 64, done.stderr
    assert "mistaken" in done.stderr


def test_what_score_uses_is_not_what_promote_promotes(modelfleet, store, monkeypatch):
    """MODELFLEET_CHURN_VERSION (the version score and evaluate use) never chooses what promote moves an alias
    to; only promote's own MODELFLEET_CHURN_PROMOTE_VERSION does."""
    monkeypatch.setenv("MODELFLEET_CHURN_VERSION", "v1")
    _, moved = run(modelfleet, store, "promote", "--alias=champion")
    assert moved["version"] == "v2"  # latest
    monkeypatch.setenv("MODELFLEET_CHURN_PROMOTE_VERSION", "v1")
    _, moved = run(modelfleet, store, "promote", "--alias=champion")
    assert moved["version"] == "v1"


RESERVED = ("latest", "none")  # shared.storage.versions.RESERVED, spelt out: the test states the promise itself


@pytest.mark.parametrize(
    "args",
    [
        *(["train", f"--run_id={word}", *FAST] for word in RESERVED),
        *(["train", f"--promote={word}", *FAST] for word in RESERVED),
        *(["promote", f"--alias={word}", "--version=v1"] for word in RESERVED),
        *(["rollback", f"--alias={word}"] for word in RESERVED),
        ["promote", "--alias=champion", "--version=v1", "--expect=latest"],
        ["promote", "--alias=v1", "--version=v2"],  # a version's id as an alias
        ["train", "--run_id=champion", *FAST],  # an alias's name as a version id (champion is set below)
        ["train", "--run_id=v3", "--promote=v1", *FAST],
    ],
    ids=lambda args: " ".join(args[:3]),
)
def test_no_name_means_two_things(modelfleet, store, args):
    """Version ids, alias names and the words the command line reserves never collide: a name that would mean two
    things is refused (64) where it would be made, and nothing is written."""
    run(modelfleet, store, "promote", "--alias=champion", "--version=v2")
    before = sorted(str(p.relative_to(store)) for p in (store / "store").rglob("*"))
    done, _ = run(modelfleet, store, *args)
    assert done.returncode == 64, done.stderr
    assert done.stderr.count("\n") == 1
    assert "error:" in done.stderr
    assert sorted(str(p.relative_to(store)) for p in (store / "store").rglob("*")) == before


@pytest.mark.parametrize(
    "command", [["score", "--version=champion", "--output=o.parquet"], ["promote", "--alias=champion"]]
)
def test_an_edited_newest_event_is_refused_not_followed(modelfleet, store, command):
    """The newest event is what scoring follows: one whose version was edited (here to another real version) is
    refused (3) by score, and nothing is appended to its log by a promotion."""
    run(modelfleet, store, "promote", "--alias=champion", "--version=v2")
    (event_file,) = (store / "store" / "churn" / "aliases" / "champion").iterdir()
    event_file.write_text(event_file.read_text().replace('"version": "v2"', '"version": "v1"'))
    done, _ = run(modelfleet, store, *command)
    assert done.returncode == 3, done.stderr
    assert "edited" in done.stderr
    assert not (store / "o.parquet").exists()
    assert len(list(event_file.parent.iterdir())) == 1


EVENT_KEYS = ["version", "replaces", "action", "reason", "run_id", "at", "by", "gate", "previous", "sha256", "schema"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=st.sampled_from(EVENT_KEYS) | st.text(min_size=1, max_size=6),
    value=st.none() | st.booleans() | st.integers() | st.sampled_from(["v1", "v2", "champion"]) | st.text(max_size=8),
    remove=st.booleans(),
    command=st.sampled_from(["score", "evaluate", "promote", "rollback"]),
)
def test_generated_edits_of_the_newest_event_are_refused_by_every_command(
    modelfleet, two_versions, tmp_path_factory, key, value, remove, command
):
    """Any edit of the event an alias points by (any key changed, added or removed) is refused (3) by every
    command that reads the alias, and nothing is scored or appended."""
    root = tmp_path_factory.mktemp("edited")
    shutil.copytree(two_versions / "store", root / "store")
    shutil.copy(two_versions / "labelled.parquet", root / "labelled.parquet")
    for version in ("v1", "v2"):
        assert run(modelfleet, root, "promote", "--alias=champion", f"--version={version}")[0].returncode == 0
    folder = root / "store" / "churn" / "aliases" / "champion"
    newest = sorted(folder.iterdir())[-1]
    event = json.loads(newest.read_text())
    edited = {k: v for k, v in event.items() if k != key} | ({} if remove else {key: value})
    if edited == event:
        return
    newest.write_text(json.dumps(edited, indent=2))
    args = {
        "score": ["score", "--version=champion", "--output=out.parquet"],
        "evaluate": ["evaluate", "--version=champion", "--data=labelled.parquet"],
        "promote": ["promote", "--alias=champion", "--version=v1"],
        "rollback": ["rollback", "--alias=champion"],
    }[command]
    done, _ = run(modelfleet, root, *args)
    assert done.returncode == 3, done.stderr
    assert not (root / "out.parquet").exists()
    assert len(list(folder.iterdir())) == 2
