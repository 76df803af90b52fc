"""Only numbers, booleans and text are features; one reader and one duplicate rule; no parameter takes infinity.

Generated cases through the library and the real entry point, on frames, files and folders.
"""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch import cli
from models.churn import Churn
from shared.contract import labels
from shared.errors import BadArgument, BadData
from shared.plumbing.binding import command_specs

FEATURES = [*Churn.numeric, *Churn.categorical]
ROWS = 120


@st.composite
def not_features(draw):
    """A column of values that are neither numbers, booleans nor text."""
    start = pd.Timestamp(draw(st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 1, 1))))
    steps = pd.to_timedelta(np.arange(ROWS), draw(st.sampled_from(["s", "h", "D"])))
    kinds = ["datetime", "tz-datetime", "duration", "timestamps", "dicts", "lists", "complex"]
    kind = draw(st.sampled_from([*kinds, "arrow-duration", "arrow-timestamp", "categorical-of-dates"]))
    if kind == "datetime":
        return kind, pd.Series(start + steps)
    if kind == "tz-datetime":
        zone = draw(st.sampled_from(["UTC", "Europe/Paris", "Asia/Tokyo"]))  # via UTC: no nonexistent local times
        return kind, pd.Series((start + steps).tz_localize("UTC").tz_convert(zone))
    if kind == "duration":
        return kind, pd.Series(steps)
    if kind == "arrow-duration":  # as pd.read_parquet(..., dtype_backend="pyarrow") gives them
        return kind, pd.Series(steps).astype("duration[ns][pyarrow]")
    if kind == "arrow-timestamp":
        return kind, pd.Series(start + steps).astype("timestamp[us][pyarrow]")
    if kind == "categorical-of-dates":
        return kind, pd.Series(pd.Categorical(start + steps))
    if kind == "timestamps":  # Python objects, as a frame built from records holds them
        return kind, pd.Series(list(start + steps), dtype=object)
    if kind == "dicts":
        return kind, pd.Series([{"v": i} for i in range(ROWS)], dtype=object)
    if kind == "lists":
        return kind, pd.Series([[i, i] for i in range(ROWS)], dtype=object)
    return kind, pd.Series(np.arange(ROWS) * 1j)


def frame_with(column, values, labelled):
    frame = Churn()._sample_frame(ROWS, 3)
    frame[column] = values.set_axis(frame.index)  # its own dtype: Arrow-backed, categorical
    return frame if labelled else frame.drop(columns="churned")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(column=st.sampled_from(FEATURES), bad=not_features(), command=st.sampled_from(["train", "score", "evaluate"]))
def test_a_column_that_is_no_feature_type_is_refused_in_library_use(store, column, bad, command):
    """Dates, durations, nested and complex values are refused by name (65), never coerced to numbers."""
    _, values = bad
    frame = frame_with(column, values, labelled=command != "score")
    model = Churn(store=store)
    call = {"train": model.train, "score": model.score, "evaluate": model.evaluate}[command]
    with pytest.raises(BadData, match=f"column '{column}' holds"):
        call(frame)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    column=st.sampled_from(FEATURES),
    kind=st.sampled_from(["datetime", "tz-datetime", "duration"]),
    layout=st.sampled_from(["file", "folder-second-file"]),
    command=st.sampled_from(["train", "score", "evaluate"]),
)
def test_a_parquet_column_of_dates_is_refused_in_every_file(
    store, tmp_path_factory, capsys, column, kind, layout, command
):
    """Through the command line, for a file and for a folder whose second file alone has the bad type."""
    if command != "score":
        layout = "file"  # train and evaluate read one file (folders: issue 13)
    folder = tmp_path_factory.mktemp("in")
    when = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(ROWS), "D"))
    values = {"datetime": when, "tz-datetime": when.dt.tz_localize("UTC"), "duration": when - when.iloc[0]}[kind]
    bad = frame_with(column, values, labelled=command != "score")
    good = Churn()._sample_frame(ROWS, 4).drop(columns=[] if command != "score" else ["churned"])
    if layout == "file":
        bad.to_parquet(folder / "a.parquet", index=False)
        data = folder / "a.parquet"
    else:
        good.to_parquet(folder / "a.parquet", index=False)
        bad.to_parquet(folder / "b.parquet", index=False)
        data = folder
    code = cli.main(
        [
            "churn",
            command,
            f"--data={data}",
            f"--store={store}",
            *(["--output=" + str(folder.parent / f"{folder.name}.parquet")] if command == "score" else []),
        ]
    )
    err = capsys.readouterr().err
    assert code == 65, err
    assert f"column '{column}' holds" in err


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(column=st.sampled_from([*FEATURES, "churned"]), command=st.sampled_from(["train", "evaluate", "score"]))
def test_duplicate_csv_column_names_are_refused_by_every_command(store, tmp_path_factory, capsys, column, command):
    """A CSV header naming a column twice is refused (65), never renamed to 'plan.1' with the first one winning."""
    if command == "score" and column == "churned":
        column = FEATURES[0]
    frame = Churn()._sample_frame(ROWS, 5)
    if command == "score":
        frame = frame.drop(columns="churned")
    path = tmp_path_factory.mktemp("dup") / "dup.csv"
    header = ",".join([*frame.columns, column])
    rows = "\n".join(
        ",".join(map(str, [*row, row[list(frame.columns).index(column)]])) for row in frame.itertuples(index=False)
    )
    path.write_text(f"{header}\n{rows}\n")
    extra = ["--output=" + str(path.with_suffix(".out.parquet"))] if command == "score" else []
    code = cli.main(["churn", command, f"--data={path}", f"--store={store}", *extra])
    err = capsys.readouterr().err
    assert code == 65, err
    assert f"duplicate column name(s) '{column}'" in err


FLOATS = [
    (command, spec.name) for command in Churn.commands for spec in command_specs(Churn, command) if spec.base is float
]


@pytest.mark.parametrize(("command", "name"), FLOATS)
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", "Infinity"])
def test_no_float_parameter_takes_a_non_finite_value(capsys, command, name, value):
    """Infinity or NaN would make a model meaningless: every float flag refuses it (64), before any work."""
    code = cli.main(["churn", command, f"--{name}={value}"])
    err = capsys.readouterr().err
    assert code == 64, err
    assert f"--{name}" in err


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("command", ["score", "train"])
def test_a_huge_junk_cell_gives_a_short_error_line(store, tmp_path, capsys, fmt, command):
    """A 100 kB cell of junk in a numeric column: exit 65 with one short line, not the cell echoed in full."""
    frame = Churn()._sample_frame(ROWS, 6).astype({"tenure_months": str})
    frame.loc[frame.index[3], "tenure_months"] = "x" * 100_000
    frame = frame.drop(columns="churned") if command == "score" else frame
    path = tmp_path / f"junk.{fmt}"
    getattr(frame, f"to_{fmt}")(path, index=False)
    extra = [f"--output={tmp_path / 'out.parquet'}"] if command == "score" else []
    code = cli.main(["churn", command, f"--data={path}", f"--store={store}", *extra])
    err = capsys.readouterr().err
    assert code == 65, err[:300]
    errors = [line for line in err.splitlines() if line.startswith("modelfleet: error:")]
    assert len(errors) == 1, err[:300]
    assert len(errors[0]) < 300, errors[0][:300]


def test_an_arrow_table_is_read_like_the_pandas_frame_it_converts_to(store):
    """Library use with an Arrow table (what polars and others convert to) scores exactly like the frame."""
    import pyarrow as pa

    model = Churn(store=store)
    frame = Churn()._sample_frame(ROWS, 8).drop(columns="churned")
    expected = model.score(frame)["predictions"]
    got = model.score(pa.Table.from_pandas(frame, preserve_index=False))["predictions"]
    assert got["churn_probability"].tolist() == expected["churn_probability"].tolist()


@pytest.mark.parametrize(
    ("data", "error", "text"),
    [
        (lambda f: f.set_axis(range(f.shape[1]), axis=1), BadData, "column names must be text"),
        (lambda f: type("LazyFrame", (), {"columns": list(f.columns)})(), BadData, "cannot be read"),
        (lambda f: f.to_dict("records"), BadArgument, "--data"),
        (lambda f: 42, BadArgument, "--data"),
    ],
    ids=["integer-names", "lazy-frame", "records", "number"],
)
def test_library_inputs_that_are_no_table_get_the_models_own_error(store, data, error, text):
    """Anything else is refused with the model's error, never a raw TypeError or AttributeError."""
    frame = Churn()._sample_frame(ROWS, 8).drop(columns="churned")
    with pytest.raises(error, match=text):
        Churn(store=store).score(data(frame))


def test_sample_rows_are_bounded(capsys):
    """An unbounded --rows would exhaust memory: it is refused (64) before any work."""
    assert cli.main(["churn", "sample", "--rows=10000000000"]) == 64
    assert "--rows" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["store", "config"])
@pytest.mark.parametrize("value", [5, 1.5, ["a"], {"a": 1}, b"bytes"])
def test_the_constructor_refuses_what_is_no_path(name, value):
    """`Churn(store=5)` is the model's own error (64), not a TypeError deep inside."""
    with pytest.raises(BadArgument, match=f"{name} must be a folder, file or URL"):
        Churn(**{name: value})


@settings(max_examples=30, deadline=None)
@given(
    junk=st.text(min_size=1, max_size=20).filter(lambda t: pd.to_numeric(pd.Series([t]), errors="coerce").isna()[0]),
    row=st.integers(0, ROWS - 1),
)
def test_a_junk_label_is_named_in_the_message(junk, row):
    """The message shows a value that is no number, wherever it sits, not merely the first value."""
    frame = Churn()._sample_frame(ROWS, 5)
    frame["churned"] = frame["churned"].astype(object)
    frame.loc[row, "churned"] = junk
    with pytest.raises(BadData, match="must be numeric; 1 value") as caught:
        labels.target(Churn(), frame, "training data")
    assert repr(junk)[:40] in str(caught.value) or "characters" in str(caught.value)
