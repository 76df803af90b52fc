"""Drift in every scoring run, through the command line: the verdict in the result, --on_drift, the hard
limits that stop before anything is published, and a sharded run's verdict equal to one pass's."""

import json

import numpy as np
import pytest

from models.churn import Churn
from shared.monitoring import tallies
from shared.storage import artifacts

ROWS = 3000


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("drift")
    model = Churn(store=str(root / "store"))
    model.train(run_id="v1", n_estimators=20)
    return model, root


def _input(model, root, name, change=None, rows=ROWS, seed=5):
    frame = model._sample_frame(rows, seed).drop(columns="churned")
    if change is not None:
        change(frame)
    path = root / f"{name}.parquet"
    frame.to_parquet(path)
    return path


def _score(modelfleet, model, root, data, *flags):
    done = modelfleet(
        ["churn", "score", f"--data={data}", "--version=v1", *flags], env={"MODELFLEET_STORE": model._store_url}
    )
    return done, (json.loads(done.stdout) if done.stdout.strip() else None)


def _spend_up(frame):
    frame["monthly_spend"] = frame["monthly_spend"] * 1.3


def test_rows_like_the_training_rows_pass_and_the_verdict_lists_every_feature_in_order(modelfleet, trained):
    model, root = trained
    done, result = _score(modelfleet, model, root, _input(model, root, "same"), f"--output={root / 'same-out.parquet'}")
    assert done.returncode == 0, done.stderr
    verdict = result["drift"]
    assert verdict["status"] == "ok"
    assert verdict["drifted"] == []
    assert verdict["rows"] == ROWS
    assert [entry["name"] for entry in verdict["features"]] == list(artifacts.load(model, "v1")[2].columns)
    assert verdict["prediction"]["p"] is not None


@pytest.mark.parametrize(("policy", "code"), [("warn", 0), ("fail", 101)])
def test_a_drifted_input_is_named_and_fails_only_when_asked_with_the_predictions_written(
    modelfleet, trained, policy, code
):
    model, root = trained
    output = root / f"drifted-{policy}.parquet"
    done, result = _score(
        modelfleet, model, root, _input(model, root, "spend", _spend_up), f"--output={output}", f"--on_drift={policy}"
    )
    assert done.returncode == code, done.stderr
    assert "monthly_spend" in result["drift"]["drifted"]
    assert result["drift"]["status"] == "drifted"
    assert "no longer looks like churn version v1's training rows: " in done.stderr
    assert output.exists(), "the predictions are written either way"
    if policy == "fail":
        assert result["exit_code"] == 101
        assert result["error"] == "Drifted"


@pytest.mark.parametrize(
    ("change", "flag"),
    [
        (lambda f: f.__setitem__("tenure_months", np.nan), "--max_missing_rise"),
        (lambda f: f.__setitem__("monthly_spend", f["monthly_spend"] * 100), "--max_out_of_range"),
    ],
    ids=["a column gone missing", "a column in another unit"],
)
def test_a_broken_column_stops_the_run_before_anything_is_published(modelfleet, trained, change, flag):
    model, root = trained
    output = root / f"broken-{flag}.parquet"
    done, _ = _score(modelfleet, model, root, _input(model, root, f"broken{flag}", change), f"--output={output}")
    assert done.returncode == 65, done.stderr
    assert flag in done.stderr
    assert "nothing was written" in done.stderr
    assert not output.exists()
    assert not list(root.glob(f".broken-{flag}*"))
    done, _ = _score(modelfleet, model, root, root / f"broken{flag}.parquet", f"--output={output}", f"{flag}=1")
    assert done.returncode == 0, "the limit raised, the same input scores"


def test_off_counts_nothing_and_gives_no_verdict(modelfleet, trained):
    model, root = trained
    done, result = _score(
        modelfleet, model, root, _input(model, root, "off"), "--on_drift=off", f"--output={root / 'o.parquet'}"
    )
    assert done.returncode == 0
    assert "drift" not in result


def test_a_sharded_runs_verdict_is_the_verdict_of_one_pass_over_the_same_rows(modelfleet, trained, tmp_path):
    model, root = trained
    data = root / "in"
    data.mkdir(exist_ok=True)
    for k in range(3):
        _input(model, data, f"day-{k}", _spend_up if k == 1 else None, rows=1000, seed=20 + k)
    done, single = _score(modelfleet, model, root, data, f"--output={tmp_path / 'one.parquet'}")
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "run"
    shards = []
    for k in (2, 0, 1):  # in any order: the last to finish gives the run's verdict
        done, result = _score(modelfleet, model, root, data, f"--output={folder}", f"--shard={k}/3")
        assert done.returncode == 0, done.stderr
        shards.append(result["drift"])
    assert [s["status"] for s in shards[:2]] == ["pending", "pending"]
    last = shards[2]
    assert last.pop("path") == f"{folder}/_drift/run.json"
    assert last == single["drift"], "the merged shards' verdict differs from one pass over the same rows"
    again = modelfleet(["churn", "drift", f"--output={folder}"], env={"MODELFLEET_STORE": model._store_url})
    assert again.returncode == 0, again.stderr
    merged = json.loads(again.stdout)
    assert merged["drift"] | {"path": None} == last | {"path": None}
    assert (merged["version"], merged["shards"]) == ("v1", 3)
    failing = modelfleet(
        ["churn", "drift", f"--output={folder}", "--on_drift=fail"], env={"MODELFLEET_STORE": model._store_url}
    )
    assert failing.returncode == (101 if last["drifted"] else 0)

    (folder / "_drift" / "part-00001-of-00003.json").unlink()
    missing = modelfleet(["churn", "drift", f"--output={folder}"], env={"MODELFLEET_STORE": model._store_url})
    assert missing.returncode == 66
    assert "shards 1" in missing.stderr
    part = folder / "_drift" / "part-00000-of-00003.json"
    part.write_text(json.dumps(json.loads(part.read_text()) | {"version": "v0"}))
    done, _ = _score(modelfleet, model, root, data, f"--output={folder}", "--shard=1/3")
    assert done.returncode == 3
    assert "counts rows scored with version v0" in done.stderr
    damaged = json.loads(part.read_text()) | {"version": "v1"}
    damaged["features"][0]["counts"] = damaged["features"][0]["counts"][:-1]  # a bin short
    part.write_text(json.dumps(damaged))
    again = modelfleet(["churn", "drift", f"--output={folder}"], env={"MODELFLEET_STORE": model._store_url})
    assert again.returncode == 3
    assert "do not fit its profile's bins" in again.stderr


def test_a_shards_counts_go_beside_its_part_on_an_object_store(modelfleet, trained, s3_store):
    model, root = trained
    data = root / "s3in"
    data.mkdir(exist_ok=True)
    for k in range(2):
        _input(model, data, f"day-{k}", rows=500, seed=40 + k)
    folder = f"{s3_store.rsplit('/', 1)[0]}/scores/drift-run"
    for k in range(2):
        done, result = _score(modelfleet, model, root, data, f"--output={folder}", f"--shard={k}/2")
        assert done.returncode == 0, done.stderr
    assert result["drift"]["status"] == "ok"
    assert result["drift"]["path"] == f"{folder}/{tallies.FOLDER}/run.json"


def test_a_result_file_inside_the_run_folder_is_refused_before_the_merge(modelfleet, trained, tmp_path):
    model, root = trained
    folder = tmp_path / "run"
    done, _ = _score(modelfleet, model, root, _input(model, root, "one"), f"--output={folder}", "--shard=0/1")
    assert done.returncode == 0, done.stderr
    before = sorted(p.name for p in folder.rglob("*"))
    env = {"MODELFLEET_STORE": model._store_url, "MODELFLEET_RESULT_PATH": str(folder / "_drift" / "run.json")}
    refused = modelfleet(["churn", "drift", f"--output={folder}"], env=env)
    assert refused.returncode == 64
    assert "point MODELFLEET_RESULT_PATH elsewhere" in refused.stderr
    assert sorted(p.name for p in folder.rglob("*")) == before


def test_a_tiny_run_with_a_missing_value_is_scored_not_refused(modelfleet, trained):
    model, root = trained
    data = _input(model, root, "three", lambda f: f.__setitem__("monthly_spend", [np.nan, 10.0, 20.0]), rows=3)
    done, result = _score(modelfleet, model, root, data, f"--output={root / 'three-out.parquet'}")
    assert done.returncode == 0, done.stderr
    assert result["rows"] == 3


@pytest.fixture
def unprofiled(tmp_path):
    """A store whose one version has no profile, as versions trained before profiles have none."""
    model = Churn(store=str(tmp_path / "store"))
    model.train(run_id="old", n_estimators=5)
    path = tmp_path / "store" / "churn" / "versions" / "old" / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["profile"]
    path.write_text(json.dumps(manifest))
    return model, tmp_path


def test_fail_on_a_version_without_a_profile_is_refused_before_the_run_pins_anything(modelfleet, unprofiled):
    model, root = unprofiled
    data = _input(model, root, "in", rows=200)
    folder = root / "run"
    env = {"MODELFLEET_STORE": model._store_url}
    for dry in ([], ["--dry_run"]):
        args = ["churn", "score", f"--data={data}", "--version=old", f"--output={folder}", "--shard=0/2"]
        done = modelfleet([*args, "--on_drift=fail", *dry], env=env)
        assert done.returncode == 64, done.stderr
        assert "has no reference profile" in done.stderr
        assert not folder.exists(), "a refused shard left the run's pin behind"
    done = modelfleet(
        ["churn", "score", f"--data={data}", "--version=old", f"--output={folder}", "--shard=0/1"], env=env
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["drift"] == {"status": "unavailable"}
    again = modelfleet(["churn", "drift", f"--output={folder}"], env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["drift"] == {"status": "unavailable"}


def test_a_file_where_the_counts_go_is_refused_before_any_work(modelfleet, trained, tmp_path):
    model, root = trained
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "_drift").write_text("not a folder")
    done, _ = _score(modelfleet, model, root, _input(model, root, "x"), f"--output={folder}", "--shard=0/2")
    assert done.returncode == 64, done.stderr
    assert "_drift is a file" in done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["_drift"]


def test_parts_of_another_input_in_a_reused_folder_are_never_merged(modelfleet, trained, tmp_path):
    model, root = trained
    folder = tmp_path / "run"
    first, other = _input(model, root, "first", rows=600, seed=61), _input(model, root, "other", rows=900, seed=62)
    for k in range(2):
        done, _ = _score(modelfleet, model, root, first, f"--output={folder}", f"--shard={k}/2")
        assert done.returncode == 0, done.stderr
    before = (folder / "part-00000-of-00002.parquet").read_bytes()
    done, _ = _score(modelfleet, model, root, other, f"--output={folder}", "--shard=0/2")
    assert done.returncode == 3, done.stderr
    assert "read another input than this shard" in done.stderr
    assert (folder / "part-00000-of-00002.parquet").read_bytes() == before, "the refused shard replaced its part"


def test_the_model_wide_on_drift_setting_is_scores_alone(modelfleet, trained, tmp_path):
    model, root = trained
    folder = tmp_path / "run"
    env = {"MODELFLEET_STORE": model._store_url, "MODELFLEET_CHURN_ON_DRIFT": "off"}
    data = _input(model, root, "wide", rows=500)
    done = modelfleet(
        ["churn", "score", f"--data={data}", "--version=v1", f"--output={folder}", "--shard=0/1"], env=env
    )
    assert done.returncode == 0, done.stderr
    assert "drift" not in json.loads(done.stdout)
    assert modelfleet(["churn", "drift", f"--output={folder}"], env=env).returncode == 66  # off: nothing counted


def test_a_run_folder_in_a_bucket_without_credentials_is_77(modelfleet, trained, monkeypatch, tmp_path):
    model, _ = trained
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    done = modelfleet(
        ["churn", "drift", "--output=s3://modelfleet-no-such-bucket/run"], env={"MODELFLEET_STORE": model._store_url}
    )
    assert done.returncode == 77, done.stderr
    assert "no credentials found" in done.stderr
