"""Reading and writing tables: Parquet or CSV, on local paths or any fsspec URL (``s3://``, ``gs://``, ...).

Writes are atomic: the table is written in full to a temporary name beside the destination and then
moved into place, so a reader never sees half a file and a failed write leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.errors import (
    BadArgument,
    BadData,
    ConfigError,
    MissingInput,
)
from shared.process.failures import OPTIONS_ENV, input_place, output_place, translated

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
GLOB_CHARS = set("*?[")  # what fsspec expands in a path that does not exist (one that exists is that path)


# botocore's waits for S3 (each can be overridden in MODELFLEET_STORAGE_OPTIONS' config_kwargs): connect within
# 5 s, an answer within 6 s, 2 attempts in all (``total_max_attempts``: botocore's ``max_attempts`` counts retries
# only, so 2 there meant 3 attempts; throttling and 5xx retried too), and no second retry loop in s3fs on top, so
# a refused endpoint exits 75 at once and a silent one within about 13 s.
S3_TIMEOUTS = {"connect_timeout": 5, "read_timeout": 6, "retries": {"total_max_attempts": 2, "mode": "standard"}}
S3FS_RETRIES = 1


def filesystem(url: str) -> tuple[Any, str]:
    """Return the fsspec filesystem and path for a local path or URL.

    Options for remote filesystems (an endpoint, a profile) come from ``$MODELFLEET_STORAGE_OPTIONS``, a
    JSON object; credentials come from the filesystem's own environment variables or files. Neither is
    ever a flag, and neither is ever logged.
    """
    import fsspec

    options: dict[str, Any] = {}
    if "://" in url and not url.startswith("file://"):
        text = os.environ.get(OPTIONS_ENV, "").strip()
        try:
            given = json.loads(text) if text else {}
        except ValueError:
            given = None
        if isinstance(given, dict):
            options = given
        else:
            msg = f"{OPTIONS_ENV} must be a JSON object of fsspec options, e.g. '{{\"anon\": false}}'"
            raise ConfigError(msg)
    if url.split("://", 1)[0] in ("s3", "s3a"):  # bounded waits: a store that never answers fails in seconds
        defaults = copy.deepcopy(S3_TIMEOUTS)  # botocore rewrites the retries mapping it is given, in place
        options = {**options, "config_kwargs": {**defaults, **options.get("config_kwargs", {})}}
    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except (ValueError, ImportError) as exc:  # an unknown protocol, or its library not installed
        msg = f"cannot open {url!r}: {' '.join(str(exc).split())[:200]}"
        raise ConfigError(msg) from exc
    if "config_kwargs" in options:  # s3fs: botocore's retries above are the only ones
        fs.retries = S3FS_RETRIES
    return fs, path


def without_query(path: str) -> str:
    """``path`` without a URL's query: an http(s) URL's ``?...``, an S3 URL's ``?versionId=...``. A local path
    (or any other URL) has none: a ``?`` there is part of a name."""
    protocol = path.split("://", 1)[0].lower() if "://" in path else "file"
    if protocol in ("http", "https"):
        return path.split("?", 1)[0]
    if protocol in ("s3", "s3a"):
        return path.partition("?versionId=")[0]
    return path


def is_table_name(path: str) -> bool:
    """Whether ``path`` names one table file (``.parquet``, ``.csv``) rather than a folder."""
    return os.path.splitext(without_query(path))[1].lower() in FORMATS


def table_format(path: str, error: type[Exception] = BadData, flag: str = "") -> str:
    """Return ``parquet`` or ``csv`` from a path's suffix, or raise ``error`` naming the suffix (and the flag)."""
    suffix = Path(without_query(str(path))).suffix.lower()
    if suffix not in FORMATS:
        msg = f"{flag}cannot tell the format of {path!r}: expected a name ending in {', '.join(FORMATS)}"
        raise error(msg)
    return FORMATS[suffix]


def check_output(path: str, flag: str = "--output") -> str:
    """Check an output path before any work: a Parquet or CSV name; BadArgument (64) otherwise."""
    table_format(path, BadArgument, f"{flag}: ")
    return path


def read_table(path: str | os.PathLike, columns: list[str] | None = None, text: Iterable[str] = ()) -> pd.DataFrame:
    """Read a Parquet or CSV table from a local path or an fsspec URL.

    With ``columns``, only those of them that the table has are read (a caller that needs them all says
    which are missing): reading fewer columns is faster and smaller. A CSV's ``text`` columns (categoricals,
    ids) are read as text, never guessed as numbers (``01`` stays ``01``), as streaming reads them.
    """
    import pandas as pd

    with _opened(path) as (handle, kind):
        if kind == "csv":
            kept = columns
            wanted = None if kept is None else lambda name: name in kept
            return pd.read_csv(handle, usecols=wanted, dtype=dict.fromkeys(text, "string"))
        if columns is not None:
            import pyarrow.parquet as pq

            have = pq.read_schema(handle).names
            handle.seek(0)
            columns = [name for name in have if name in set(columns)]
        return pd.read_parquet(handle, columns=columns)


def read_columns(path: str | os.PathLike) -> list[str]:
    """Return a table's column names, reading only its schema (Parquet) or header (CSV)."""
    with _opened(path) as (handle, kind):
        if kind == "parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(handle).names)
        import csv
        import io

        # The header as written: pandas would rename a duplicate name ('plan.1') before anyone could refuse it.
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
        try:
            return next(csv.reader(text), [])
        finally:
            text.detach()


@contextlib.contextmanager
def _opened(path: str | os.PathLike):
    """Open a table for reading; map what can go wrong to MissingInput, PermissionDenied or BadData."""
    path = os.fspath(path)
    kind = table_format(path)
    fs, fs_path = filesystem(path)
    with reading(path, kind):
        if not fs.exists(fs_path):
            msg = f"input not found: {path}"
            raise MissingInput(msg)
        with fs.open(fs_path, "rb") as handle:
            yield handle, kind


def reading(path: str, kind: str) -> contextlib.AbstractContextManager[None]:
    """Map what can go wrong while reading ``path`` to MissingInput, PermissionDenied, StoreUnavailable or BadData
    (the rules of :mod:`shared.process.failures`)."""
    return translated(input_place(path, kind))


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> str:
    """Write ``frame`` atomically to a Parquet or CSV path or URL; return the path written."""
    path = os.fspath(path)
    with atomic_output(path) as (handle, kind):
        if kind == "parquet":
            frame.to_parquet(handle, index=False)
        else:
            frame.to_csv(handle, index=False)
    return path


@contextlib.contextmanager
def atomic_output(path: str):
    """Yield a binary handle and the table format for ``path``; the file appears at ``path`` only on success
    (:func:`shared.process.atomic.replacing`), and what goes wrong is mapped by the rules of
    :mod:`shared.process.failures`."""
    from fsspec.implementations.local import LocalFileSystem

    from shared.process.atomic import replacing

    kind = table_format(path)
    fs, fs_path = filesystem(path)
    with (
        translated(output_place(path)),
        replacing(fs, fs_path, local=isinstance(fs, LocalFileSystem), shown=path, output=True) as handle,
    ):
        yield handle, kind


def file_digest(path: str | os.PathLike) -> str:
    """Return the sha256 of a file's bytes (what ``sha256sum`` prints): a read at disk speed, no parsing."""
    import hashlib

    path = os.fspath(path)
    fs, fs_path = filesystem(path)
    digest = hashlib.sha256()
    with reading(path, "bytes"), fs.open(fs_path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(frame: pd.DataFrame) -> str:
    """Return a sha256 of a table's content, independent of its index: the data's identity in the store."""
    import hashlib

    import pandas as pd

    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest = hashlib.sha256(hashes.tobytes())
    digest.update(",".join(map(str, frame.columns)).encode())
    return digest.hexdigest()
