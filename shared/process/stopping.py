"""Stopping on SIGTERM and SIGINT: when a signal may stop the command, and what the stop then reports.

The command line installs :func:`on_signal` for SIGTERM (a pod being deleted) and SIGINT (Ctrl-C). The first
signal asks for a stop; later ones change nothing. The stop (Terminated, 143; Interrupted, 130) is raised only
while the command works (:func:`working`) and never inside an import (a half-imported module would break
what runs next): there it is recorded, and a short timer raises it once the import has ended. Before the work
starts the stop waits for it; once the work has ended (the outcome decided: a result or an error) a signal
changes nothing. Where Python swallows a stop (one that lands in a ``__del__`` or a ctypes callback:
"Exception ignored"), :func:`check` raises it again at the next safe point: each boosting round, each scoring
batch, before any commit, the end of the work. A stop reports what the command had committed (each commit
step runs in :func:`committing`): a signal after a commit never says that nothing was committed.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Any

from shared.errors import Interrupted, Stopped, Terminated

STOPS = (signal.SIGTERM, signal.SIGINT)
RETRY = signal.SIGALRM  # the timer that looks again once an import the stop waited for has ended
RETRY_SECONDS = 0.02

_requested: list[Stopped] = []
_committed: list[dict[str, Any]] = []
_state = {"working": False}


def install() -> None:
    """Handle SIGTERM and SIGINT by asking for a stop (first thing in a console process: see dispatch)."""
    for signum in STOPS:
        signal.signal(signum, on_signal)
    signal.signal(RETRY, _retry)


def stop_for(signum: int) -> Stopped:
    """The stop a signal asks for: Terminated (143) for SIGTERM, Interrupted (130) for SIGINT."""
    if signum == signal.SIGINT:
        return Interrupted("interrupted by SIGINT before the command finished")
    return Terminated("terminated by SIGTERM before the command finished")


def on_signal(signum: int, frame: Any) -> None:
    """Ask for a stop (the first signal wins) and raise it here, if this is a safe place for it."""
    if _requested:
        return  # already stopping: a second signal must not break the cleanup, the error line or the result
    request(stop_for(signum))
    _raise_if_safe(frame)


def _retry(signum: int, frame: Any) -> None:
    """The timer: raise the stop an import made wait, if the import has ended."""
    if _requested:
        _raise_if_safe(frame)


def _raise_if_safe(frame: Any) -> None:
    if not _state["working"]:
        return  # raised when the work starts; after the work, never
    if _importing(frame):
        signal.setitimer(signal.ITIMER_REAL, RETRY_SECONDS)  # look again soon: the import may be over
        return
    raise _requested[0]


def _importing(frame: Any) -> bool:
    """Whether the main thread is inside an import (the import system's frames are on its stack)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def request(stop: Stopped) -> None:
    """Record the stop a signal asked for (the first one wins)."""
    if not _requested:
        _requested.append(stop)


def check() -> None:
    """Raise the stop a signal asked for, if any: nothing may commit or go on working after it."""
    if _requested:
        raise _requested[0]


@contextlib.contextmanager
def working() -> Iterator[None]:
    """The command's work: a stop asked for before it is raised as it starts, one asked for inside it is raised
    at a safe point (at the latest as it ends), and from its end on a signal changes nothing. Its commits are
    its own: it starts with none recorded."""
    _committed.clear()
    _state["working"] = True
    try:
        check()
        yield
        check()
    finally:
        _state["working"] = False
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextlib.contextmanager
def committing(what: str, landed: Callable[[], bool], **fields: Any) -> Iterator[Callable[[], None]]:
    """Around one commit step: call the ``done`` it yields once the step committed ``what``. A stop raised
    inside the step (between the commit and ``done``, or in the commit's own write) is reported with ``what``
    committed if ``landed()`` says it was all the same."""
    entry = {"what": what, **fields}

    def done() -> None:
        if _state["working"] and entry not in _committed:  # a library call's commits are no command's to report
            _committed.append(entry)

    try:
        yield done
    except Stopped:
        with contextlib.suppress(Exception):
            if landed():
                done()
        raise


def commits() -> list[dict[str, Any]]:
    """What the command committed so far, in order."""
    return list(_committed)


def reported(stop: Stopped) -> str:
    """A stop's message, saying truthfully whether anything was committed before it."""
    if not _committed:
        return f"{stop}; nothing was committed"
    done = ", ".join(item["what"] for item in _committed)
    return f"{stop}, after it had committed {done}: that stays committed (a retry of the same run finds it)"


def settle() -> None:
    """For a console process whose outcome is decided: SIGTERM and SIGINT are ignored until it exits, so no
    signal can turn the documented exit code into a death by signal. Ignored, not only blocked: a mask holds
    for this thread alone (OpenMP's and Arrow's threads would still take the signal), and Python puts the
    default disposition back for its own handlers as it shuts down, but leaves an ignored signal ignored."""
    signal.setitimer(signal.ITIMER_REAL, 0)
    for signum in STOPS:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {*STOPS, RETRY})


def clear() -> None:
    """Forget a recorded stop and the commits (when the command line returns to an in-process caller)."""
    _requested.clear()
    _committed.clear()
    _state.update(working=False)
