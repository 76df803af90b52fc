"""The dry run (``--dry_run``): check what a command would read as the real run checks it, and say what it
would do, without doing it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from shared.tables.inputs import Columns, describe_source, is_frame

if TYPE_CHECKING:
    from shared.families.model import Model
    from shared.storage.store import Store
    from shared.tables.stream import Input


def plan(
    model: Model,
    command: str,
    store: Store,
    data: Any,
    columns: list[str],
    source: Input | None = None,
    kinds: dict[str, str] | None = None,
    hints: dict[str, str] | None = None,
    **facts: Any,
) -> dict[str, Any]:
    """Check the input (``source``: if the caller opened it already) and return the command's plan.

    Every file's header (missing or duplicate columns) and, for Parquet, declared
    types (``kinds``: a date where a feature is expected) are checked; values are not read, so a bad value
    deep in a file (text in a numeric CSV column, too many unseen levels) is found by the real run only.
    """
    from shared.tables.data import read_columns
    from shared.tables.schema import require_columns
    from shared.tables.stream import Input

    if data is None:
        model._sample_frame(1, 0)  # a model without an embedded sample needs --data: say so now, as the run would
    if data is not None and not is_frame(data):
        if source is None:  # train and evaluate: the same header checks as the real run's, in its order
            source = Input.open(os.fspath(data))
            header = read_columns(data) if source.single else None
            require_columns(Columns(header or source.columns), columns, describe_source(data), hints)
        source.check(columns, kinds or {}, hints=hints)
    shown = describe_source(data) if command == "train" else "embedded sample" if data is None else str(data)
    return {"dry_run": True, "model": model.name, "command": command, "store": store.url, "data": shown, **facts}
