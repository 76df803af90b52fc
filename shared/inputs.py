"""What ``--data`` names: the embedded sample (nothing given), a frame or table in Python, or a Parquet or CSV
file, folder or glob; and the checks of its columns before any row is read.

:func:`read_frame` gives ``train`` and ``evaluate`` the whole input as a frame; :func:`source` gives ``score``
an :class:`shared.stream.Input` to stream. Both check a file's header and declared types as the dry run does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shared.errors import BadArgument, BadData, NothingToDo, shown

if TYPE_CHECKING:
    import pandas as pd

    from shared.model import Model
    from shared.stream import Input

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
    from shared.results import redact

    return "in-memory DataFrame" if is_frame(data) else redact(str(data))


def is_table_name(path: str) -> bool:
    """Whether ``path`` names one table file (``.parquet``, ``.csv``) rather than a folder."""
    from shared.data import FORMATS

    return os.path.splitext(path.split("?")[0])[1].lower() in FORMATS


def read_frame(
    model: Model,
    data: Any,
    seed: int,
    columns: list[str] | None = None,
    optional: Sequence[str] = (),
    kinds: dict[str, str] | None = None,
    required: Sequence[str] = (),
) -> pd.DataFrame:
    """Return the input: the caller's frame (never changed), a file (only ``columns`` of it, and those of
    ``optional`` it has), or the sample. A file's header and declared types (``kinds``) are checked as the
    dry run checks them, before any row is read; NothingToDo if it has no rows."""
    if data is None:
        return model._sample_frame(model.sample_rows, seed)
    if is_frame(data):
        frame = data
    elif isinstance(data, str) or hasattr(data, "__fspath__"):
        from shared.data import read_columns, read_table
        from shared.schema import require_columns
        from shared.stream import Input

        header = read_columns(data)  # named against the whole header (duplicates, near misses) before reading
        needed = [*(columns or []), *(c for c in required if c not in (columns or []))]
        require_columns(Columns(header), needed, describe_source(data))
        Input.open(data).check(needed, kinds or {})
        if columns is not None:
            columns = [*columns, *[c for c in optional if c in header and c not in columns]]
        frame = read_table(data, columns, text=[*model.categorical, model.id_column])
    else:
        msg = f"--data must be a Parquet or CSV path or URL; got {shown(data)}"
        raise BadArgument(msg)
    if len(frame) == 0:
        raise NothingToDo(f"{describe_source(data)} has no rows; nothing to do, nothing written")
    return frame


def source(model: Model, data: Any, needed: list[str]) -> Input:
    """The input to stream: files named by ``data``, a caller's frame, or the embedded sample (no label).

    Of an in-memory frame only the ``needed`` columns are converted (the others are only reported).
    """
    import pyarrow as pa

    from shared.stream import Input

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
