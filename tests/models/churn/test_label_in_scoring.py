"""A scoring input that holds the label (a daily snapshot keeps it, null for recent rows) is scored as if it did
not: the label is ignored like any extra column, listed in ignored_columns, never a feature, never in drift;
``--keep`` carries it for a backtest."""

import json

import numpy as np
import pandas as pd
import pytest

from models.churn import Churn

LABEL = "churned"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    """A trained store and a labelled frame to score."""
    root = tmp_path_factory.mktemp("label")
    Churn(store=str(root / "store")).train(n_estimators=5)
    frame = Churn()._sample_frame(800, 7)
    assert LABEL in frame.columns
    return str(root / "store"), frame


LABELS = {
    "absent": lambda f: f.drop(columns=[LABEL]),
    "present": lambda f: f,
    "null": lambda f: f.assign(**{LABEL: pd.array([pd.NA] * len(f), dtype="Int64")}),
    "recent-null": lambda f: f.assign(
        **{LABEL: pd.array([pd.NA if i >= len(f) // 2 else v for i, v in enumerate(f[LABEL])], dtype="Int64")}
    ),
    "flipped": lambda f: f.assign(**{LABEL: 1 - f[LABEL]}),  # were the label read, predictions would move
}


def _steady(result):
    """The parts of a score result that must not depend on the label column."""
    drift = {k: v for k, v in result.get("drift", {}).items() if k not in ("path",)}
    return {"rows": result["rows"], "drift": json.loads(json.dumps(drift, default=str))}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("label", sorted(LABELS))
@pytest.mark.parametrize("keep", [False, True])
def test_label_in_a_file_is_ignored_reported_and_kept_on_request(snapshot, tmp_path, fmt, label, keep):
    store, frame = snapshot
    model = Churn(store=store)
    baseline_in = tmp_path / f"in-baseline.{fmt}"
    given_in = tmp_path / f"in-given.{fmt}"
    for path, table in ((baseline_in, LABELS["absent"](frame)), (given_in, LABELS[label](frame))):
        table.to_parquet(path, index=False) if fmt == "parquet" else table.to_csv(path, index=False)
    baseline = model.score(str(baseline_in), output=str(tmp_path / "baseline.parquet"))
    kept = [LABEL] if keep and label != "absent" else None
    result = model.score(str(given_in), output=str(tmp_path / "given.parquet"), keep=kept)
    expected = pd.read_parquet(tmp_path / "baseline.parquet")
    got = pd.read_parquet(tmp_path / "given.parquet")
    np.testing.assert_array_equal(got["churn_probability"], expected["churn_probability"])
    assert _steady(result) == _steady(baseline)
    holds = label != "absent"
    assert (LABEL in result["ignored_columns"]) == (holds and not kept)
    assert (LABEL in got.columns) == bool(kept)
    if kept:
        source = LABELS[label](frame)[LABEL]
        if fmt == "parquet":
            assert got[LABEL].astype("Float64").tolist() == source.astype("Float64").tolist()
        else:  # a CSV's kept columns stay text
            assert got[LABEL].isna().tolist() == source.isna().tolist()


@pytest.mark.parametrize("label", sorted(LABELS))
def test_label_in_a_frame_is_ignored_and_reported(snapshot, label):
    store, frame = snapshot
    model = Churn(store=store)
    baseline = model.score(LABELS["absent"](frame))
    result = model.score(LABELS[label](frame))
    pd.testing.assert_frame_equal(result["predictions"], baseline["predictions"])
    assert (LABEL in result["ignored_columns"]) == (label != "absent")
    assert _steady(result) == _steady(baseline)


def test_the_cli_scores_a_labelled_snapshot_and_keeps_the_label(modelfleet, snapshot, tmp_path):
    store, frame = snapshot
    LABELS["recent-null"](frame).to_parquet(tmp_path / "snap.parquet", index=False)
    args = ["churn", "score", "--data", "snap.parquet", "--output", "out.parquet", "--keep", LABEL]
    plan = modelfleet([*args, "--dry_run"], tmp_path, {"MODELFLEET_STORE": store})
    assert plan.returncode == 0, plan.stderr
    done = modelfleet(args, tmp_path, {"MODELFLEET_STORE": store})
    assert done.returncode == 0, done.stderr
    assert LABEL not in json.loads(done.stdout)["ignored_columns"]
    assert list(pd.read_parquet(tmp_path / "out.parquet").columns) == ["customer_id", LABEL, "churn_probability"]
