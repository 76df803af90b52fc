"""Streaming inputs: files, folders and globs cut into units; batches of only the columns asked for; atomic writes."""

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.errors import BadData, MissingInput
from shared.tables.stream import Input, table_writer


@pytest.fixture
def folder(tmp_path):
    """Two Parquet files in a partitioned layout, plus files a reader must skip."""
    root = tmp_path / "in"
    (root / "day=2").mkdir(parents=True)
    (root / "day=1").mkdir()
    frame = pd.DataFrame({"id": range(10), "x": [float(i) for i in range(10)], "extra": list("abcdefghij")})
    frame.iloc[:6].to_parquet(root / "day=1" / "part-0.parquet", index=False, row_group_size=4)
    frame.iloc[6:].to_parquet(root / "day=2" / "part-0.parquet", index=False)
    (root / "_SUCCESS").write_text("")
    (root / ".part-1.parquet.abc.tmp").write_text("half-written")
    (root / "day=1" / "_metadata.parquet").write_text("not a table")
    return root


def test_a_folder_is_every_table_below_it_in_path_order(folder):
    source = Input.open(str(folder))
    assert [(u.file, u.group, u.rows) for u in source.units] == [(0, 0, 4), (0, 1, 2), (1, 0, 4)]
    assert source.total_rows == 10
    rows = [b.to_pydict() for b in source.batches(source.units, ["x", "id"], batch_rows=3)]
    assert [i for r in rows for i in r["id"]] == list(range(10))
    assert max(len(r["id"]) for r in rows) <= 3, "a batch holds at most batch_rows rows"
    assert all(list(r) == ["x", "id"] for r in rows), "only the columns asked for are read"


def test_a_glob_names_the_files(folder):
    source = Input.open(str(folder / "day=2" / "*.parquet"))
    assert source.total_rows == 4


@pytest.mark.parametrize(
    ("files", "message"),
    [(None, "input not found"), ([], "holds no files"), (["notes.txt", "_SUCCESS"], "no Parquet or CSV files")],
)
def test_inputs_that_name_no_table_are_missing_input(tmp_path, files, message):
    target = tmp_path / "in"
    if files is not None:
        target.mkdir()
        for name in files:
            (target / name).write_text("x")
    with pytest.raises(MissingInput, match=message):
        Input.open(str(target))


def test_mixed_formats_in_one_folder_are_refused(folder):
    pd.DataFrame({"id": [1]}).to_csv(folder / "day=2" / "more.csv", index=False)
    with pytest.raises(BadData, match="mixes Parquet and CSV"):
        Input.open(str(folder))


def test_a_file_lacking_a_column_is_named(folder):
    pd.DataFrame({"id": [1]}).to_parquet(folder / "day=3.parquet", index=False)
    source = Input.open(str(folder))
    with pytest.raises(BadData, match=r"file day=3.parquet\) lacks required column\(s\) 'x'"):
        list(source.batches(source.units, ["id", "x"], batch_rows=100))


def test_csv_streams_with_fixed_types_per_block(tmp_path):
    """A CSV whose first rows look like integers still reads later decimals when the type is fixed."""
    path = tmp_path / "t.csv"
    path.write_text("id,x\n" + "".join(f"{i},{i}\n" for i in range(50_000)) + "50000,0.5\n")
    source = Input.open(str(path))
    assert source.total_rows is None
    assert len(source.units) == 1
    batches = list(source.batches(source.units, ["id", "x"], batch_rows=1000, types={"x": pa.float64()}))
    assert sum(b.num_rows for b in batches) == 50_001
    assert batches[-1].column("x")[-1].as_py() == 0.5


def test_writer_commits_only_on_success(tmp_path):
    target = tmp_path / "out" / "p.parquet"
    table = pa.table({"a": [1, 2]})

    def failing():
        with table_writer(str(target), lambda: table.schema) as write:
            write(table)
            raise RuntimeError("a batch failed")

    with pytest.raises(RuntimeError):
        failing()
    assert list((tmp_path / "out").iterdir()) == [], "a failed write left a file"
    with table_writer(str(target), lambda: table.schema) as write:
        write(table)
        write(pa.table({"a": [3.0]}))  # cast to the first batch's types
    assert pd.read_parquet(target)["a"].tolist() == [1, 2, 3]


def test_writer_with_no_rows_writes_the_columns(tmp_path):
    target = tmp_path / "empty.parquet"
    with table_writer(str(target), lambda: pa.schema([("id", pa.string()), ("p", pa.float64())])):
        pass
    empty = pd.read_parquet(target)
    assert list(empty.columns) == ["id", "p"]
    assert len(empty) == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sizes=st.lists(st.integers(0, 40), min_size=1, max_size=60),
    group_rows=st.integers(1, 50),
    group_bytes=st.sampled_from([1, 300, 64 << 20]),
    fmt=st.sampled_from(["parquet", "csv"]),
)
@example(sizes=[1] * 30, group_rows=10, group_bytes=64 << 20, fmt="parquet")  # --batch_rows=1
def test_the_writer_coalesces_batches_into_bounded_row_groups(
    tmp_path_factory, monkeypatch, sizes, group_rows, group_bytes, fmt
):
    """However small the tables written, a row group holds them until ROW_GROUP_ROWS rows or ROW_GROUP_BYTES
    bytes, and never more than one table beyond that (memory stays bounded); the rows are those written, in order."""
    import pyarrow.parquet as pq

    from shared.tables import stream

    monkeypatch.setattr(stream, "ROW_GROUP_ROWS", group_rows)
    monkeypatch.setattr(stream, "ROW_GROUP_BYTES", group_bytes)
    start = [sum(sizes[:i]) for i in range(len(sizes))]
    schema = pa.schema([("id", pa.string()), ("p", pa.float64())])
    tables = [
        pa.table({"id": [f"c{j}" for j in range(s, s + n)], "p": [j / 7 for j in range(s, s + n)]}, schema=schema)
        for s, n in zip(start, sizes, strict=True)
    ]
    target = tmp_path_factory.mktemp("out") / f"p.{fmt}"
    with table_writer(str(target), lambda: schema) as write:
        for table in tables:
            write(table)
    whole = pa.concat_tables(tables)
    if fmt == "csv":
        import pyarrow.csv as pcsv

        assert pcsv.read_csv(target, convert_options=pcsv.ConvertOptions(column_types=schema)).equals(whole)
        return
    assert pq.read_table(target).equals(whole)
    meta = pq.ParquetFile(target).metadata
    groups = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
    assert sum(groups) == sum(sizes)
    assert all(rows < group_rows + max(sizes) for rows in groups), "held past its bound"
    if group_bytes == 64 << 20:  # held until the row count is reached: few row groups however small the tables
        assert all(rows >= group_rows for rows in groups[:-1])
        assert len(groups) <= max(1, -(-sum(sizes) // group_rows))
