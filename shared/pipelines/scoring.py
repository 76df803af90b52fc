"""Scoring in batches: read a slice of the input, predict it batch by batch, write each batch as it comes.

Predictions of a row do not depend on the other rows of its batch, so streaming gives exactly what scoring
the whole table at once gives. The output file appears only when every batch is written and the checks
over the whole input (unseen levels, no rows at all) have passed.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.errors import NothingToDo
from shared.process import stopping
from shared.process.progress import Throttle
from shared.tables.schema import count_unseen, judge_unseen
from shared.tables.stream import Input, Unit, table_writer

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from shared.monitoring.drift import Tally
    from shared.tables.schema import Schema

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Output:
    """What a prediction row holds: the id column (if the input has it), the input columns kept as they are
    (``--keep``), and the prediction columns (``columns``: name and type, in order; ``values`` makes them of a
    batch's predictions: the model's ``_outputs`` and ``_output_values``)."""

    id_column: str | None
    columns: tuple[tuple[str, str], ...]
    values: Callable[[Any], dict[str, Any]]
    keep: tuple[str, ...] = ()


def arrow_type(dtype: str) -> pa.DataType:
    """The Arrow type of a prediction column: a NumPy dtype's, or text for ``"string"`` (a class's name)."""
    import pyarrow as pa

    return pa.string() if dtype == "string" else pa.from_numpy_dtype(dtype)


def score_input(
    predict: Callable[[pd.DataFrame], np.ndarray],
    output: Output,
    schema: Schema,
    source: Input,
    target: str,
    *,
    part: Any,
    watch: Any,
    run: str | None,
    what: str,
    **streaming: Any,
) -> dict[str, Any]:
    """Score a shard's share of ``source`` (all of it without ``part``) into ``target``: the units it takes,
    the rows its drift part will say it counted (a shard's, of ``run``), then :func:`stream` with ``streaming``."""
    from shared.tables import shards as sharding

    span = sharding.assign([u.weight for u in source.units], part)
    units = [source.units[i] for i in span]
    if part is not None and watch.tally is not None:
        from shared.monitoring import tallies

        assert run is not None  # a shard's run is pinned before it scores
        watch.proof, watch.source = tallies.provenance(source, part, span, run), source
        tallies.check_input(target.rsplit("/", 1)[0], watch.proof)
    log.info(
        "scoring %s%s with %s",
        source.name,
        f" shard {part} ({len(units)} of {len(source.units)} units)" if part else "",
        what,
    )
    tally = watch.tally
    limits = functools.partial(watch.limits, what=source.name)
    return stream(predict, output, schema, source, units, target, tally=tally, limits=limits, **streaming)


def stream(
    predict: Callable[[pd.DataFrame], np.ndarray],
    output: Output,
    schema: Schema,
    source: Input,
    units: list[Unit],
    target: str,
    *,
    batch_rows: int,
    as_of: dt.date | None,
    max_unseen: float,
    empty_ok: bool,
    derive: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    reads: list[str] | None = None,
    tally: Tally | None = None,
    limits: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Score ``units`` of ``source`` into ``target`` with ``predict`` (prepared features in, predictions out);
    return rows and the unseen-levels report.

    With ``empty_ok`` (a shard), no rows writes an empty file; otherwise it is NothingToDo. ``derive`` adds the
    model's derived features to each batch of ``reads`` (the input columns the features need). ``tally``
    counts each batch for the drift verdict; ``limits`` checks its counts before the output is published.
    """
    import pyarrow as pa

    id_column = output.id_column if output.id_column in source.columns else None
    inputs = reads if reads is not None else list(schema.columns)
    columns = list(dict.fromkeys([*inputs, *([id_column] if id_column else []), *output.keep]))
    # A CSV's ids and kept columns are text as written: never guessed block by block (a kept numeric feature is
    # the number the model read).
    types = {name: pa.string() for name in [*output.keep, *([id_column] if id_column else [])]}
    types |= {name: pa.float64() for name in schema.numeric if name in inputs}
    types |= {name: pa.string() for name in schema.categorical if name in inputs}
    unseen: Counter[str] = Counter()
    rows = unseen_rows = 0
    throttle = Throttle()
    with table_writer(target, lambda: output_schema(output, source, id_column, as_of, types)) as write:
        for batch in source.batches(units, columns, batch_rows, types):
            stopping.check()
            if batch.num_rows == 0:
                continue
            rows_in = batch.select(inputs).to_pandas()
            features, masks = schema.prepare(derive(rows_in) if derive else rows_in, source.name)
            counted = count_unseen(masks)
            unseen.update(counted["unseen_levels"])
            unseen_rows += counted["rows_with_unseen_levels"]
            predicted = predict(features)
            if tally is not None:
                tally.add(features, masks, predicted)
            ids = batch.column(id_column) if id_column else None
            kept = {name: batch.column(name) for name in output.keep}
            write(predictions_table(output, ids, predicted, as_of, kept))
            rows += batch.num_rows
            if throttle.due():
                log.info("scored %d rows (%.0f rows/s)", rows, throttle.rate(rows))
        if rows == 0 and not empty_ok:
            raise NothingToDo(f"{source.name} has no rows; nothing to do, nothing written")
        report = {"unseen_levels": dict(unseen), "rows_with_unseen_levels": unseen_rows}
        judge_unseen(report, rows, max_unseen)
        if tally is not None and limits is not None:
            limits(tally.counts())
    log.info("wrote %d predictions to %s (%.0f rows/s)", rows, target, throttle.rate(rows))
    ignored = [c for c in source.columns if c not in {*inputs, output.id_column, *output.keep}]
    return {"rows": rows, "ignored_columns": ignored, **report}


def predictions_table(
    output: Output, ids: pa.Array | None, predicted: Any, as_of: dt.date | None, kept: dict[str, Any] | None = None
) -> pa.Table:
    """The output rows: the id column (as the input typed it), the kept columns (as the input has them), the
    prediction, and ``as_of`` if given."""
    import pyarrow as pa

    columns: dict[str, Any] = {} if ids is None or output.id_column is None else {output.id_column: ids}
    columns |= kept or {}
    values = output.values(predicted)
    for name, dtype in output.columns:
        columns[name] = pa.array(values[name], type=arrow_type(dtype))
    if as_of is not None:
        columns["as_of"] = pa.array([as_of] * len(predicted), type=pa.date32())
    return pa.table(columns)


def predictions_frame(output: Output, frame: pd.DataFrame, predicted: Any, as_of: dt.date | None) -> pd.DataFrame:
    """The output rows of an in-memory frame, as :func:`predictions_table` builds them for a file, with the
    caller's index; the id column keeps the caller's values as they are."""
    table = predictions_table(output, None, predicted, as_of)
    predictions = table.to_pandas()
    predictions.index = frame.index
    for position, name in enumerate([*([output.id_column] if output.id_column in frame else []), *output.keep]):
        predictions.insert(position, name, frame[name].array)  # the caller's values and type (Int64, category)
    return predictions


def check_unseen(
    schema: Schema, frame: pd.DataFrame, keep: tuple[str, ...], max_unseen: float, unseen: Any
) -> dict[str, Any]:
    """Report ignored columns (other than ``keep``) and unseen levels; BadData if too many rows carry unseen
    levels."""
    report = schema.report(frame, keep=keep, unseen=unseen)
    judge_unseen(report, len(frame), max_unseen)
    if report["ignored_columns"]:
        log.info("ignoring columns the model does not use: %s", ", ".join(report["ignored_columns"]))
    return report


def output_schema(
    output: Output, source: Input, id_column: str | None, as_of: dt.date | None, types: dict[str, pa.DataType]
) -> pa.Schema:
    """The columns an output with no rows has: the same as one with rows (``types``: how a CSV is read)."""
    import pyarrow as pa

    fields = []
    declared = source.declared_schema()
    for name in [*([id_column] if id_column else []), *output.keep]:
        known = declared is not None and name in declared.names
        fields.append(pa.field(name, declared.field(name).type if declared is not None and known else types[name]))
    fields += [pa.field(name, arrow_type(dtype)) for name, dtype in output.columns]
    if as_of is not None:
        fields.append(pa.field("as_of", pa.date32()))
    return pa.schema(fields)
