"""Shards: which contiguous slice of the input one process scores.

A shard is ``K/N`` (K counts from 0). It comes from ``--shard=K/N``, or from the orchestrator that fans the
work out: a Kubernetes Indexed Job (``JOB_COMPLETION_INDEX``, with the count from ``--shards`` or its
environment variable) or an AWS Batch array job (``AWS_BATCH_JOB_ARRAY_INDEX`` and
``AWS_BATCH_JOB_ARRAY_SIZE``). The input is cut into units (row groups of Parquet files, whole CSV files)
in a fixed order, and each shard takes a contiguous run of them, balanced by rows (bytes for CSV), so the
N shards together cover every unit exactly once, in order.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.errors import BadArgument, ConfigError, shown

K8S_INDEX = "JOB_COMPLETION_INDEX"
BATCH_INDEX, BATCH_SIZE = "AWS_BATCH_JOB_ARRAY_INDEX", "AWS_BATCH_JOB_ARRAY_SIZE"
MAX_SHARDS = 1_000_000  # the largest shard count, of --shard=K/N, --shards and the orchestrators' alike
_TEXT = re.compile(r"^\s*([0-9]+)\s*/\s*([0-9]+)\s*$")  # ASCII digits only
EXPECTED = f"K/N with 0 <= K < N <= {MAX_SHARDS}, e.g. 0/4 for the first of four shards"


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count``, and where that was read from."""

    index: int
    count: int
    source: str = "--shard"

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def part_name(self) -> str:
        """The partition file this shard writes; zero-padded so that names sort in shard order."""
        return f"part-{self.index:05d}-of-{self.count:05d}.parquet"


def check(text: str) -> str:
    """Validate ``K/N`` text as a parameter check; ValueError saying what is wrong."""
    problem = _problem(text)
    if problem:
        raise ValueError(problem)
    return text


def parse(text: str, source: str = "--shard") -> Shard:
    """Parse ``K/N``; BadArgument if it is not a shard of a count."""
    problem, numbers = _problem(text), _numbers(text)
    if problem or numbers is None:
        msg = f"{source} {problem}; got {shown(text)}"
        raise BadArgument(msg)
    return Shard(*numbers, source)


def _numbers(text: str) -> tuple[int, int] | None:
    """K and N of ``K/N`` text, or None if it is no such text or a number has more digits than MAX_SHARDS
    (never an int() of however many digits were typed)."""
    match = _TEXT.match(str(text))
    if match is None:
        return None
    digits = [group.lstrip("0") or "0" for group in match.groups()]
    if any(len(group) > len(str(MAX_SHARDS)) for group in digits):
        return None
    index, count = map(int, digits)
    return index, count


def _problem(text: str) -> str | None:
    match = _TEXT.match(str(text))
    if not match:
        return f"must be {EXPECTED}"
    numbers = _numbers(text)
    if numbers is None or numbers[1] > MAX_SHARDS:
        if numbers is None and len(match.group(2).lstrip("0")) <= len(str(MAX_SHARDS)):  # K alone is huge
            return f"must be {EXPECTED} (shard {match.group(1)[:10]}... of {int(match.group(2))} does not exist)"
        return f"must be {EXPECTED} (more than {MAX_SHARDS} shards: score fewer, larger slices)"
    index, count = numbers
    if count < 1 or index >= count:
        return f"must be {EXPECTED} (shard {index} of {count} does not exist)"
    return None


def resolve(flag: str | None, count: int | None, environ: Mapping[str, str] = os.environ) -> Shard | None:
    """Return this process's shard: ``--shard``, else the orchestrator's environment, else None (everything)."""
    if flag is not None:
        shard = parse(flag)
        if count is not None and count != shard.count:
            msg = f"--shard={flag} says {shard.count} shards but --shards={count}; give one count"
            raise BadArgument(msg)
        return shard
    if K8S_INDEX in environ:
        if count is None:
            msg = (
                f"{K8S_INDEX}={environ[K8S_INDEX]} is set (a Kubernetes Indexed Job) but the shard count is not; "
                "set --shards=N (or its environment variable) to the Job's completions"
            )
            raise ConfigError(msg)
        return _from_env(K8S_INDEX, environ[K8S_INDEX], str(count), "--shards")
    if BATCH_INDEX in environ:
        size = environ.get(BATCH_SIZE, "" if count is None else str(count))
        if count is not None and size != str(count):
            msg = f"{BATCH_SIZE}={size} but --shards={count}; give one count (or leave --shards out)"
            raise ConfigError(msg)
        return _from_env(BATCH_INDEX, environ[BATCH_INDEX], size, BATCH_SIZE)
    if count is not None:
        msg = f"--shards={count} needs this process's index: give --shard=K/{count}, or run as an Indexed Job"
        raise BadArgument(msg)
    return None


def assign(weights: Sequence[int], shard: Shard | None) -> range:
    """Return the positions of the units (in input order) that ``shard`` scores.

    Unit i goes to the shard where the middle of its weight falls, so shards are contiguous, balanced,
    and every unit belongs to exactly one shard. With no shard, every unit.
    """
    if shard is None:
        return range(len(weights))
    total, start, lo, hi = sum(weights), 0, len(weights), len(weights)
    for position, weight in enumerate(weights):
        owner = min(shard.count - 1, (2 * start + weight) * shard.count // (2 * total)) if total else 0
        if owner == shard.index and lo == len(weights):
            lo = position
        if owner > shard.index:
            hi = position
            break
        start += weight
    return range(min(lo, hi), hi)


def _from_env(variable: str, index: str, count: str, count_source: str) -> Shard:
    if not count:
        msg = f"{variable}={index} is set but {count_source} is not; set it to the array size"
        raise ConfigError(msg)
    try:
        shard = parse(f"{index}/{count}", f"{variable}={index} with {count_source}={count}: the shard")
    except BadArgument as exc:
        raise ConfigError(str(exc)) from None
    return Shard(shard.index, shard.count, variable)
