"""Shards: K/N parsing, the orchestrators' environment, and contiguous balanced assignment."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import shards
from shared.errors import BadArgument, ConfigError
from shared.shards import Shard


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
