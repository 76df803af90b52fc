"""Named crash points for fault-injection tests, like SQLite's crash tests.

``MODELFLEET_FAULT=<point>`` (or ``<point>:TERM``, any signal's name) makes the process send itself SIGKILL (or
that signal) when it reaches that point. Points: ``model-write`` (half the model file written), ``model-written``,
``manifest-write`` (half the manifest written), ``manifest-written``, ``output-write`` (a batch of
a table output written); a compiled library's ``build`` (its C compiled, in the build folder), ``library-write``,
``library-written`` (stored, no record yet) and ``record-write``. Unset, it does nothing.
"""

import os
import signal

FAULT_ENV = "MODELFLEET_FAULT"


def point(name: str) -> None:
    """Kill this process here if the fault-injection variable names this point."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    where, _, how = spec.partition(":")
    if where == name:
        os.kill(os.getpid(), getattr(signal, f"SIG{how or 'KILL'}"))
