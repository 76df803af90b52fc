"""What ``--data`` can be in Python: a pandas frame as it is, or an in-memory table that converts to one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.errors import BadData, shown

if TYPE_CHECKING:
    import pandas as pd


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
