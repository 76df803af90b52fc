"""A dry run refuses what the real run refuses, for every file of a folder or glob, with the same error line.

Generated folders of one to three files, Parquet or CSV, where one file (any of them) drops a column, holds
the label, or declares a feature with an Arrow type drawn from every family (numbers, booleans, text,
dictionary text, dates, times, timestamps with and without a zone, durations, structs, lists, binary).
"""

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch import cli
from models.churn import Churn
from shared.errors import BadData
from shared.tables.schema import CATEGORICAL, NUMERIC, check_declared_type, check_feature_type

ROWS = 40

ACCEPTED = {
    NUMERIC: [pa.int8(), pa.int64(), pa.uint16(), pa.float32(), pa.float64()],
    CATEGORICAL: [pa.string(), pa.large_string(), pa.dictionary(pa.int32(), pa.string())],
}
REFUSED = [
    pa.timestamp("us"),
    pa.timestamp("ns", tz="Europe/Paris"),
    pa.date32(),
    pa.time64("us"),
    pa.duration("s"),
    pa.struct([("a", pa.int64())]),
    pa.list_(pa.int64()),
    pa.binary(),
    pa.large_binary(),
]


def _values(dtype, rng, levels):
    """ROWS values of ``dtype`` (levels for text)."""
    if pa.types.is_dictionary(dtype) or pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return pa.array(rng.choice(levels, ROWS)).cast(dtype)
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype):
        return pa.array(rng.integers(0, 50, ROWS)).cast(dtype)
    if pa.types.is_timestamp(dtype) or pa.types.is_date(dtype) or pa.types.is_time(dtype):
        stamps = pa.array(rng.integers(0, 10**6, ROWS) * 10**9, pa.timestamp("ns"))
        if pa.types.is_time(dtype):
            return pa.array([None if i % 7 == 0 else 1000 * i for i in range(ROWS)], dtype)
        return stamps.cast(dtype) if not pa.types.is_date(dtype) else stamps.cast(pa.date32())
    if pa.types.is_duration(dtype):
        return pa.array(rng.integers(0, 100, ROWS), dtype)
    if pa.types.is_struct(dtype):
        return pa.array([{"a": int(i)} for i in range(ROWS)], dtype)
    if pa.types.is_list(dtype):
        return pa.array([[int(i)] for i in range(ROWS)], dtype)
    return pa.array([b"x%d" % i for i in range(ROWS)], dtype)


@st.composite
def folders(draw):
    """Files of churn's scoring input, one of them changed in one way."""
    files = draw(st.integers(1, 3))
    bad = draw(st.integers(0, files - 1))
    fmt = draw(st.sampled_from(["parquet", "csv"]))
    feature = draw(st.sampled_from([*Churn.numeric, *Churn.categorical]))
    kind = NUMERIC if feature in Churn.numeric else CATEGORICAL
    change = draw(st.sampled_from(["none", "drop", "label", "type"]))
    dtype = draw(st.sampled_from(ACCEPTED[kind] + REFUSED)) if change == "type" else None
    return files, bad, fmt, feature, kind, change, dtype, draw(st.integers(0, 2**16))


def _write(folder, spec):
    files, bad, fmt, feature, kind, change, dtype, seed = spec
    rng = np.random.default_rng(seed)
    sample = Churn()._sample_frame(ROWS * files, seed % 50).drop(columns="churned")
    for position in range(files):
        table = pa.Table.from_pandas(sample.iloc[position * ROWS : (position + 1) * ROWS], preserve_index=False)
        if position == bad and change == "drop":
            table = table.drop_columns([feature])
        elif position == bad and change == "label":
            table = table.append_column("churned", pa.array(rng.integers(0, 2, ROWS)))
        elif position == bad and change == "type":
            levels = list(Churn()._sample_frame(200, 0)[feature].unique()) if kind == CATEGORICAL else ["x"]
            index = table.column_names.index(feature)
            table = table.set_column(index, feature, _values(dtype, rng, levels))
        path = folder / f"part-{position}.{fmt}"
        if fmt == "parquet":
            pq.write_table(table, path)  # with pandas' metadata from before the change, as an edited file has
        else:
            table.replace_schema_metadata(None).to_pandas().to_csv(path, index=False)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=folders(), glob=st.booleans())
def test_a_dry_run_refuses_what_the_real_run_refuses(store, tmp_path_factory, capsys, spec, glob):
    folder = tmp_path_factory.mktemp("in")
    _write(folder, spec)
    data = f"{folder}/*.{spec[2]}" if glob else str(folder)
    outcomes = []
    for dry in (True, False):
        out = tmp_path_factory.mktemp("out") / "scores.parquet"
        code = cli.main(
            ["churn", "score", f"--data={data}", f"--output={out}", f"--store={store}", "--max_unseen=1"]
            + ["--dry_run"] * dry
        )
        _, err = capsys.readouterr()
        lines = [line for line in err.splitlines() if line.startswith("modelfleet: error")]
        outcomes.append((code, lines[-1] if lines else None))
        if not dry and code == 0:
            assert out.exists()
    (dry_code, dry_error), (real_code, real_error) = outcomes
    # a value only reading finds: text in a numeric column, a CSV cell that is no number, values far outside what
    # training saw (the drift limits: --max_out_of_range, --max_missing_rise)
    found_by_reading = (
        "must be numeric",
        "conversion error",
        "outside the training range",
        "is missing (or infinite), against",
    )
    value_level = real_error is not None and any(text in real_error for text in found_by_reading)
    if value_level:
        assert dry_code == 0, "a bad value is read only by the real run"
    else:
        assert (dry_code, dry_error) == (real_code, real_error), spec
    if spec[5] == "label":  # a label column is ignored like any extra column (a daily snapshot keeps it)
        assert (dry_code, real_code) == (0, 0), (spec, real_error)
    if spec[5] == "drop" or (spec[6] in REFUSED and spec[2] == "parquet"):
        assert real_code == 65, (spec, real_error)
        assert f"part-{spec[1]}." in real_error, (spec, real_error)  # names the file


@settings(max_examples=60, deadline=None)
@given(dtype=st.sampled_from([t for types in ACCEPTED.values() for t in types] + REFUSED), seed=st.integers(0, 99))
def test_a_declared_type_refused_is_refused_once_read(dtype, seed):
    """What the declared-type check refuses, reading refuses too: a dry run never refuses what a run accepts."""
    column = pa.table({"c": _values(dtype, np.random.default_rng(seed), ["a", "b"])}).to_pandas()["c"]
    for kind in (NUMERIC, CATEGORICAL):
        try:
            check_declared_type(dtype, "c", kind)
        except BadData:
            with pytest.raises(BadData):
                check_feature_type(column, "c", kind)


def test_the_plan_of_a_folder_names_it(store, tmp_path, capsys):
    _write(tmp_path, (2, 0, "parquet", "plan", CATEGORICAL, "none", None, 1))
    assert cli.main(["churn", "score", f"--data={tmp_path}", f"--store={store}", "--dry_run"]) == 0
    assert json.loads(capsys.readouterr().out)["data"] == str(tmp_path)


@pytest.mark.parametrize("command", ["train", "evaluate"])
@pytest.mark.parametrize("dtype", REFUSED)
def test_train_and_evaluate_dry_runs_refuse_declared_types_as_their_runs_do(store, tmp_path, capsys, command, dtype):
    frame = Churn()._sample_frame(ROWS * 5, 3)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    index = table.column_names.index("monthly_spend")
    table = table.set_column(index, "monthly_spend", _values(dtype, np.random.default_rng(0), ["x"]).take([0] * 200))
    pq.write_table(table.replace_schema_metadata(None), tmp_path / "in.parquet")
    args = ["churn", command, f"--data={tmp_path / 'in.parquet'}", f"--store={store}"]
    args += ["--n_estimators=3"] * (command == "train")
    codes = [cli.main([*args, "--dry_run"]), cli.main(args)]
    err = capsys.readouterr().err
    assert codes == [65, 65], err
    assert err.count("column 'monthly_spend' holds") == 2, err


@pytest.mark.parametrize("command", ["train", "evaluate", "score"])
@pytest.mark.parametrize("change", ["drop", "stale-index-metadata", "broken-metadata"])
def test_a_single_file_gets_the_same_error_line_in_a_dry_run(store, tmp_path, capsys, command, change):
    """Train, evaluate and score of one file: the dry run and the real run print the same error line."""
    frame = Churn()._sample_frame(ROWS * 5, 4)
    if command == "score":
        frame = frame.drop(columns="churned")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if change == "drop":
        table = table.drop_columns(["plan"])
    else:
        meta = json.loads(table.schema.metadata[b"pandas"])
        meta["index_columns"] = ["nosuch"]
        raw = json.dumps(meta).encode() if change == "stale-index-metadata" else b"{not json"
        table = table.replace_schema_metadata({b"pandas": raw})
    path = tmp_path / "in.parquet"
    pq.write_table(table, path)
    args = ["churn", command, f"--data={path}", f"--store={store}"]
    args += [f"--output={tmp_path / 'out.parquet'}"] * (command == "score") + ["--n_estimators=3"] * (
        command == "train"
    )
    lines = []
    for dry in (True, False):
        assert cli.main(args + ["--dry_run"] * dry) == 65
        lines.append(capsys.readouterr().err.strip().splitlines()[-1])
    assert lines[0] == lines[1]


@st.composite
def frames(draw):
    """Churn's scoring rows in memory, broken in one way a frame shows without scoring: a feature, the id or a
    kept column missing, or no rows."""
    frame = Churn()._sample_frame(30, draw(st.integers(0, 50))).drop(columns="churned")
    change = draw(st.sampled_from(["feature", "id", "kept", "empty"]))
    if change == "feature":
        frame = frame.drop(columns=[draw(st.sampled_from([*Churn.numeric, *Churn.categorical]))])
    elif change == "id":
        frame = frame.drop(columns=["customer_id"])
    elif change == "empty":
        frame = frame.iloc[:0]
    return frame, ["nosuch"] if change == "kept" else []


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=frames())
def test_a_python_dry_run_of_a_frame_refuses_what_scoring_it_refuses(store, case):
    """A frame's columns and rows are known without scoring it: the dry run gives the run's error."""
    frame, keep = case
    outcomes = []
    for dry in (True, False):
        try:
            Churn(store=str(store), dry_run=dry).score(data=frame, keep=keep)
        except Exception as exc:  # noqa: BLE001 - the error itself is what is compared
            outcomes.append((type(exc), str(exc)))
        else:
            outcomes.append(None)
    assert outcomes[0] is not None, "the run refuses this frame, so the dry run must"
    assert outcomes[0] == outcomes[1]


def test_a_retry_of_a_committed_run_reads_neither_of_its_inputs(tmp_path, capsys):
    """A retry of a committed --run_id reports its version, even once --data and --valid_data are gone."""
    data, held = tmp_path / "fit.parquet", tmp_path / "held.parquet"
    Churn()._sample_frame(600, 1).to_parquet(data)
    Churn()._sample_frame(300, 2).to_parquet(held)
    args = ["churn", "train", f"--data={data}", f"--valid_data={held}", f"--store={tmp_path / 'store'}"]
    args += ["--run_id=v1", "--n_estimators=5", "--compile=off"]
    assert cli.main(args) == 0
    data.unlink()
    held.unlink()
    for dry in ([], ["--dry_run"]):
        capsys.readouterr()
        assert cli.main(args + dry) == 0, capsys.readouterr().err
        assert json.loads(capsys.readouterr().out)["already_committed"] is True
