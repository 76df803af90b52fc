"""The store never serves a broken or unsafe model: killed trainings, races, corruption, tampering."""

import hashlib
import json
import pickle
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest

from models.churn import Churn
from shared.errors import ArtifactRejected
from shared.estimators import formats
from shared.storage.store import MANIFEST, Store


def train(modelfleet, store, cwd, run_id, env=None, process=False):
    """Train a small churn model as version ``run_id`` through the command line."""
    args = ["churn", "train", f"--run_id={run_id}", "--n_estimators=5"]
    return modelfleet(args, cwd, {"MODELFLEET_STORE": store, **(env or {})}, process=process)


def model_file(store_url, version):
    """The store path of a committed version's model file, and its filesystem."""
    store = Store(store_url)
    manifest = store.resolve("churn", version)
    return store.fs, f"{store.root}/churn/versions/{version}/{manifest['files'][0]['path']}"


@pytest.mark.parametrize(
    ("fault", "committed"),
    [
        ("model-write", False),
        ("model-written", False),
        ("manifest-write", False),
        ("manifest-written", True),
        ("model-write:TERM", False),
        ("manifest-write:TERM", False),
    ],
)
def test_a_killed_training_never_leaves_a_loadable_half_version(modelfleet, tmp_path, fault, committed):
    """Killed at any point, train leaves the old version serving or the new one whole, and a rerun succeeds."""
    store = str(tmp_path / "store")
    model = Churn(store=store)
    model.train(run_id="v1", n_estimators=5)
    killed = train(modelfleet, store, tmp_path, "v2", env={"MODELFLEET_FAULT": fault}, process=True)  # it kills itself
    expected = 143 if fault.endswith(":TERM") else -signal.SIGKILL
    assert expected == killed.returncode, killed.stderr
    if fault.endswith(":TERM"):
        assert "nothing was committed" in killed.stderr

    serving = "v2" if committed else "v1"
    assert (["v1", "v2"] if committed else ["v1"]) == [m["version"] for m in Store(store).versions("churn")]
    unlabelled = Churn()._sample_frame(50, 3).drop(columns="churned")
    assert serving == model.score(unlabelled)["version"]

    rerun = train(modelfleet, store, tmp_path, "v2")
    assert rerun.returncode == 0, rerun.stderr
    assert committed == json.loads(rerun.stdout)["already_committed"]
    assert model.score(unlabelled)["version"] == "v2"


def test_eight_concurrent_trainings_of_one_run_commit_exactly_one_version(modelfleet, any_store, tmp_path):
    """Duplicate pods for one Airflow run: all exit 0, one version, one attempt's files, all verified."""
    with ThreadPoolExecutor(8) as pool:
        runs = list(pool.map(lambda _: train(modelfleet, any_store, tmp_path, "run-1", process=True), range(8)))
    assert [run.returncode for run in runs] == [0] * 8, [run.stderr[-300:] for run in runs]
    results = [json.loads(run.stdout) for run in runs]
    assert sum(not result["already_committed"] for result in results) == 1
    assert {"run-1"} == {result["version"] for result in results}
    store = Store(any_store)
    assert [m["version"] for m in store.versions("churn")] == ["run-1"]
    data, _ = store.read(store.resolve("churn", "run-1"), "model.txt")
    assert data.startswith(b"tree\n")


@pytest.mark.parametrize("cut", [0.05, 0.5, 0.95, 0.99])
def test_a_truncated_model_file_exits_3_before_lightgbm_reads_it(modelfleet, tmp_path, cut):
    """A model file cut short is refused with exit 3 naming it, never a LightGBM abort or segfault."""
    store = str(tmp_path / "store")
    train(modelfleet, store, tmp_path, "v1")
    fs, path = model_file(store, "v1")
    data = fs.cat_file(path)
    fs.pipe_file(path, data[: int(len(data) * cut)])
    done = modelfleet(["churn", "score"], tmp_path, {"MODELFLEET_STORE": store})
    assert done.returncode == 3, done.stderr
    assert "model.txt is" in done.stderr
    assert "file damaged" in done.stderr


def test_a_flipped_bit_exits_3(modelfleet, tmp_path):
    """One changed bit in the model file is caught by its sha256."""
    store = str(tmp_path / "store")
    train(modelfleet, store, tmp_path, "v1")
    fs, path = model_file(store, "v1")
    data = bytearray(fs.cat_file(path))
    data[len(data) // 2] ^= 1
    fs.pipe_file(path, bytes(data))
    done = modelfleet(["churn", "score"], tmp_path, {"MODELFLEET_STORE": store})
    assert done.returncode == 3
    assert "sha256" in done.stderr


def test_corrupt_files_never_reach_lightgbm(modelfleet, tmp_path, monkeypatch):
    """In process, with lightgbm.Booster rigged to fail the test, a damaged file is refused first."""
    import lightgbm

    store = str(tmp_path / "store")
    train(modelfleet, store, tmp_path, "v1")
    fs, path = model_file(store, "v1")
    fs.pipe_file(path, fs.cat_file(path)[:100])

    def never(*args, **kwargs):
        raise AssertionError("LightGBM was handed a damaged model file")

    monkeypatch.setattr(lightgbm, "Booster", never)
    with pytest.raises(ArtifactRejected):
        Churn(store=store).score(Churn()._sample_frame(10, 1).drop(columns="churned"))


def _tamper(store_url, version, change):
    store = Store(store_url)
    path = f"{store.root}/churn/versions/{version}/{MANIFEST}"
    manifest = json.loads(store.fs.cat_file(path))
    change(store, manifest)
    store.fs.pipe_file(path, json.dumps(manifest).encode())


def test_a_manifest_pointing_outside_its_version_exits_3(modelfleet, tmp_path):
    """A manifest edited to name ../ paths is refused."""
    store = str(tmp_path / "store")
    train(modelfleet, store, tmp_path, "v1")
    _tamper(store, "v1", lambda _, m: m["files"][0].update(path="../../../../etc/passwd"))
    done = modelfleet(["churn", "score"], tmp_path, {"MODELFLEET_STORE": store})
    assert done.returncode == 3
    assert "leaves the version folder" in done.stderr


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("fmt", ["lightgbm-text", "skops", "pickle"])
def test_a_pickle_disguised_as_the_model_exits_3_and_runs_nothing(modelfleet, tmp_path, fmt):
    """Even with a manifest rewritten to match it, a pickle in place of the model is refused; no code runs."""
    store = str(tmp_path / "store")
    marker = tmp_path / "pwned"
    train(modelfleet, store, tmp_path, "v1")
    payload = pickle.dumps(_Payload(str(marker)))

    def swap(store_obj, manifest):
        entry = manifest["files"][0]
        store_obj.fs.pipe_file(f"{store_obj.root}/churn/versions/v1/{entry['path']}", payload)
        entry.update(size=len(payload), sha256=hashlib.sha256(payload).hexdigest(), format=fmt)

    _tamper(store, "v1", swap)
    done = modelfleet(["churn", "score"], tmp_path, {"MODELFLEET_STORE": store})
    assert done.returncode == 3, done.stderr
    assert not marker.exists()


def test_an_artifact_from_another_lightgbm_major_version_exits_3(modelfleet, tmp_path):
    """A manifest recording an incompatible LightGBM is refused before loading."""
    store = str(tmp_path / "store")
    train(modelfleet, store, tmp_path, "v1")
    _tamper(store, "v1", lambda _, m: m["libraries"].update(lightgbm="3.3.5"))
    done = modelfleet(["churn", "score"], tmp_path, {"MODELFLEET_STORE": store})
    assert done.returncode == 3
    assert "written with lightgbm 3.3.5" in done.stderr


def test_nothing_in_the_product_deserialises_pickle():
    """No module of the product calls pickle, joblib, cloudpickle or dill loaders."""
    import pathlib

    root = pathlib.Path(formats.__file__).parents[2]
    sources = [p for package in ("shared", "models", "dispatch") for p in (root / package).rglob("*.py")]
    assert sources
    for source in sources:
        text = source.read_text()
        for banned in ("pickle.load", "joblib.load", "cloudpickle", "dill.load", "import pickle"):
            assert banned not in text, f"{source} uses {banned}"


@pytest.fixture
def scored_store(modelfleet, tmp_path):
    """A store with a trained churn model and a labelled and an unlabelled customer table."""
    store = str(tmp_path / "store")
    train(modelfleet, store, tmp_path, "v1")
    frame = Churn()._sample_frame(300, 5)
    frame.drop(columns="churned").to_parquet(tmp_path / "customers.parquet")
    return store, frame.drop(columns="churned")


def test_reordered_columns_give_identical_predictions(modelfleet, scored_store, tmp_path):
    """Column order never matters (LightGBM alone would match by position)."""
    store, frame = scored_store
    frame[list(reversed(frame.columns))].to_parquet(tmp_path / "reordered.parquet")
    modelfleet(
        ["churn", "score", "--data=customers.parquet", "--output=a.parquet"], tmp_path, {"MODELFLEET_STORE": store}
    )
    modelfleet(
        ["churn", "score", "--data=reordered.parquet", "--output=b.parquet"], tmp_path, {"MODELFLEET_STORE": store}
    )
    import pandas as pd

    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a.parquet"), pd.read_parquet(tmp_path / "b.parquet"))


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda f: f.rename(columns={"tenure_months": "tenure"}), "'tenure_months'"),
        (lambda f: f.drop(columns=["plan"]), "'plan'"),
        (lambda f: f.rename(columns={"region": "Region"}), "'region' (found 'Region': names are case-sensitive)"),
    ],
)
def test_renamed_missing_or_case_changed_columns_exit_65_naming_them(modelfleet, scored_store, tmp_path, change, named):
    """A column that does not match by name stops scoring with exit 65 and names it."""
    store, frame = scored_store
    change(frame).to_parquet(tmp_path / "bad.parquet")
    done = modelfleet(["churn", "score", "--data=bad.parquet"], tmp_path, {"MODELFLEET_STORE": store})
    assert done.returncode == 65
    assert named in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert not (tmp_path / "store" / "churn" / "predictions").exists()
