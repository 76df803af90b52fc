"""Train holds its held-out rows to score's limit on unseen categories, so what it measured evaluate reproduces."""

import json

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.churn import Churn
from shared.storage.store import Store

FAST = {"n_estimators": 15, "num_threads": 1}
ROWS, HELD_OUT = 500, 100  # a time split holds out the latest 20%: the last HELD_OUT days


def table(novel_rows: int, column: str) -> pd.DataFrame:
    """The churn sample, one row a day; ``novel_rows`` of the latest (held-out) rows get a level never seen before."""
    frame = Churn()._sample_frame(ROWS, 4)
    frame["day"] = pd.date_range("2024-01-01", periods=ROWS, freq="D")
    novel = np.random.default_rng(novel_rows).choice(np.arange(ROWS - HELD_OUT, ROWS), novel_rows, replace=False)
    frame.loc[novel, column] = "never-seen-before"
    return frame


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    novel_rows=st.integers(0, HELD_OUT),
    limit=st.sampled_from([0.0, 0.05, 0.1, 0.3, 1.0]),
    column=st.sampled_from(Churn.categorical),
)
def test_train_refuses_what_evaluate_would_and_otherwise_evaluate_reproduces_it(
    modelfleet, tmp_path_factory, novel_rows, limit, column
):
    """Generated shares of held-out rows with a new level: above --max_unseen, train exits 65 naming the column and
    commits nothing; at or below it, evaluate with the same --max_unseen on the held-out rows gives train's metrics."""
    root = tmp_path_factory.mktemp("unseen")
    table(novel_rows, column).to_parquet(root / "rows.parquet")
    common = [f"--store={root / 'store'}", f"--max_unseen={limit}"]
    done = modelfleet(
        ["churn", "train", "--data=rows.parquet", "--split=time", "--split_column=day", "--holdout_output=held.parquet"]
        + common
        + [f"--{name}={value}" for name, value in FAST.items()],
        cwd=root,
    )
    if novel_rows / HELD_OUT > limit:
        assert done.returncode == 65, done.stderr
        assert f"{column}: {novel_rows}" in done.stderr
        assert "held-out rows" in done.stderr
        assert Store(str(root / "store")).versions("churn") == []
        assert not (root / "held.parquet").exists()
        return
    assert done.returncode == 0, done.stderr
    trained = json.loads(done.stdout)
    evaluated = modelfleet(["churn", "evaluate", "--data=held.parquet", *common], cwd=root)
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["metrics"] == trained["metrics"]
