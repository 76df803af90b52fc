"""dispatch.argv builds validated argument lists that parse back to the same typed call."""

import datetime as dt
import math
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dispatch
from dispatch import registry
from dispatch.commandline import parse, specs_for
from shared.contract.params import Spec
from shared.errors import BadArgument, UsageError
from shared.storage.versions import ALIAS, AT_GENERATION, VERSION_ID

# Text a command line can carry: anything but NUL and lone surrogates, and not empty (an empty value is refused).
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=30)


def values_for(spec: Spec) -> st.SearchStrategy:
    """Valid values of one parameter, within its declared bounds."""
    base, bounds = spec.base, spec.constraints()
    if spec.choices():
        return st.sampled_from(spec.choices())
    ids = st.from_regex(VERSION_ID, fullmatch=True).filter(lambda v: ".." not in v)
    aliases = st.from_regex(ALIAS, fullmatch=True).filter(lambda v: v != "latest")
    if spec.name == "run_id":
        return ids
    if spec.name in ("version", "against"):
        return ids | st.just("latest") | aliases | st.from_regex(AT_GENERATION, fullmatch=True)
    if spec.name in ("alias", "promote"):
        return aliases
    if spec.name == "gate":
        condition = st.tuples(
            st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True),
            st.sampled_from([">=", "<=", ">", "<"]),
            st.floats(-1e6, 1e6, allow_nan=False),
        )
        return st.lists(condition, min_size=1, max_size=3).map(lambda cs: ",".join(f"{m}{o}{v!r}" for m, o, v in cs))
    if spec.name == "expect":
        return ids | st.just("none")
    if spec.name == "shard":
        return st.integers(1, 1000).flatmap(lambda n: st.integers(0, n - 1).map(lambda k: f"{k}/{n}"))
    if base is bool:
        return st.booleans()
    if base is int:
        low = bounds.get("ge", bounds["gt"] + 1 if "gt" in bounds else -(10**12))
        high = bounds.get("le", bounds["lt"] - 1 if "lt" in bounds else 10**12)
        return st.integers(int(low), int(high))
    if base is float:
        return st.floats(
            bounds.get("ge", bounds.get("gt", -1e12)),
            bounds.get("le", bounds.get("lt", 1e12)),
            exclude_min="gt" in bounds,
            exclude_max="lt" in bounds,
            allow_nan=False,
        )
    if base is dt.date:
        return st.dates()
    if typing.get_origin(base) is list:
        return st.lists(TEXT, max_size=4)
    return TEXT


CALLS = [(model, command) for model in registry.names() for command in registry.load(model, require=False).commands]


@pytest.mark.parametrize(("model", "command"), CALLS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_argv_round_trips_every_command_of_every_model(model, command, data):
    """For any valid call, parsing argv(call) gives back the same typed values."""
    specs = specs_for(registry.load(model, require=False), command)
    params = data.draw(st.fixed_dictionaries({}, optional={n: values_for(s) for n, s in specs.items()}))
    args = dispatch.argv(model, command, **params)
    call = parse(args)
    assert (model, command) == (call.model, call.command)
    expected = {name: specs[name].from_python(value) for name, value in params.items()}
    assert expected.keys() == call.values.keys()
    for name, value in expected.items():
        got = call.values[name]
        assert value == got or (isinstance(value, float) and math.isclose(value, got)), (name, value, got)


def test_argv_keeps_digit_strings_as_strings():
    """A string '007' stays '007' and a run id of digits stays text."""
    args = dispatch.argv("churn", "train", run_id="007", n_estimators=300, dry_run=True)
    assert args == ["churn", "train", "--run_id=007", "--n_estimators=300", "--dry_run"]
    assert parse(args).values["run_id"] == "007"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (("nosuch", "train", {}), UsageError, "unknown model 'nosuch'"),
        (("churn", "fit", {}), UsageError, "unknown command for 'churn': 'fit'"),
        (("churn", "train", {"n_estimatorz": 3}), UsageError, "did you mean '--n_estimators'?"),
        (("churn", "train", {"n_estimators": "many"}), BadArgument, "--n_estimators must be int >= 1"),
        (("churn", "score", {"shard": "4/4"}), BadArgument, "--shard must be K/N with 0 <= K < N"),
        (("churn", "score", {"shard": "half"}), BadArgument, "--shard must be K/N"),
        (("churn", "train", {"run_id": "2024/10/10"}), BadArgument, "--run_id must be a version id"),
        (("churn", "train", {"as_of": "2024-02-30"}), BadArgument, "--as_of must be date"),
        (("churn", "train", {"api_key": "x"}), UsageError, "looks like a secret"),
        (("churn", "score", {"output": None}), BadArgument, "leave the flag out"),
    ],
)
def test_argv_refuses_what_the_cli_would_refuse(call, error, message):
    """A DAG with a wrong name or value fails when argv is called, i.e. when the DAG is parsed."""
    model, command, params = call
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        dispatch.argv(model, command, **params)


def test_readme_example():
    """The README's dispatch.argv example gives what it shows."""
    args = dispatch.argv("churn", "train", n_estimators=300, run_id="007", as_of=dt.date(2024, 10, 10))
    assert args == ["churn", "train", "--n_estimators=300", "--run_id=007", "--as_of=2024-10-10"]
