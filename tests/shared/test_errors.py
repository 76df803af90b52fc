"""The exception hierarchy is the CLI's exit-code contract."""

import errno

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import errors
from shared.errors import shown

DOCUMENTED = {
    errors.UsageError: 2,
    errors.ArtifactRejected: 3,
    errors.BadArgument: 64,
    errors.ResultFileConflict: 64,
    errors.BadData: 65,
    errors.MissingInput: 66,
    errors.ModelfleetError: 70,
    errors.LocalIOError: 74,
    errors.StoreUnavailable: 75,
    errors.AliasMoved: 76,
    errors.PermissionDenied: 77,
    errors.ConfigError: 78,
}


@pytest.mark.parametrize(("cls", "code"), DOCUMENTED.items())
def test_each_error_class_carries_its_documented_exit_code(cls, code):
    """Every class maps to the exit code in the README table."""
    assert code == errors.exit_code_for(cls("x"))


def test_not_promoted_carries_its_code_and_the_result():
    """100: the version was committed, the gate refused it the alias; the result goes with the error."""
    exc = errors.NotPromoted("refused", {"model": "churn", "version": "v1"})
    assert errors.exit_code_for(exc) == 100
    assert exc.result == {"model": "churn", "version": "v1"}


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (PermissionError("denied"), 77),
        (FileNotFoundError("gone"), 66),
        (ConnectionError("reset"), 75),
        (BrokenPipeError("stdout's reader left"), 74),  # a ConnectionError, but no network's
        (OSError(errno.ENOSPC, "No space left on device"), 74),
        (RuntimeError("bug"), 70),
    ],
)
def test_builtin_exceptions_map_to_documented_codes(exc, code):
    """Errors from libraries still get a meaningful exit code."""
    assert code == errors.exit_code_for(exc)


def test_errors_are_also_the_builtin_they_resemble():
    """Callers that catch builtins keep working."""
    assert isinstance(errors.BadData("x"), ValueError)
    assert isinstance(errors.MissingInput("x"), FileNotFoundError)
    assert isinstance(errors.PermissionDenied("x"), PermissionError)


@given(value=st.one_of(st.integers(-(2**62), 2**62), st.floats(allow_nan=False), st.booleans()))
def test_numpy_scalars_are_echoed_as_the_numbers_they_are(value):
    """A message says 0, not np.int64(0): numpy scalars are shown like the Python values they hold."""
    import numpy as np

    assert shown(np.array(value)[()]) == shown(value)


@pytest.mark.parametrize("stop", [errors.Interrupted, errors.Terminated])
def test_no_except_exception_can_swallow_a_signal(stop):
    """A library's `except Exception` around our code must not turn SIGTERM into a commit and exit 0."""

    def library_code():
        try:
            raise stop("stopped")
        except Exception:  # noqa: BLE001 - what a library around our callback might do
            return "carried on"

    with pytest.raises(stop):
        library_code()
    assert errors.exit_code_for(stop("x")) == stop.exit_code
