"""Train and evaluate read what score reads: a file, a folder or a glob of Parquet or CSV files, local or remote.

The invariant: the same rows in the same order give the same version, however they are cut into files.
"""

import itertools
import json
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.churn import Churn
from shared.storage.store import Store

ROWS = 1200
FAST = {"n_estimators": 15, "num_threads": 1}


def _write(frame, folder, cuts, fmt):
    """Write ``frame`` cut at ``cuts`` into files of ``folder`` whose names sort in row order."""
    folder.mkdir(parents=True)
    bounds = [0, *sorted(cuts), len(frame)]
    for i, (start, stop) in enumerate(itertools.pairwise(bounds)):
        part = frame.iloc[start:stop]
        path = folder / f"part-{i:03d}.{fmt}"
        part.to_parquet(path, index=False) if fmt == "parquet" else part.to_csv(path, index=False)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A version trained on one Parquet file, and that file's frame."""
    root = tmp_path_factory.mktemp("reference")
    frame = Churn()._sample_frame(ROWS, 3)
    frame.to_parquet(root / "whole.parquet", index=False)
    model = Churn(store=str(root / "store"))
    return frame, model.train(str(root / "whole.parquet"), run_id="whole", **FAST), root


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    cuts=st.lists(st.integers(1, ROWS - 1), max_size=4, unique=True),
    fmt=st.sampled_from(["parquet", "csv"]),
    named=st.sampled_from(["folder", "glob"]),
)
def test_a_folder_or_glob_trains_and_evaluates_like_the_one_file(reference, tmp_path_factory, cuts, fmt, named):
    frame, expected, root = reference
    folder = tmp_path_factory.mktemp("parts") / "in"
    _write(frame, folder, cuts, fmt)
    data = str(folder) if named == "folder" else f"{folder}/part-*.{fmt}"
    model = Churn(store=str(root / "store"))
    trained = model.train(data, run_id=f"parts-{len(cuts)}-{fmt}-{named}", **FAST)
    assert trained["metrics"] == expected["metrics"]
    assert trained["rows"] == expected["rows"]
    recorded = Store(str(root / "store")).resolve("churn", trained["version"])["data"]
    assert (recorded["of"], recorded["files"], recorded["rows"]) == ("files", len(cuts) + 1, ROWS)
    whole = model.evaluate(str(root / "whole.parquet"), version="whole")["metrics"]
    assert model.evaluate(data, version="whole")["metrics"] == whole


def test_the_same_files_renamed_are_other_data(tmp_path):
    """A folder's identity covers its files' names and order as well as their bytes."""
    frame = Churn()._sample_frame(400, 2)
    _write(frame, tmp_path / "a", [150], "parquet")
    _write(frame, tmp_path / "b", [150], "parquet")
    (tmp_path / "b" / "part-001.parquet").rename(tmp_path / "b" / "part-999.parquet")
    model = Churn(store=str(tmp_path / "store"))
    first = model.train(str(tmp_path / "a"), run_id="a", **FAST)
    second = model.train(str(tmp_path / "b"), run_id="b", **FAST)
    assert first["metrics"] == second["metrics"]  # the same rows in the same order
    store = Store(str(tmp_path / "store"))
    assert store.resolve("churn", "a")["data"]["sha256"] != store.resolve("churn", "b")["data"]["sha256"]


@pytest.mark.parametrize("dry", [True, False])
def test_one_bad_file_of_a_folder_is_named_before_any_row_is_read(modelfleet, tmp_path, dry):
    """A file of the folder that lacks a feature: 65, naming that file, in the dry run as in the real one."""
    frame = Churn()._sample_frame(600, 2)
    _write(frame, tmp_path / "in", [200, 400], "parquet")
    frame.iloc[400:].drop(columns="plan").to_parquet(tmp_path / "in" / "part-002.parquet", index=False)
    args = ["churn", "train", f"--data={tmp_path / 'in'}", f"--store={tmp_path / 'store'}", *["--dry_run"] * dry]
    done = modelfleet(args, tmp_path)
    assert done.returncode == 65, done.stderr
    assert "part-002.parquet" in done.stderr
    assert "'plan'" in done.stderr
    assert not (tmp_path / "store").exists()


def test_train_and_evaluate_read_a_folder_on_object_storage(s3_store, tmp_path, modelfleet):
    """The same through the command line, against an S3-protocol server."""
    import s3fs

    frame = Churn()._sample_frame(900, 6)
    _write(frame, tmp_path / "in", [300, 600], "parquet")
    options = json.loads(os.environ["MODELFLEET_STORAGE_OPTIONS"])
    fs = s3fs.S3FileSystem(**options, skip_instance_cache=True)
    bucket = s3_store.removeprefix("s3://").split("/")[0]
    fs.put(str(tmp_path / "in"), f"{bucket}/in", recursive=True)
    store = str(tmp_path / "store")
    trained = modelfleet(["churn", "train", f"--data=s3://{bucket}/in", f"--store={store}", "--n_estimators=15"])
    assert trained.returncode == 0, trained.stderr
    evaluated = modelfleet(["churn", "evaluate", f"--data=s3://{bucket}/in/part-*.parquet", f"--store={store}"])
    assert evaluated.returncode == 0, evaluated.stderr
    frame.to_parquet(tmp_path / "whole.parquet", index=False)
    local = Churn(store=store).evaluate(str(tmp_path / "whole.parquet"))
    assert np.isclose(json.loads(evaluated.stdout)["metrics"]["auc"], local["metrics"]["auc"], rtol=0, atol=0)
    unlabelled = tmp_path / "unlabelled"
    _write(frame.drop(columns="churned"), unlabelled, [450], "parquet")
    fs.put(str(unlabelled), f"{bucket}/unlabelled", recursive=True)
    output = f"s3://{bucket}/scores/churn.parquet"
    scored = modelfleet(
        ["churn", "score", f"--data=s3://{bucket}/unlabelled", f"--output={output}", f"--store={store}"]
    )
    assert scored.returncode == 0, scored.stderr
    remote = pd.read_parquet(fs.open(f"{bucket}/scores/churn.parquet", "rb"))
    expected = Churn(store=store).score(frame.drop(columns="churned"))["predictions"]
    assert remote["churn_probability"].tolist() == expected["churn_probability"].tolist()


def test_a_header_only_file_in_a_folder_changes_nothing(reference, tmp_path):
    frame, expected, _root = reference
    _write(frame, tmp_path / "in", [600], "csv")
    frame.iloc[:0].to_csv(tmp_path / "in" / "part-999.csv", index=False)
    trained = Churn(store=str(tmp_path / "store")).train(str(tmp_path / "in"), **FAST)
    assert trained["metrics"] == expected["metrics"]
