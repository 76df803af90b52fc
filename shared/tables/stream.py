"""Streaming tables: an input cut into units and read as record batches; output written as batches come.

An input is a Parquet or CSV file, a folder of them (every such file below it, in path order, skipping
names that start with '.' or '_', such as _SUCCESS or a writer's temporary files), a glob pattern, or an
in-memory table. Its units, in a fixed order, are the row groups of each Parquet file, each whole CSV file,
or slices of an in-memory table; shards (:mod:`shared.tables.shards`) are contiguous runs of units.

Memory stays flat: one batch (at most one Parquet row group's columns, or one CSV block) is in memory at a
time, and only the columns asked for are read; the writer holds at most one row group of output
(``ROW_GROUP_ROWS`` rows or ``ROW_GROUP_BYTES`` bytes) before it writes it.

One cohesive thing: both ends of a streamed table, the input's units read as batches and the writer that
holds those batches to whole row groups, make the one promise that memory stays flat and a streamed run
writes what a whole read would.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.errors import BadData, MissingInput
from shared.process import faults
from shared.tables.data import FORMATS, GLOB_CHARS, atomic_output, filesystem, reading, table_format
from shared.tables.schema import check_declared_type, require_columns

if TYPE_CHECKING:
    import pyarrow as pa

IN_MEMORY_UNIT_ROWS = 1000  # an in-memory table (the embedded sample) is cut into units of this many rows
CSV_BLOCK_BYTES = 8 << 20
# An output's row group: what the writer holds before it writes, whatever the size of the batches it is given.
ROW_GROUP_ROWS = 100_000
ROW_GROUP_BYTES = 64 << 20
# The texts pandas reads as missing in a CSV (its default na_values), so streamed and whole reads agree.
NULL_TEXT = [
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
]


@dataclass(frozen=True)
class Unit:
    """One piece of the input: a Parquet row group, a whole CSV file, or a slice of an in-memory table."""

    file: int  # position in Input.files; 0 for an in-memory table
    group: int | None  # row group (Parquet) or slice number (in memory); None for a whole CSV file
    rows: int | None  # unknown for CSV until read
    weight: int  # what shards balance: rows, or bytes for CSV


class Input:
    """A table to stream; build it with :meth:`open` (path, folder, glob or URL) or :meth:`of` (in memory)."""

    def __init__(self, name: str, kind: str, units: list[Unit], columns: list[str], **where: Any) -> None:
        self.name, self.kind, self.units, self.columns = name, kind, units, columns
        self._fs: Any = where.get("fs")  # the input's fsspec filesystem (None in memory)
        self._files: list[str] = where.get("files", [])
        self._table: Any = where.get("table")  # a pyarrow Table, for an in-memory input
        # per file, as its footer or header says: the column names, and the Arrow types (Parquet only)
        self._headers: list[list[str]] = where.get("headers", [])
        self._declared: list[pa.Schema | None] = where.get("declared", [])
        self._single = where.get("single", False)  # the input names one file, not a folder or glob

    @classmethod
    def open(cls, data: str) -> Input:
        """List the files of ``data`` and their units, reading only Parquet footers and CSV headers."""
        data = os.fspath(data)
        fs, path = filesystem(data)
        with reading(data, "input"):
            files = _list_files(fs, path, data)
            kinds = {table_format(f) for f in files}
            if len(kinds) > 1:
                msg = f"{data} mixes Parquet and CSV files; put one format in a folder"
                raise BadData(msg)
        kind = kinds.pop()
        units: list[Unit] = []
        columns: list[str] = []
        headers: list[list[str]] = []
        declared: list[Any] = []
        for position, file in enumerate(files):
            with reading(_shown(data, file, files == [path]), kind):
                if kind == "parquet":
                    with _parquet(fs, file) as parquet:
                        meta, arrow = parquet.metadata, parquet.schema_arrow
                    names = arrow.names
                    units += [
                        Unit(position, g, meta.row_group(g).num_rows, meta.row_group(g).num_rows)
                        for g in range(meta.num_row_groups)
                    ]
                else:
                    names, arrow = _csv_header(fs, file), None
                    units.append(Unit(position, None, None, fs.size(file)))
            columns = columns or names
            headers.append(names)
            declared.append(arrow)
        return cls(
            data, kind, units, columns, fs=fs, files=files, headers=headers, declared=declared, single=files == [path]
        )

    @classmethod
    def of(cls, table: pa.Table, name: str, columns: list[str] | None = None) -> Input:
        """An in-memory Arrow table, cut into units of ``IN_MEMORY_UNIT_ROWS`` rows.

        ``columns`` are the names the caller's table had (reported), if more than ``table`` holds.
        """
        step = IN_MEMORY_UNIT_ROWS
        units = [
            Unit(0, i, min(step, table.num_rows - i * step), min(step, table.num_rows - i * step))
            for i in range(-(-table.num_rows // step))
        ]
        return cls(name, "memory", units, columns or list(table.column_names), table=table)

    def check(
        self,
        required: list[str],
        kinds: Mapping[str, str],
        hints: Mapping[str, str] | None = None,
    ) -> None:
        """Refuse, before any row is read, what each file's footer or header decides: a duplicate or missing
        column, a feature declared with a type its kind never
        takes. The real run and its dry run both call this, so both refuse the same inputs the same way."""
        for position, file in enumerate(self._files):
            shown = _shown(self.name, file, self._single)
            names = self._headers[position]
            require_columns(_Names(names), required, shown, hints)
            if (arrow := self._declared[position]) is not None:
                if problem := _pandas_metadata_problem(arrow):
                    msg = f"{shown}: {problem}; rewrite the file without it (e.g. with pyarrow) or fix the writer"
                    raise BadData(msg)
                for name, kind in kinds.items():
                    if name in names:
                        check_declared_type(arrow.field(name).type, name, kind, shown)

    @property
    def files(self) -> list[str]:
        """The files of the input, in unit order (paths as its filesystem names them); none in memory."""
        return list(self._files)

    def declared_types(self, name: str) -> list[Any]:
        """The Arrow types the files declare for column ``name`` (Parquet; in memory, the table's; CSV none)."""
        if self.kind == "memory":
            return [self._table.schema.field(name).type] if name in self._table.column_names else []
        return [arrow.field(name).type for arrow in self._declared if arrow is not None and name in arrow.names]

    @property
    def single(self) -> bool:
        """Whether the input names one file (not a folder or a glob)."""
        return bool(self._single)

    def urls(self) -> list[tuple[str, str]]:
        """Each file as a path or URL that reads it again (with the same storage options), and as errors name it."""
        local = "file" in ((self._fs.protocol,) if isinstance(self._fs.protocol, str) else tuple(self._fs.protocol))
        return [
            (file if local else self._fs.unstrip_protocol(file), _shown(self.name, file, self._single))
            for file in self._files
        ]

    @property
    def total_rows(self) -> int | None:
        """Rows in the whole input, if known without reading it (not for CSV)."""
        rows = [unit.rows for unit in self.units]
        return None if any(r is None for r in rows) else sum(r for r in rows if r is not None)

    def declared_schema(self) -> pa.Schema | None:
        """The Arrow types the input declares before it is read (its first file's; None for CSV, typed when read)."""
        if self.kind == "memory":
            return self._table.schema
        if self.kind == "parquet" and self._files:
            with _parquet(self._fs, self._files[0]) as parquet:
                return parquet.schema_arrow
        return None

    def batches(
        self, units: list[Unit], columns: list[str], batch_rows: int, types: dict[str, pa.DataType] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Yield record batches of ``columns`` from ``units``, in order; every file must hold every column.

        ``types`` fixes CSV column types (otherwise CSV types are inferred from a file's first block).
        """
        if self.kind == "memory":
            for unit in units:
                start = (unit.group or 0) * IN_MEMORY_UNIT_ROWS
                yield from self._table.select(columns).slice(start, unit.rows).to_batches(max_chunksize=batch_rows)
            return
        for position, groups in _by_file(units):
            file = self._files[position]
            shown = _shown(self.name, file, self._single)
            with reading(shown, self.kind):
                if self.kind == "parquet":
                    with _parquet(self._fs, file) as parquet:
                        require_columns(_Names(parquet.schema_arrow.names), columns, shown)
                        yield from parquet.iter_batches(batch_size=batch_rows, row_groups=groups, columns=columns)
                else:
                    require_columns(_Names(_csv_header(self._fs, file)), columns, shown)
                    yield from _csv_batches(self._fs, file, columns, types or {}, batch_rows)


@contextlib.contextmanager
def table_writer(path: str, empty: Callable[[], pa.Schema]) -> Iterator[Callable[[pa.Table], None]]:
    """Yield ``write(table)`` that appends to a Parquet or CSV file at ``path``, committed atomically at the end.

    Every table is cast to the first one's schema; with no table written, the file holds no rows and the
    columns ``empty()`` gives. Tables are held until they add up to ``ROW_GROUP_ROWS`` rows or
    ``ROW_GROUP_BYTES`` bytes and then written as one row group, so the file's layout does not depend on how
    small the batches were, and memory stays bounded. If anything fails, nothing appears at ``path``.
    """
    import pyarrow as pa

    with atomic_output(path) as (handle, kind):
        writer: Any = None
        schema: pa.Schema | None = None
        held: list[pa.Table] = []
        size = [0, 0]  # rows and bytes held

        def flush() -> None:
            if held:
                writer.write_table(pa.concat_tables(held) if len(held) > 1 else held[0])
                held.clear()
                size[:] = [0, 0]
                faults.point("output-write")

        def write(table: pa.Table) -> None:
            nonlocal writer, schema
            if writer is None:
                schema = table.schema
                writer = _writer(handle, kind, schema)
            elif table.schema != schema:
                table = _cast(table, schema, path)
            held.append(table)
            size[0] += table.num_rows
            size[1] += table.nbytes
            if size[0] >= ROW_GROUP_ROWS or size[1] >= ROW_GROUP_BYTES:
                flush()

        try:
            yield write
            if writer is None:
                write(pa.Table.from_batches([], schema=empty()))
            flush()
        finally:
            if writer is not None:
                writer.close()


# -- internals -----------------------------------------------------------------------------------


class _Names:
    """Column names shaped like a frame, for ``require_columns``."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns


def _pandas_metadata_problem(arrow: pa.Schema) -> str | None:
    """What is wrong with the pandas metadata a Parquet file carries (pandas applies it when reading), if any."""
    import json

    raw = (arrow.metadata or {}).get(b"pandas")
    if raw is None:
        return None
    try:
        meta = json.loads(raw)
    except (ValueError, RecursionError):
        return "its pandas metadata is not valid JSON"
    if not isinstance(meta, dict) or not isinstance(meta.get("index_columns", []), list):
        return "its pandas metadata is not a mapping with a list of index columns"
    missing = [c for c in meta.get("index_columns", []) if isinstance(c, str) and c not in arrow.names]
    if missing:
        return f"its pandas metadata names index column {missing[0]!r}, which the file does not hold"
    return None


def _list_files(fs: Any, path: str, data: str) -> list[str]:
    try:  # one call, whose failure is seen (isfile and isdir hide it, and each waits out a silent endpoint)
        what = fs.info(path).get("type")
    except FileNotFoundError:
        what = None
    if what == "file":
        table_format(data)
        return [path]
    if what == "directory":  # a folder that exists is that folder, whatever its name holds
        found = fs.find(path)
        if not found:
            msg = f"input folder {data} holds no files; expected Parquet or CSV files ({', '.join(FORMATS)})"
            raise MissingInput(msg)
    elif GLOB_CHARS & set(path) and not data.startswith(("http://", "https://")):  # a URL's query is not a pattern
        found = fs.glob(path)
    else:
        msg = f"input not found: {data}"
        raise MissingInput(msg)
    files = sorted(f for f in found if _is_table(f, path))
    if not files:
        msg = f"no Parquet or CSV files ({', '.join(FORMATS)}) in {data}"
        raise MissingInput(msg)
    return files


def _is_table(file: str, root: str) -> bool:
    relative = file[len(root.rstrip("/")) :] if file.startswith(root.rstrip("/")) else file.rsplit("/", 1)[-1]
    hidden = any(part.startswith((".", "_")) for part in relative.split("/") if part)
    return not hidden and os.path.splitext(file)[1].lower() in FORMATS


def _shown(data: str, file: str, single: bool) -> str:
    """How errors name a file of the input: the input itself if it is that one file, else with the file's name."""
    return data if single else f"{data} (file {file.rsplit('/', 1)[-1]})"


def _by_file(units: list[Unit]) -> Iterator[tuple[int, list[int] | None]]:
    """Group consecutive units of one file: (file position, its row groups, or None for a whole CSV)."""
    current: int | None = None
    groups: list[int] = []
    for unit in units:
        if unit.file != current and current is not None:
            yield current, groups or None
            groups = []
        current = unit.file
        if unit.group is not None:
            groups.append(unit.group)
    if current is not None:
        yield current, groups or None


@contextlib.contextmanager
def _parquet(fs: Any, file: str) -> Iterator[Any]:
    """Open a Parquet file for reading, and close it (and its remote handle) after."""
    import pyarrow.parquet as pq

    with contextlib.ExitStack() as stack:
        if type(fs).__name__ == "LocalFileSystem":
            source: Any = file
        else:
            # Remote files are read range by range: no read-ahead cache and no pre-buffering of whole row
            # groups, so memory stays flat however many files an input has.
            try:
                source = stack.enter_context(fs.open(file, "rb", cache_type="none"))
            except TypeError:  # a filesystem without read caches
                source = stack.enter_context(fs.open(file, "rb"))
        yield stack.enter_context(pq.ParquetFile(source, pre_buffer=False))


def _csv_header(fs: Any, file: str) -> list[str]:
    import pyarrow.csv as pcsv

    with fs.open(file, "rb") as handle:
        reader = pcsv.open_csv(handle, read_options=pcsv.ReadOptions(block_size=CSV_BLOCK_BYTES))  # as batches read it
        return list(reader.schema.names)


def _csv_batches(
    fs: Any, file: str, columns: list[str], types: dict[str, pa.DataType], batch_rows: int
) -> Iterator[pa.RecordBatch]:
    import pyarrow.csv as pcsv

    convert = pcsv.ConvertOptions(
        include_columns=columns,
        column_types={k: v for k, v in types.items() if k in columns},
        null_values=NULL_TEXT,  # what pandas reads as missing, so a CSV streams as it reads whole
        strings_can_be_null=True,
    )
    with fs.open(file, "rb") as handle:
        options = pcsv.ReadOptions(block_size=CSV_BLOCK_BYTES)
        for block in pcsv.open_csv(handle, read_options=options, convert_options=convert):
            yield from _rechunk(block, batch_rows)


def _rechunk(batch: pa.RecordBatch, rows: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, batch.num_rows, rows):
        yield batch.slice(start, rows)


def _writer(handle: Any, kind: str, schema: pa.Schema) -> Any:
    if kind == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetWriter(handle, schema)
    import pyarrow.csv as pcsv

    return pcsv.CSVWriter(handle, schema)


def _cast(table: pa.Table, schema: pa.Schema, path: str) -> pa.Table:
    import pyarrow as pa

    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
        msg = (
            f"cannot write {path}: the input's files disagree on column types ({schema} vs {table.schema}: "
            f"{str(exc).splitlines()[0]}); make every file use the same types"
        )
        raise BadData(" ".join(msg.split())) from exc
