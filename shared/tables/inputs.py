"""What ``--data`` names: the embedded sample (nothing given), a frame or table in Python, or a Parquet or CSV
file, folder or glob; and the checks of its columns before any row is read.

:func:`read_frame` gives ``train`` and ``evaluate`` the whole input as a frame; :func:`source` gives ``score``
an :class:`shared.tables.stream.Input` to stream. Both check a file's header and declared types as the dry run does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from shared.errors import BadArgument, BadData, NothingToDo, shown

if TYPE_CHECKING:
    import pandas as pd

    from shared.families.model import Model
    from shared.tables.stream import Input

TRAIN_SEED = 0  # the embedded sample that `train` uses without --data
HOLDOUT_SEED = 1  # a fresh draw that `score` and `evaluate` use without --data


def is_frame(data: Any) -> bool:
    """Whether ``data`` is a pandas DataFrame (told without importing pandas)."""
    return type(data).__name__ == "DataFrame" and type(data).__module__.startswith("pandas")


def is_table_object(data: Any) -> bool:
    """A table in memory: a pandas, polars or other DataFrame, or an Arrow table."""
    return type(data).__name__ in ("DataFrame", "Table", "LazyFrame") and hasattr(data, "columns")


def as_pandas(data: Any) -> pd.DataFrame:
    """A pandas frame of an in-memory table: pandas as it is, anything Arrow-backed converted (polars, pyarrow);
    BadData for what does not convert cleanly, or has column names that are not text."""
    if not is_frame(data):
        convert = getattr(data, "to_pandas", None)
        if type(data).__name__ == "LazyFrame" or convert is None:
            msg = f"data: a {type(data).__module__}.{type(data).__name__} cannot be read; pass a pandas DataFrame"
            raise BadData(msg)
        try:
            data = convert()
        except Exception as exc:  # noqa: BLE001 - any library's conversion failure is the caller's input
            msg = f"data: cannot convert the {type(data).__name__} to a pandas DataFrame: {str(exc)[:200]}"
            raise BadData(msg) from None
    odd = [c for c in data.columns if not isinstance(c, str)]
    if odd:
        msg = f"data: column names must be text; got {shown(odd[:5])}; rename them (e.g. df.columns.astype(str))"
        raise BadData(msg)
    return data


class Columns:
    """The column names of a table not yet read, shaped like a frame for ``require_columns``."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns


def describe_source(data: Any) -> str:
    """What the input is, for messages and the manifest (credentials in a URL redacted)."""
    if data is None:
        return f"embedded sample (seed {TRAIN_SEED})"
    from shared.tables.results import redact

    return "in-memory DataFrame" if is_frame(data) else redact(str(data))


def check_source(
    source: Input, needed: list[str], kinds: dict[str, str], kept: Sequence[str], hints: dict[str, str]
) -> None:
    """Every file of an input to stream, before any row is read: its header holds the ``needed`` columns, their
    declared types fit ``kinds``, and the ``kept`` columns have one type in every file (the output has one)."""
    from shared.tables.schema import require_columns

    source.check(needed, kinds, hints=hints)
    require_columns(Columns(source.columns), needed, source.name, hints)
    for name in kept:
        declared = {str(t).removeprefix("large_") for t in source.declared_types(name)}  # large_string is text
        if len(declared) > 1:
            msg = (
                f"{source.name}: its files declare --keep column {name!r} as {', '.join(sorted(declared))}; "
                f"the output has one type per column: write the files with one type"
            )
            raise BadData(msg)


def read_frame(
    model: Model,
    data: Any,
    seed: int,
    columns: list[str] | None = None,
    optional: Sequence[str] = (),
    kinds: dict[str, str] | None = None,
    required: Sequence[str] = (),
    opened: Opened | None = None,
) -> pd.DataFrame:
    """Return the input: the caller's frame (never changed), a file (only ``columns`` of it, and those of
    ``optional`` it has), or the sample. A file's header and declared types (``kinds``) are checked as the
    dry run checks them, before any row is read, unless ``opened`` is the file as :func:`open_checked` gave
    it (checked already); NothingToDo if it has no rows."""
    if data is None:
        return model._sample_frame(model.sample_rows, seed)
    if is_frame(data):
        frame = data
    elif isinstance(data, str) or hasattr(data, "__fspath__"):
        needed = [*(columns or []), *(c for c in required if c not in (columns or []))]
        opened = opened if opened is not None else open_checked(os.fspath(data), needed, kinds)
        frame = _read_opened(model, opened, os.fspath(data), columns, optional)
    else:
        msg = f"--data must be a Parquet or CSV path or URL; got {shown(data)}"
        raise BadArgument(msg)
    if len(frame) == 0:
        raise NothingToDo(f"{describe_source(data)} has no rows; nothing to do, nothing written")
    return frame


class Opened(NamedTuple):
    """A file input opened and checked (:func:`open_checked`): its files, and the header its columns are named
    against (one file's whole header; the columns a folder's or glob's files share)."""

    input: Input
    header: list[str]


def open_checked(
    data: str, needed: list[str], kinds: dict[str, str] | None = None, hints: dict[str, str] | None = None
) -> Opened:
    """A file, a folder or a glob of Parquet or CSV files, opened, after the checks of every file's header and
    declared types (one file: named against its whole header); no row is read."""
    from shared.tables.data import read_columns
    from shared.tables.schema import require_columns
    from shared.tables.stream import Input

    opened = Input.open(data)  # a file, folder or glob (a path that exists is that path, whatever it holds)
    header = read_columns(data) if opened.single else opened.columns
    require_columns(Columns(header), needed, describe_source(data), hints)
    opened.check(needed, kinds or {}, hints=hints)
    return Opened(opened, header)


def _read_opened(
    model: Model, checked: Opened, data: str, columns: list[str] | None, optional: Sequence[str]
) -> pd.DataFrame:
    """Read the files of a checked input as one frame (the files in name order)."""
    from shared.tables.data import read_table

    text = [*model.categorical, *([model.id_column] if model.id_column else [])]
    if model.label and model.classes and isinstance(model.classes[0], str):
        text.append(model.label)  # a label of text classes is text as written ("1" stays "1"), never a number
    opened, header = checked
    wanted = None if columns is None else [*columns, *[c for c in optional if c in header and c not in columns]]
    if opened.single:
        return read_table(data, wanted, text=text)
    import pandas as pd

    frames = [read_table(url, wanted, text=text) for url, _ in opened.urls()]
    filled = [frame for frame in frames if len(frame)] or frames[:1]  # an empty file's columns have no types
    return filled[0] if len(filled) == 1 else pd.concat(filled, ignore_index=True)


def identity(data: Any, frame: pd.DataFrame) -> dict[str, Any]:
    """What identifies the input a version was trained on: a file's bytes (what ``sha256sum`` prints), a folder's
    or glob's files (the sha256 of each file's name and sha256, in order), a frame's content."""
    from shared.tables.data import file_digest, fingerprint

    if data is None or is_frame(data):
        return {"sha256": fingerprint(frame), "of": "table"}
    from shared.tables.stream import Input

    path = os.fspath(data)
    opened = Input.open(path)
    if opened.single:
        return {"sha256": file_digest(path), "of": "file"}
    import hashlib

    digest = hashlib.sha256()
    for url, _ in opened.urls():
        digest.update(f"{url.rsplit('/', 1)[-1]}\t{file_digest(url)}\n".encode())
    return {"sha256": digest.hexdigest(), "of": "files", "files": len(opened.files)}


def source(model: Model, data: Any, needed: list[str]) -> Input:
    """The input to stream: files named by ``data``, a caller's frame, or the embedded sample (no label).

    Of an in-memory frame only the ``needed`` columns are converted (the others are only reported).
    """
    import pyarrow as pa

    from shared.tables.stream import Input

    if data is not None and not is_frame(data):
        return Input.open(data)
    frame = model._sample_frame(model.sample_rows, HOLDOUT_SEED) if data is None else data
    if data is None and model.label:
        frame = frame.drop(columns=[model.label])
    name = "the embedded sample" if data is None else "in-memory DataFrame"
    try:
        table = pa.Table.from_pandas(frame[[c for c in frame.columns if c in needed]], preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        msg = f"{name}: {str(exc).splitlines()[0]}"
        raise BadData(msg) from exc
    return Input.of(table, name, columns=[str(c) for c in frame.columns])
