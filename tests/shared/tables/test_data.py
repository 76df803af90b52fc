"""Tables are read and written as Parquet or CSV, atomically, with clear errors."""

import pandas as pd
import pytest

from shared.errors import BadData, MissingInput
from shared.tables.data import file_digest, fingerprint, read_table, write_table


@pytest.fixture
def frame():
    """A small table with numbers, text and a missing value."""
    return pd.DataFrame({"id": ["a", "b", "c"], "x": [1.5, None, 3.0], "k": [1, 2, 3]})


@pytest.mark.parametrize("name", ["t.parquet", "t.csv", "sub/dir/t.parquet", "memory://bucket/t.parquet"])
def test_round_trip(frame, tmp_path, name):
    """What is written reads back equal, locally or through an fsspec URL."""
    path = name if "://" in name else str(tmp_path / name)
    assert path == write_table(frame, path)
    pd.testing.assert_frame_equal(frame, read_table(path))


def test_write_leaves_no_temporary_files(frame, tmp_path):
    """Only the destination exists after a write."""
    write_table(frame, tmp_path / "t.parquet")
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]


def test_failed_write_leaves_nothing(tmp_path):
    """A table that cannot be serialised leaves neither the destination nor a temporary file."""
    bad = pd.DataFrame({"x": [object()]})
    with pytest.raises(Exception):  # noqa: B017, PT011 - pyarrow's own error type is not our contract
        write_table(bad, tmp_path / "t.parquet")
    assert list(tmp_path.iterdir()) == []


def test_missing_input_names_the_path(tmp_path):
    """A path that does not exist raises MissingInput naming it."""
    with pytest.raises(MissingInput, match=r"nope\.parquet"):
        read_table(tmp_path / "nope.parquet")


@pytest.mark.parametrize(("name", "content"), [("t.parquet", b"not parquet"), ("t.csv", b"")])
def test_unreadable_input_is_bad_data(tmp_path, name, content):
    """A file that cannot be parsed raises BadData naming it and its format."""
    (tmp_path / name).write_bytes(content)
    with pytest.raises(BadData, match=name):
        read_table(tmp_path / name)


def test_unknown_suffix_is_refused_before_reading(tmp_path):
    """Only .parquet, .pq and .csv are tables."""
    with pytest.raises(BadData, match="expected a name ending in"):
        read_table(tmp_path / "t.xlsx")


def test_fingerprint_depends_on_content_not_index(frame):
    """The data fingerprint changes with values, not with the index."""
    assert fingerprint(frame) == fingerprint(frame.set_axis([7, 8, 9]))
    assert fingerprint(frame) != fingerprint(frame.assign(k=[1, 2, 4]))


def test_a_network_timeout_while_reading_is_transient(monkeypatch, frame):
    """A timeout from the filesystem is exit 75 (retry later), not bad data."""
    import fsspec

    from shared.errors import StoreUnavailable

    write_table(frame, "memory://flaky/t.csv")
    fs = fsspec.filesystem("memory")

    def timeout(*args, **kwargs):
        raise TimeoutError("read timed out")

    monkeypatch.setattr(type(fs), "open", timeout)
    with pytest.raises(StoreUnavailable, match="retry later"):
        read_table("memory://flaky/t.csv")


def test_file_digest_is_sha256sum_of_the_bytes(frame, tmp_path):
    """A trained version records its input file's sha256, the same number `sha256sum` prints."""
    import hashlib

    path = write_table(frame, tmp_path / "t.parquet")
    assert file_digest(path) == hashlib.sha256((tmp_path / "t.parquet").read_bytes()).hexdigest()


@pytest.mark.parametrize("name", ["t.parquet", "t.csv"])
def test_read_only_the_columns_asked_for_that_exist(frame, tmp_path, name):
    """Training reads only its columns; one the table lacks is left for the caller to name."""
    path = write_table(frame, tmp_path / name)
    assert list(read_table(path, columns=["k", "x", "missing"]).columns) == ["x", "k"]
