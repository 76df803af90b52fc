"""`score` writes row groups of a sensible size whatever `--batch_rows` is, and the same predictions in order."""

import json

import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.churn import Churn
from shared.tables import stream


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.integers(1, 60), batch_rows=st.integers(1, 9), group_rows=st.integers(4, 40), seed=st.integers(0, 9))
def test_small_batches_make_few_row_groups_and_the_same_file(
    modelfleet, store, tmp_path_factory, monkeypatch, rows, batch_rows, group_rows, seed
):
    """--batch_rows=B (B small) against one batch for the whole input: equal tables, and each row group holds
    at least ROW_GROUP_ROWS rows (here a generated, small number) but the last."""
    monkeypatch.setattr(stream, "ROW_GROUP_ROWS", group_rows)
    work = tmp_path_factory.mktemp("groups")
    frame = Churn()._sample_frame(rows, seed).drop(columns=["churned"])
    frame.to_parquet(work / "in.parquet", index=False, row_group_size=7)
    args = ["churn", "score", f"--store={store}", "--data=in.parquet"]
    small = modelfleet([*args, "--output=small.parquet", f"--batch_rows={batch_rows}"], cwd=work)
    assert small.returncode == 0, small.stderr
    assert json.loads(small.stdout)["rows"] == rows
    whole = modelfleet([*args, "--output=whole.parquet", "--batch_rows=100000"], cwd=work)
    assert pq.read_table(work / "small.parquet").equals(pq.read_table(work / "whole.parquet"))
    meta = pq.ParquetFile(work / "small.parquet").metadata
    groups = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
    assert all(size >= group_rows for size in groups[:-1]), groups
    assert len(groups) <= -(-rows // group_rows), groups
    assert whole.returncode == 0
