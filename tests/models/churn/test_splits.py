"""Split kinds: time (the future held out), group (one customer on one side), a held-out file; recorded."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.churn import Churn
from shared.errors import BadData
from shared.storage.store import Store
from shared.training import split as splitting

FAST = {"n_estimators": 15, "num_threads": 1}


@settings(max_examples=40, deadline=None)
@given(
    days=st.lists(st.integers(0, 60), min_size=30, max_size=200),
    fraction=st.floats(0.05, 0.9),
    stop=st.sampled_from([0.0, 0.1, 0.3]),
)
def test_a_time_split_holds_out_the_latest_rows_and_stops_on_the_ones_just_before(days, fraction, stop):
    times = pd.Series(pd.to_datetime("2024-01-01") + pd.to_timedelta(days, unit="D"))
    chosen = splitting.time_split(times, fraction, None, stop, "t")
    parts = [set(chosen.fit), set(chosen.stop), set(chosen.valid)]
    assert sum(map(len, parts)) == len(times)
    assert set().union(*parts) == set(range(len(times)))
    held, fit, stopping = times.iloc[chosen.valid], times.iloc[chosen.fit], times.iloc[chosen.stop]
    assert len(held) >= max(1, round(len(times) * fraction))  # ties at the boundary go to the held-out side
    if len(fit):
        assert fit.max() <= held.min()
        assert fit.max() <= (stopping.min() if len(stopping) else fit.max())
    if len(stopping):
        assert stopping.max() <= held.min()


@settings(max_examples=40, deadline=None)
@given(groups=st.lists(st.integers(0, 30), min_size=20, max_size=200), seed=st.integers(0, 10), stop=st.booleans())
def test_a_group_split_never_puts_one_group_on_two_sides(groups, seed, stop):
    values = pd.Series([f"g{g}" for g in groups])
    chosen = splitting.group_split(values, 0.25, seed, 0.1 if stop else 0.0, "g")
    sides = [set(values.iloc[list(part)]) for part in (chosen.fit, chosen.stop, chosen.valid)]
    assert not (sides[0] & sides[1])
    assert not (sides[0] & sides[2])
    assert not (sides[1] & sides[2])
    assert sum(len(part) for part in (chosen.fit, chosen.stop, chosen.valid)) == len(values)
    again = splitting.group_split(values, 0.25, seed, 0.1 if stop else 0.0, "g")  # seeded: the same rows
    assert all(np.array_equal(a, b) for a, b in zip((chosen.fit, chosen.valid), (again.fit, again.valid), strict=True))


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    root = tmp_path_factory.mktemp("splits")
    frame = Churn()._sample_frame(3000, 5)
    frame["signup"] = pd.to_datetime("2024-01-01") + pd.to_timedelta(np.arange(3000) % 300, unit="D")
    frame["household"] = [f"h{i % 400}" for i in range(3000)]
    frame.to_parquet(root / "train.parquet", index=False)
    frame.iloc[:600].drop(columns=["signup"]).to_parquet(root / "valid.parquet", index=False)
    return root, frame


@pytest.mark.parametrize(
    "settings_",
    [
        {"split": "time", "split_column": "signup"},
        {"split": "time", "split_column": "signup", "valid_from": dt.date(2024, 9, 1)},
        {"split": "group", "split_column": "household"},
        {"split": "group"},
        {"valid_data": "valid.parquet"},
        {"split": "time", "split_column": "signup", "early_stopping_rounds": 5},
    ],
    ids=["time", "time-from", "group", "group-by-id", "file", "time-stopping"],
)
def test_each_split_is_recorded_and_its_held_out_rows_reproduce_the_metrics(table, tmp_path, settings_):
    root, frame = table
    given = {k: (str(root / v) if k == "valid_data" else v) for k, v in settings_.items()}
    model = Churn(store=str(tmp_path / "store"))
    result = model.train(str(root / "train.parquet"), holdout_output=str(tmp_path / "held.parquet"), **FAST, **given)
    recorded = Store(str(tmp_path / "store")).resolve("churn")["split"]
    assert recorded == result["split"] == model.describe()["versions"][-1]["split"]
    assert recorded["method"] == ("file" if "valid_data" in settings_ else settings_["split"])
    held = pd.read_parquet(tmp_path / "held.parquet")
    assert len(held) == recorded["rows"]["valid"]
    assert model.evaluate(str(tmp_path / "held.parquet"))["metrics"] == result["metrics"]
    if settings_.get("split") == "time":
        cutoff = pd.Timestamp(recorded["valid_from"])
        assert (frame["signup"] >= cutoff).sum() == recorded["rows"]["valid"]
    if settings_.get("split") == "group":
        column = settings_.get("split_column", "customer_id")
        fit_ids = set(frame["customer_id"]) - set(held["customer_id"])
        fit_groups = set(frame.loc[frame["customer_id"].isin(fit_ids), column])
        assert not fit_groups & set(frame.loc[frame["customer_id"].isin(held["customer_id"]), column])
    if "valid_data" in settings_:
        assert held["customer_id"].tolist() == frame["customer_id"].iloc[:600].tolist()
        assert recorded["rows"]["fit"] == len(frame)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--valid_from=2024-09-01"], "--valid_from goes with --split=time"),
        (["--split=time"], "--split=time needs --split_column"),
        (["--split=group", "--valid_data=valid.parquet"], "does not go with --split=group"),
        (["--split_column=signup"], "--split_column goes with --split=time or --split=group"),
    ],
)
def test_split_settings_that_do_not_go_together_are_refused(modelfleet, table, tmp_path, args, message):
    root, _ = table
    done = modelfleet(["churn", "train", f"--data={root / 'train.parquet'}", f"--store={tmp_path / 's'}", *args], root)
    assert done.returncode == 64, done.stderr
    assert message in done.stderr
    assert not (tmp_path / "s" / "churn").exists()


@pytest.mark.parametrize(
    ("bad", "message"), [("soon", "must hold dates or times; got 'soon'"), (None, "has 1 missing value")]
)
def test_a_time_column_that_holds_no_times_is_bad_data(bad, message):
    times = pd.Series([bad, *(f"2024-01-{day:02d}" for day in range(1, 29))])
    with pytest.raises(BadData, match=message):
        splitting.time_split(times, 0.2, None, 0.0, "signup")


@pytest.mark.parametrize("how", ["same-file", "file-in-folder", "glob-of-folder"])
def test_held_out_rows_that_are_training_rows_are_refused(modelfleet, table, tmp_path, how):
    """--valid_data that is, or shares a file with, --data would measure the model on rows it was fit on."""
    root, frame = table
    (tmp_path / "in").mkdir()
    frame.iloc[:1500].to_parquet(tmp_path / "in" / "a.parquet", index=False)
    frame.iloc[1500:].to_parquet(tmp_path / "in" / "b.parquet", index=False)
    data, valid = {
        "same-file": (root / "train.parquet", root / "train.parquet"),
        "file-in-folder": (tmp_path / "in", tmp_path / "in" / "b.parquet"),
        "glob-of-folder": (tmp_path / "in", f"{tmp_path}/in/*.parquet"),
    }[how]
    for dry in ([], ["--dry_run"]):
        args = ["churn", "train", f"--data={data}", f"--valid_data={valid}", f"--store={tmp_path / 's'}", *dry]
        done = modelfleet(args, tmp_path)
        assert done.returncode == 64, done.stderr
        assert "--valid_data" in done.stderr or "--data" in done.stderr
    assert not (tmp_path / "s" / "churn").exists()


def test_an_empty_held_out_table_is_bad_data_not_nothing_to_do(modelfleet, table, tmp_path):
    root, frame = table
    frame.iloc[:0].to_parquet(tmp_path / "empty.parquet", index=False)
    args = ["churn", "train", f"--data={root / 'train.parquet'}", f"--valid_data={tmp_path / 'empty.parquet'}"]
    done = modelfleet([*args, f"--store={tmp_path / 's'}"], tmp_path)
    assert done.returncode == 65, done.stderr
    assert "--valid_data:" in done.stderr


@pytest.mark.parametrize("values", [list(range(30)), [float(i) for i in range(30)], [True, False] * 15])
def test_numbers_are_no_times(values):
    """A number would be read as nanoseconds since 1970: refused, never coerced."""
    with pytest.raises(BadData, match="must hold dates or times; it holds"):
        splitting.time_split(pd.Series(values), 0.2, None, 0.0, "tenure_months")


def test_a_missing_split_column_of_a_frame_is_bad_data(tmp_path):
    frame = Churn()._sample_frame(400, 1)
    for settings_ in ({"split": "time", "split_column": "nope"}, {"split": "group", "split_column": "nope"}):
        with pytest.raises(BadData, match=r"lacks the --split=\w+ column 'nope'"):
            Churn(store=str(tmp_path / "s")).train(frame, **FAST, **settings_)


def test_a_time_split_with_more_stopping_rows_than_rows_before_is_refused_not_shrunk(table, tmp_path):
    root, _ = table
    args = {"split": "time", "split_column": "signup", "valid_fraction": 0.5, "stop_fraction": 0.5}
    with pytest.raises(BadData, match="to fit"):
        Churn(store=str(tmp_path / "s")).train(str(root / "train.parquet"), early_stopping_rounds=3, **FAST, **args)
