"""Command results: every command returns a plain dict; this module turns it into one line of JSON."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from typing import Any


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
