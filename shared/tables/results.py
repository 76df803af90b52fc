"""Command results: every command returns a plain dict; this module turns it into one line of JSON."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from typing import Any

from shared.errors import BadArgument, ResultFileConflict

RESULT_ENV = "MODELFLEET_RESULT_PATH"
XCOM_DIR_ENV = "MODELFLEET_XCOM_DIR"
XCOM_DIR = "/airflow/xcom"  # the KubernetesPodOperator's XCom folder


def to_json(result: Any) -> str:
    """Serialise a command result as one JSON object on one line (NaN and infinity become null)."""
    return json.dumps(_plain(result), separators=(",", ":"), sort_keys=False, allow_nan=False)


def _plain(value: Any) -> Any:
    """Turn numpy scalars, paths and dates into JSON values; refuse anything else that is not JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _plain(item())
    msg = f"a command result must be JSON data; got {type(value).__name__}"
    raise TypeError(msg)


# Anchored on "://" and with one bounded run after it, so that redaction is linear in the text's length (a
# pattern starting with the scheme's letters retried every letter of a long token: quadratic).
_URL_CREDENTIALS = re.compile(r"://[^/@\s]+@")
_SECRET_NAME = re.compile(r"SECRET|PASSW(OR)?D|TOKEN|CREDENTIAL|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|SESSION_?KEY")


def redact(text: str) -> str:
    """Hide credentials: user:password in URLs, and the values of secret-looking environment variables."""
    text = _URL_CREDENTIALS.sub("://***@", text)
    for name, value in os.environ.items():
        if len(value) >= 4 and _SECRET_NAME.search(name.upper()) and value in text:
            text = text.replace(value, "***")
    return text


def result_path() -> str | None:
    """Where the result file goes: $MODELFLEET_RESULT_PATH, or Airflow's XCom file if its folder exists."""
    path = os.environ.get(RESULT_ENV)
    xcom = os.environ.get(XCOM_DIR_ENV, XCOM_DIR)
    if not path and os.path.isdir(xcom):
        path = os.path.join(xcom, "return.json")
    return path or None


def refuse_collisions(places: dict[str, Any]) -> None:
    """ResultFileConflict (64) if the result file is, or lies inside, one of ``places`` (what names it: path)
    that the command reads or writes: the result would replace an input, an output or the store."""
    from shared.tables import overlap

    path = result_path()
    if path is None:
        return
    for what, place in places.items():
        try:
            overlap.refuse(path, place, RESULT_ENV)
        except BadArgument:
            msg = (
                f"{RESULT_ENV}={path!r} is, or lies inside, {what} {os.fspath(place)!r}, which this command "
                f"reads or writes; the result file would replace it: point {RESULT_ENV} elsewhere"
            )
            raise ResultFileConflict(msg) from None


def replaceable(path: str) -> bool:
    """Whether the result file may be written at ``path``: nothing is there yet, or an earlier result is (a JSON
    object with a command's result keys). Anything else there (an input, a config file, a model file) is never
    replaced, whatever step of a command failed."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(MAX_RESULT_BYTES + 1)
    except OSError:  # nothing there, or something no write could replace (a folder): writing says which
        return True
    if len(head) > MAX_RESULT_BYTES:
        return False
    try:
        earlier = json.loads(head)
    except (ValueError, RecursionError):
        return False
    return isinstance(earlier, dict) and bool({"model", "exit_code", "modelfleet"} & set(earlier))


MAX_RESULT_BYTES = 64 << 20  # a result is a line of JSON; anything larger there is not one


def write_result(text: str, path: str) -> None:
    """Write a result file atomically (:func:`shared.process.atomic.replacing`): readers (Airflow's XCom sidecar)
    see all of it or nothing. What goes wrong is mapped by the rules of :mod:`shared.process.failures` (74 for a
    folder there)."""
    from fsspec.implementations.local import LocalFileSystem

    from shared.process.atomic import replacing
    from shared.process.failures import result_place, translated

    with (
        translated(result_place(path)),
        replacing(LocalFileSystem(), os.path.abspath(path), local=True, durable=True) as handle,
    ):
        handle.write(text.encode("utf-8"))
