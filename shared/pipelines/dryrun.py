"""The dry run (``--dry_run``): check what a command would read as the real run checks it, and say what it
would do, without doing it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from shared.tables.inputs import describe_source, is_frame, open_checked

if TYPE_CHECKING:
    from shared.families.model import Model
    from shared.storage.store import Store


def plan(
    model: Model,
    command: str,
    store: Store,
    data: Any,
    columns: list[str],
    kinds: dict[str, str] | None = None,
    hints: dict[str, str] | None = None,
    **facts: Any,
) -> dict[str, Any]:
    """Check the input as the real run will, before it reads a row, and return the command's plan.

    Every file's header (missing or duplicate columns) and, for Parquet, declared
    types (``kinds``: a date where a feature is expected) are checked; values are not read, so a bad value
    deep in a file (text in a numeric CSV column, too many unseen levels) is found by the real run only.
    """
    if data is None:
        model._sample_frame(1, 0)  # a model without an embedded sample needs --data: say so now, as the run would
    elif not is_frame(data):  # the same header checks as the real run's, in its order
        open_checked(os.fspath(data), columns, kinds, hints)
    return report(model, command, store, data, **facts)


def report(model: Model, command: str, store: Store, data: Any, **facts: Any) -> dict[str, Any]:
    """A dry run's result: the command, its store and input, and ``facts``, what it would do."""
    shown = (
        describe_source(data)
        if command == "train" or is_frame(data)
        else "embedded sample"
        if data is None
        else str(data)
    )
    return {"dry_run": True, "model": model.name, "command": command, "store": store.url, "data": shown, **facts}
