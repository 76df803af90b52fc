"""A stop that a signal asked for, raised again at safe points in case something swallowed it.

The command line's SIGTERM/SIGINT handler raises Terminated or Interrupted where the main thread happens to be.
If that is inside a ``__del__`` or a ctypes callback (LightGBM frees predictors in ``__del__`` while it
trains), Python prints "Exception ignored" and carries on: the command would run to the end and commit, the
signal lost. So the handler also records the stop here, and the work checks it at points where raising is safe
(each boosting round, each scoring batch, before any commit): a swallowed stop is raised again there.
"""

from __future__ import annotations

_requested: list[BaseException] = []


def request(stop: BaseException) -> None:
    """Record the stop a signal asked for (the first one wins)."""
    if not _requested:
        _requested.append(stop)


def check() -> None:
    """Raise the stop a signal asked for, if any: nothing may commit or go on working after it."""
    if _requested:
        raise _requested[0]


def clear() -> None:
    """Forget a recorded stop (when the command line returns to an in-process caller)."""
    _requested.clear()
