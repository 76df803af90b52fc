"""One translation of failures: every place maps the same kind of failure to the same exit code."""

import errno

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import errors
from shared.process import failures

PLACES = {
    "input": failures.input_place("in.parquet", "parquet"),
    "output": failures.output_place("out.parquet"),
    "store": failures.store_place("s3://bucket/store"),
    "config": failures.config_place("params.yaml"),
    "result": failures.result_place("result.json"),
}
# What a place's content being unreadable, or a file missing, means there.
BROKEN = {"input": 65, "output": 74, "store": 74, "config": 78, "result": 74}
MISSING = {"input": 66, "output": 74, "store": 66, "config": 78, "result": 74}


class EndpointConnectionError(Exception):
    """Named like botocore's: a remote library's own network failure, no builtin ConnectionError."""


class NoCredentialsError(Exception):
    """Named like botocore's."""


def _wrapped(inner: BaseException, outer: type[BaseException]) -> BaseException:
    """``outer`` raised while handling ``inner``, as s3fs wraps botocore's timeouts in an OSError."""
    exc = outer("wrapped")
    exc.__context__ = inner
    return exc


NETWORK = st.sampled_from(
    [ConnectionResetError("reset"), TimeoutError("timed out"), EndpointConnectionError("no endpoint")]
)


@given(place=st.sampled_from(sorted(PLACES)), network=NETWORK, wrap=st.sampled_from([None, OSError, RuntimeError]))
def test_the_network_failing_is_75_everywhere_however_wrapped(place, network, wrap):
    exc = network if wrap is None else _wrapped(network, wrap)
    mapped = failures.translate(exc, PLACES[place])
    assert isinstance(mapped, errors.StoreUnavailable)
    assert mapped.exit_code == 75
    assert "retry later" in str(mapped)


@given(
    place=st.sampled_from(sorted(PLACES)),
    kind=st.sampled_from(["denied", "missing", "broken", "credentials", "option", "bug", "ours", "pipe"]),
    text=st.text(min_size=0, max_size=40),
)
def test_each_kind_of_failure_has_one_exit_code_at_every_place(place, kind, text):
    exc = {
        "denied": PermissionError(errno.EACCES, "Permission denied", "x"),
        "missing": FileNotFoundError(errno.ENOENT, "No such file or directory", "x"),
        "broken": OSError(errno.EIO, text or "I/O error"),
        "credentials": NoCredentialsError(text),
        "option": TypeError(f"__init__() got an unexpected keyword argument 'nosuch{text}'"),
        "bug": KeyError(text),
        "ours": errors.BadArgument(text or "bad"),
        "pipe": BrokenPipeError(errno.EPIPE, "Broken pipe"),
    }[kind]
    mapped = failures.translate(exc, PLACES[place])
    expected = {"denied": 77, "missing": MISSING[place], "broken": BROKEN[place], "credentials": 77, "option": 78}
    expected |= {"pipe": BROKEN[place]}  # our own pipe, never the network's
    if kind in ("bug", "ours"):
        assert mapped is None, "a bug is raised as it is (70), and our own errors pass through"
    else:
        assert mapped.exit_code == expected[kind], (kind, place, mapped)
        assert "\n" not in str(mapped) or "\n" in text


def test_a_parser_error_is_bad_data_only_where_the_place_parses():
    assert isinstance(failures.translate(ValueError("bad footer"), PLACES["input"]), errors.BadData)
    assert failures.translate(ValueError("a bug"), PLACES["store"]) is None


def test_translated_raises_the_mapped_error_from_the_original():
    with (
        pytest.raises(errors.MissingInput, match=r"input not found: in\.parquet") as caught,
        failures.translated(PLACES["input"]),
    ):
        raise FileNotFoundError(errno.ENOENT, "No such file", "in.parquet")
    assert isinstance(caught.value.__cause__, FileNotFoundError)
