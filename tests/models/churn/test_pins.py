"""One version per sharded scoring run: an alias moved mid-run never splits a run between two models."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from models.churn import Churn
from shared.storage.store import Store

SHARDS = 4


@pytest.fixture
def fleet(tmp_path, any_store):
    """Two churn versions in the store, champion at v1, and an unlabelled input of several files."""
    model = Churn(store=any_store)
    model.train(run_id="v1", n_estimators=5, promote="champion")
    model.train(run_id="v2", n_estimators=40)
    inputs = tmp_path / "in"
    inputs.mkdir()
    for k in range(SHARDS):
        model._sample_frame(300, 50 + k).drop(columns="churned").to_parquet(inputs / f"day-{k}.parquet")
    return model, any_store, tmp_path


def _score(modelfleet, store, root, output, shard, version="champion"):
    done = modelfleet(
        ["churn", "score", f"--data={root / 'in'}", f"--version={version}", f"--output={output}", f"--shard={shard}"],
        cwd=root,
        env={"MODELFLEET_STORE": store},
    )
    return done, (json.loads(done.stdout) if done.returncode == 0 else None)


def _parts(output, fs=None):
    import pyarrow.dataset as ds

    return ds.dataset(output, filesystem=fs, format="parquet").to_table().to_pandas()


def test_an_alias_moved_after_the_first_shard_leaves_every_shard_with_the_first_version(modelfleet, fleet):
    model, store, root = fleet
    output = f"{store.rsplit('/', 1)[0]}/scores/day-1" if store.startswith("s3://") else str(root / "scores")
    results = []
    for k in range(SHARDS):
        if k == 1:  # the champion moves between the first shard and the others
            model.promote(alias="champion", version="v2", reason="mid-run")
        done, result = _score(modelfleet, store, root, output, f"{k}/{SHARDS}")
        assert done.returncode == 0, done.stderr
        results.append(result)
    assert {r["version"] for r in results} == {"v1"}
    assert {r["alias"]["generation"] for r in results} == {1}, "the shards report other alias events"
    assert {r["pin"] for r in results} == {f"{output}/_version.json"}
    assert "champion now names version v2; this run's first shard pinned v1" in done.stderr
    # and the parts hold exactly what one unsharded run of v1 gives (the pin is no part of the dataset)
    from shared.tables.data import filesystem

    fs, path = filesystem(output)
    sharded = _parts(path, fs).sort_values("customer_id").reset_index(drop=True)
    whole = pd.concat(
        [model.score(pd.read_parquet(f), version="v1")["predictions"] for f in sorted((root / "in").iterdir())]
    )
    whole = whole.sort_values("customer_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(sharded[whole.columns], whole, check_dtype=False)


MOVER = """
import sys, time
from pathlib import Path
from models.churn import Churn
model, stop = Churn(store=sys.argv[1]), Path(sys.argv[2])
for i in range(10_000):
    if stop.exists():
        break
    model.promote(alias="champion", version=("v1", "v2")[i % 2])
    time.sleep(0.05)
"""


def test_shards_started_together_while_the_alias_moves_agree_on_one_version(fleet, tmp_path):
    """Real processes: the four shards start at the same moment while another process moves the alias back and
    forth every 50 ms; each round the four report one version between them."""
    _, store, root = fleet
    env = {**os.environ, "MODELFLEET_STORE": store}
    stop = tmp_path / "stop"
    mover = subprocess.Popen([sys.executable, "-c", MOVER, store, str(stop)], env=env, cwd=root)
    try:
        for round_ in range(3):
            remote = store.startswith("s3://")
            output = f"{store.rsplit('/', 1)[0]}/race-{round_}" if remote else str(tmp_path / f"race-{round_}")
            argv = [sys.executable, "-m", "dispatch", "churn", "score", f"--data={root / 'in'}", "--version=champion"]
            procs = [
                subprocess.Popen(
                    [*argv, f"--output={output}", f"--shard={k}/{SHARDS}"], env=env, stdout=subprocess.PIPE
                )
                for k in range(SHARDS)
            ]
            outs = [proc.communicate(timeout=300)[0] for proc in procs]
            assert [proc.returncode for proc in procs] == [0] * SHARDS
            versions = {json.loads(out)["version"] for out in outs}
            assert len(versions) == 1, f"round {round_}: the shards scored with {versions}"
    finally:
        stop.touch()
        mover.wait(timeout=120)


@pytest.mark.parametrize("version", ["champion", "latest"])
def test_shards_of_a_version_that_can_move_need_an_output_folder(modelfleet, fleet, version):
    _, store, root = fleet
    done = modelfleet(
        ["churn", "score", f"--data={root / 'in'}", f"--version={version}", "--shard=0/2"],
        cwd=root,
        env={"MODELFLEET_STORE": store},
    )
    assert done.returncode == 64
    assert f"--shard with --version={version}, which can name another version" in done.stderr


def test_a_folder_is_one_run(modelfleet, fleet):
    """Another version by another name is refused, not mixed in; the same version by another name is fine."""
    _, store, root = fleet
    output = root / "scores"
    assert _score(modelfleet, store, root, output, "0/2")[0].returncode == 0
    done, _ = _score(modelfleet, store, root, output, "1/2", version="v2")
    assert done.returncode == 64
    assert "holds a run scored with champion (version v1" in done.stderr
    assert not (output / "part-00001-of-00002.parquet").exists()
    done, result = _score(modelfleet, store, root, output, "1/2", version="v1")
    assert done.returncode == 0, done.stderr
    assert result["version"] == "v1"


def test_a_damaged_pin_is_refused(modelfleet, fleet):
    _, store, root = fleet
    output = root / "scores"
    assert _score(modelfleet, store, root, output, "0/2")[0].returncode == 0
    (output / "_version.json").write_text('{"version": "../../v2"}')
    done, _ = _score(modelfleet, store, root, output, "1/2")
    assert done.returncode == 3
    assert "is not a version pin this build reads" in done.stderr


def test_a_shard_that_fails_its_checks_pins_nothing(modelfleet, fleet):
    """An input the checks refuse before any row is read (here: a feature column missing) pins no version."""
    model, store, root = fleet
    broken = root / "broken"
    broken.mkdir()
    model._sample_frame(100, 1).drop(columns=[model.numeric[0]]).to_parquet(broken / "x.parquet")
    done = modelfleet(
        ["churn", "score", f"--data={broken}", "--version=champion", f"--output={root / 'scores'}", "--shard=0/2"],
        cwd=root,
        env={"MODELFLEET_STORE": store},
    )
    assert done.returncode == 65
    assert not (root / "scores").exists()


def _score_args(root, output, *extra, version="champion"):
    return ["churn", "score", f"--data={root / 'in'}", f"--version={version}", f"--output={output}", *extra]


@pytest.mark.parametrize(
    ("first", "then", "message"),
    [
        (["--shard=0/2"], ["--shard=2/4"], "holds a run of another shard count (2"),
        (["--shard=0/2", "--as_of=2024-10-01"], ["--shard=1/2", "--as_of=2024-10-02"], "another --as_of (2024-10-01"),
        (["--shard=0/2", "--as_of=2024-10-01"], ["--shard=1/2"], "another --as_of"),
    ],
)
def test_another_run_into_a_pinned_folder_is_refused(modelfleet, fleet, first, then, message):
    """Another shard count would overlap the parts; another day would overwrite yesterday's and score with its
    pinned version: both are another run, refused (64) with nothing written."""
    _, store, root = fleet
    output = root / "scores"
    env = {"MODELFLEET_STORE": store}
    assert modelfleet(_score_args(root, output, *first), cwd=root, env=env).returncode == 0
    before = sorted(p.name for p in output.iterdir())
    done = modelfleet(_score_args(root, output, *then), cwd=root, env=env)
    assert done.returncode == 64, done.stderr
    assert message in done.stderr
    assert sorted(p.name for p in output.iterdir()) == before


@pytest.mark.parametrize("name", ["part-00000-of-00002.parquet", "extra.parquet"])
def test_an_unsharded_output_into_a_pinned_folder_is_refused(modelfleet, fleet, name):
    _, store, root = fleet
    output = root / "scores"
    env = {"MODELFLEET_STORE": store}
    assert modelfleet(_score_args(root, output, "--shard=0/2"), cwd=root, env=env).returncode == 0
    part = (output / "part-00000-of-00002.parquet").read_bytes()
    done = modelfleet(_score_args(root, output / name, version="v2"), cwd=root, env=env)
    assert done.returncode == 64
    assert "is inside the folder of a sharded run of churn (pinned to version v1" in done.stderr
    assert (output / "part-00000-of-00002.parquet").read_bytes() == part
    assert not (output / "extra.parquet").exists()


@pytest.mark.parametrize(
    ("pin", "code", "message"),
    [
        ('{"model": "churn", "requested": "champion", "version": "latest", "shards": 2}', 3, "not a version pin"),
        ('{"model": "churn", "requested": "champion", "version": "champion", "shards": 2}', 3, "remove the pin"),
        (None, 64, "cannot keep the run's _version.json there"),
    ],
)
def test_a_pin_that_names_no_version_is_refused_at_once(modelfleet, fleet, pin, code, message):
    _, store, root = fleet
    output = root / "scores"
    output.mkdir()
    if pin is None:
        (output / "_version.json").mkdir()  # a folder where the pin goes
    else:
        (output / "_version.json").write_text(pin)
    done = modelfleet(_score_args(root, output, "--shard=1/2"), cwd=root, env={"MODELFLEET_STORE": store})
    assert done.returncode == code, done.stderr
    assert message in done.stderr


def test_an_output_that_is_a_file_is_refused_for_a_shard(modelfleet, fleet):
    _, store, root = fleet
    (root / "afile").write_text("not a folder")
    done = modelfleet(_score_args(root, root / "afile", "--shard=0/2"), cwd=root, env={"MODELFLEET_STORE": store})
    assert done.returncode == 64
    assert "--output" in done.stderr


def test_a_dry_run_reports_the_pinned_version(modelfleet, fleet):
    model, store, root = fleet
    output, env = root / "scores", {"MODELFLEET_STORE": store}
    assert modelfleet(_score_args(root, output, "--shard=0/2"), cwd=root, env=env).returncode == 0
    model.promote(alias="champion", version="v2")
    done = modelfleet(_score_args(root, output, "--shard=1/2", "--dry_run"), cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    planned = json.loads(done.stdout)
    assert (planned["version"], planned["pin"]) == ("v1", f"{output}/_version.json")


def test_a_pinned_version_removed_since_names_the_pin(modelfleet, fleet):
    model, store, root = fleet
    output, env = root / "scores", {"MODELFLEET_STORE": store}
    assert modelfleet(_score_args(root, output, "--shard=0/2"), cwd=root, env=env).returncode == 0
    model.promote(alias="champion", version="v2")
    Store(store).retire("churn", "v1")  # as gc removes a version
    Store(store).purge("churn", "v1")
    done = modelfleet(_score_args(root, output, "--shard=1/2"), cwd=root, env=env)
    assert done.returncode == 66
    assert f"this run's pin {output}/_version.json names churn version v1, which the store no longer holds" in (
        done.stderr
    )


@pytest.mark.parametrize(
    ("version", "forge"),
    [
        ("champion", {"version": "v2", "alias": "keep"}),  # the event's version, and the pin's, changed to v2
        ("champion", {"version": "v2", "alias": None}),  # an alias run pinned with no event at all
        ("champion@1", {"version": "v2", "alias": "keep"}),
        ("v1", {"version": "v2"}),  # a version id run pinned to another version
    ],
)
def test_a_pin_that_says_it_read_what_the_store_does_not_hold_is_refused(modelfleet, fleet, version, forge):
    """A pin lives in the output folder, which many writers may reach, and is no signed record: the version and
    the alias event it says it read are checked against the store's own log before any later shard scores."""
    _, store, root = fleet
    output = root / "scores"
    assert _score(modelfleet, store, root, output, "0/2", version=version)[0].returncode == 0
    pin_file = output / "_version.json"
    pin = json.loads(pin_file.read_text())
    edited = {**pin, "version": forge["version"]}
    if forge.get("alias") == "keep" and pin.get("alias"):
        edited["alias"] = {**pin["alias"], "version": forge["version"]}
    elif "alias" in forge:
        edited["alias"] = forge["alias"]
    pin_file.write_text(json.dumps(edited))
    done, _ = _score(modelfleet, store, root, output, "1/2", version=version)
    assert done.returncode == 3, done.stderr
    assert "the pin was edited" in done.stderr
