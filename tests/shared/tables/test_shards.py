"""Shards: K/N parsing, the orchestrators' environment, and contiguous balanced assignment."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import BadArgument, ConfigError
from shared.tables import shards
from shared.tables.shards import Shard


@pytest.mark.parametrize("text", ["4/4", "0/0", "-1/3", "1", "a/b", "1/2/3", ""])
def test_bad_shard_text_is_refused_with_the_form_expected(text):
    with pytest.raises(BadArgument, match="must be K/N with 0 <= K < N"):
        shards.parse(text)


@pytest.mark.parametrize(
    ("flag", "count", "environ", "expected"),
    [
        (None, None, {}, None),
        ("1/4", None, {"JOB_COMPLETION_INDEX": "3"}, Shard(1, 4, "--shard")),  # the flag wins
        (None, 5, {"JOB_COMPLETION_INDEX": "3"}, Shard(3, 5, "JOB_COMPLETION_INDEX")),
        (
            None,
            None,
            {"AWS_BATCH_JOB_ARRAY_INDEX": "2", "AWS_BATCH_JOB_ARRAY_SIZE": "10"},
            Shard(2, 10, "AWS_BATCH_JOB_ARRAY_INDEX"),
        ),
        (None, 4, {"AWS_BATCH_JOB_ARRAY_INDEX": "2"}, Shard(2, 4, "AWS_BATCH_JOB_ARRAY_INDEX")),
    ],
)
def test_shard_comes_from_the_flag_then_the_orchestrator(flag, count, environ, expected):
    got = shards.resolve(flag, count, environ)
    assert (got.index, got.count) == (expected.index, expected.count) if expected else got is None
    if expected and expected.source:
        assert got.source == expected.source


@pytest.mark.parametrize(
    ("flag", "count", "environ", "error", "message"),
    [
        (None, None, {"JOB_COMPLETION_INDEX": "0"}, ConfigError, "set --shards=N"),
        (None, 3, {"JOB_COMPLETION_INDEX": "3"}, ConfigError, "shard 3 of 3 does not exist"),
        (None, None, {"AWS_BATCH_JOB_ARRAY_INDEX": "1"}, ConfigError, "AWS_BATCH_JOB_ARRAY_SIZE is not"),
        (None, 4, {"AWS_BATCH_JOB_ARRAY_INDEX": "1", "AWS_BATCH_JOB_ARRAY_SIZE": "8"}, ConfigError, "one count"),
        ("1/4", 3, {}, BadArgument, "give one count"),
        (None, 3, {}, BadArgument, "needs this process's index"),
    ],
)
def test_inconsistent_shard_settings_are_refused(flag, count, environ, error, message):
    with pytest.raises(error, match=message):
        shards.resolve(flag, count, environ)


def test_part_names_sort_in_shard_order():
    names = [Shard(k, 12).part_name for k in range(12)]
    assert names == sorted(names)
    assert names[3] == "part-00003-of-00012.parquet"


@given(st.lists(st.integers(0, 1000), max_size=40), st.integers(1, 50))
def test_shards_cover_every_unit_once_in_order(weights, count):
    """The N shards' ranges are contiguous, in order, and together cover every unit exactly once."""
    ranges = [shards.assign(weights, Shard(k, count)) for k in range(count)]
    covered = [i for r in ranges for i in r]
    assert covered == list(range(len(weights)))


def test_shards_balance_by_weight():
    """Ten equal row groups over two shards: five each; one huge unit cannot be split."""
    assert [len(shards.assign([100] * 10, Shard(k, 2))) for k in range(2)] == [5, 5]
    assert [len(shards.assign([1, 1000, 1], Shard(k, 3))) for k in range(3)] == [1, 1, 1]
    assert [len(shards.assign([5], Shard(k, 3))) for k in range(3)] == [0, 1, 0]


COUNTS = st.one_of(
    st.integers(shards.MAX_SHARDS + 1, 10**30).map(str),
    st.integers(4301, 6000).map(lambda digits: "9" * digits),  # more than int() reads by default
)
SHARD_TEXTS = st.one_of(
    st.tuples(st.integers(0, 10**30).map(str), COUNTS).map("/".join),
    st.integers(4301, 6000).map(lambda digits: f"{'9' * digits}/3"),
    st.text("0123456789/ eE+-.x_٣", max_size=30),
)


@settings(max_examples=200)
@given(text=SHARD_TEXTS)
def test_a_shard_count_above_the_bound_or_no_count_is_refused_without_reading_the_number(text):
    """However many digits: refused with the form and the bound (no int() of 6,000 digits, no N-sized work)."""
    matched = re.fullmatch(r"\s*([0-9]+)\s*/\s*([0-9]+)\s*", text)
    small = matched and all(len(number.lstrip("0")) <= 7 for number in matched.groups())
    fine = small and 0 <= int(matched[1]) < int(matched[2]) <= shards.MAX_SHARDS
    if fine:
        assert shards.parse(text) == Shard(int(matched[1]), int(matched[2]))
        return
    with pytest.raises(BadArgument, match=rf"^--shard must be K/N with 0 <= K < N <= {shards.MAX_SHARDS}\b"):
        shards.parse(text)
    with pytest.raises(ValueError, match="must be K/N"):
        shards.check(text)


@given(count=st.integers(1, shards.MAX_SHARDS), data=st.data())
def test_every_shard_up_to_the_bound_parses_as_written(count, data):
    index = data.draw(st.integers(0, count - 1))
    zeros, space = data.draw(st.text("0", max_size=3)), data.draw(st.sampled_from(["", " "]))
    assert shards.parse(f"{space}{zeros}{index}{space}/{zeros}{count}") == Shard(index, count)


@settings(max_examples=20)
@given(size=COUNTS)
def test_an_orchestrators_count_has_the_same_bound(size):
    environ = {"AWS_BATCH_JOB_ARRAY_INDEX": "0", "AWS_BATCH_JOB_ARRAY_SIZE": size}
    with pytest.raises(ConfigError, match=f"N <= {shards.MAX_SHARDS}"):
        shards.resolve(None, None, environ)
