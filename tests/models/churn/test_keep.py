"""``score --keep``: input columns arrive in every prediction row unchanged, streamed and sharded."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.churn import Churn
from shared.errors import BadData

EXTRA = ["day", "part", "note", "region", "tenure_months"]  # two of them are features


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A trained churn store, and an unlabelled input with extra columns of several types (and missing values)."""
    root = tmp_path_factory.mktemp("keep")
    Churn(store=str(root / "store")).train(n_estimators=10)
    frame = Churn()._sample_frame(1500, 4).drop(columns="churned")
    frame["day"] = [dt.date(2024, 10, 1 + i % 28) for i in range(len(frame))]
    frame["part"] = np.arange(len(frame)) % 5
    frame["note"] = [None if i % 9 == 0 else f"n{i % 4}" for i in range(len(frame))]
    return root, frame


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    keep=st.lists(st.sampled_from(EXTRA), min_size=1, max_size=4, unique=True),
    fmt=st.sampled_from(["parquet", "csv"]),
    shards=st.integers(1, 3),
    batch_rows=st.sampled_from([97, 100_000]),
)
def test_kept_columns_arrive_unchanged_in_every_shard(trained, tmp_path_factory, keep, fmt, shards, batch_rows):
    root, frame = trained
    work = tmp_path_factory.mktemp("run")
    (work / "in").mkdir()
    for i, start in enumerate(range(0, len(frame), 600)):
        part = frame.iloc[start : start + 600]
        path = work / "in" / f"{i}.{fmt}"
        part.to_parquet(path, index=False, row_group_size=250) if fmt == "parquet" else part.to_csv(path, index=False)
    model = Churn(store=str(root / "store"))
    plain = model.score(str(work / "in"), output=str(work / "plain.parquet"))
    for k in range(shards):
        model.score(
            str(work / "in"), output=str(work / "parts"), shard=f"{k}/{shards}", keep=keep, batch_rows=batch_rows
        )
    union = pd.concat(
        [pd.read_parquet(work / "parts" / f"part-{k:05d}-of-{shards:05d}.parquet") for k in range(shards)],
        ignore_index=True,
    )
    expected = pd.read_parquet(work / "plain.parquet")
    assert list(union.columns) == ["customer_id", *keep, "churn_probability"]
    assert union["churn_probability"].tolist() == expected["churn_probability"].tolist()
    assert union["customer_id"].tolist() == expected["customer_id"].tolist()
    if fmt == "parquet":
        source = pd.concat([pd.read_parquet(p) for p in sorted((work / "in").iterdir())], ignore_index=True)
    else:  # a CSV's kept columns are the text as written (a kept numeric feature: the number the model read)
        source = pd.concat([pd.read_csv(p, dtype=str) for p in sorted((work / "in").iterdir())], ignore_index=True)
        source["tenure_months"] = source["tenure_months"].astype(float)
    for name in keep:
        assert union[name].tolist() == source[name].astype(union[name].dtype).tolist() or (
            union[name].isna().equals(source[name].isna())
            and union[name].dropna().tolist() == source[name].dropna().astype(union[name].dtype).tolist()
        ), name
    assert plain["rows"] == len(union)


def test_a_frame_keeps_its_columns_with_its_index(trained):
    root, frame = trained
    got = Churn(store=str(root / "store")).score(frame.set_index("customer_id"), keep=["day", "part"])["predictions"]
    assert got.index.equals(frame.set_index("customer_id").index)
    assert got["day"].tolist() == frame["day"].tolist()
    assert got["part"].tolist() == frame["part"].tolist()


@pytest.mark.parametrize(
    ("keep", "code", "message"),
    [
        ("day,day", 64, "--keep names 'day' twice"),
        ("customer_id", 64, "'customer_id' is the id column"),
        ("churn_probability", 64, "'churn_probability' is the prediction"),
        ("nosuch", 65, "lacks required column(s) 'nosuch'"),
    ],
)
@pytest.mark.parametrize("dry", [False, True])
def test_a_bad_keep_is_refused_before_any_work(modelfleet, trained, tmp_path, keep, code, message, dry):
    root, frame = trained
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    args = ["churn", "score", f"--data={tmp_path / 'in.parquet'}", f"--store={root / 'store'}"]
    done = modelfleet([*args, f"--keep={keep}", f"--output={tmp_path / 'out.parquet'}", *["--dry_run"] * dry])
    assert done.returncode == code, done.stderr
    assert message in done.stderr
    assert not (tmp_path / "out.parquet").exists()


def test_files_declaring_a_kept_column_with_two_types_are_refused(modelfleet, trained, tmp_path):
    root, frame = trained
    (tmp_path / "in").mkdir()
    frame.iloc[:700].to_parquet(tmp_path / "in" / "a.parquet", index=False)
    frame.iloc[700:].assign(part=lambda f: f["part"].astype(str)).to_parquet(tmp_path / "in" / "b.parquet", index=False)
    args = ["churn", "score", f"--data={tmp_path / 'in'}", f"--store={root / 'store'}", "--keep=part"]
    done = modelfleet([*args, f"--output={tmp_path / 'out.parquet'}"])
    assert done.returncode == 65, done.stderr
    assert "declare --keep column 'part' as int64, string;" in done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "out.parquet").exists()


SET_ID = 'set id_column = "<your table\'s id column>" on the model class Churn'


@pytest.mark.parametrize("dry", [False, True])
@pytest.mark.parametrize("folder", [False, True])
def test_an_input_without_the_id_column_is_refused(modelfleet, trained, tmp_path, dry, folder):
    """Predictions that cannot be joined back to their rows are no use: 65, naming the id column and the class
    attribute that names it (a file, a folder of files, a dry run, a frame)."""
    root, frame = trained
    data = tmp_path / "in" if folder else tmp_path / "in.parquet"
    if folder:
        data.mkdir()
        frame.iloc[:700].to_parquet(data / "a.parquet", index=False)  # the second file lacks it
        frame.iloc[700:].drop(columns="customer_id").to_parquet(data / "b.parquet", index=False)
    else:
        frame.drop(columns="customer_id").to_parquet(data, index=False)
    args = ["churn", "score", f"--data={data}", f"--store={root / 'store'}"]
    done = modelfleet([*args, f"--output={tmp_path / 'out.parquet'}", *["--dry_run"] * dry])
    assert done.returncode == 65, done.stderr
    assert "lacks required column(s) 'customer_id'" in done.stderr
    assert SET_ID in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "out.parquet").exists()
    with pytest.raises(BadData, match="has no id column 'customer_id'") as caught:
        Churn(store=str(root / "store")).score(frame.drop(columns="customer_id"))
    assert SET_ID in str(caught.value)


def test_a_model_whose_rows_have_no_id_scores_without_one(trained, tmp_path):
    root, frame = trained
    anonymous = type("Churn", (Churn,), {"id_column": None, "name": "churn", "__doc__": Churn.__doc__})
    model = anonymous(store=str(root / "store"))
    unnamed = frame.drop(columns="customer_id")
    unnamed.to_parquet(tmp_path / "in.parquet", index=False)
    model.score(str(tmp_path / "in.parquet"), output=str(tmp_path / "out.parquet"), keep=["day"])
    written = pd.read_parquet(tmp_path / "out.parquet")
    assert list(written.columns) == ["day", "churn_probability"]
    expected = Churn(store=str(root / "store")).score(frame)["predictions"]["churn_probability"]
    assert written["churn_probability"].tolist() == expected.tolist()
    assert list(model.score(unnamed)["predictions"].columns) == ["churn_probability"]


def test_a_frame_keeps_its_ids_and_kept_columns_with_their_types(trained):
    """Nullable integers (ids beyond 2**53), categories and booleans come back as the caller gave them."""
    root, frame = trained
    rows = frame.iloc[:50].copy()
    rows["customer_id"] = pd.array([2**53 + 1 + i for i in range(49)] + [None], dtype="Int64")
    rows["flag"] = pd.array([True, None] * 25, dtype="boolean")
    rows["tier"] = pd.Categorical(["a", "b"] * 25)
    got = Churn(store=str(root / "store")).score(rows, keep=["flag", "tier"])["predictions"]
    for name in ("customer_id", "flag", "tier"):
        assert got[name].dtype == rows[name].dtype, name
        assert got[name].equals(rows[name]), name
