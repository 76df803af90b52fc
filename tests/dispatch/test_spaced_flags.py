"""``--flag value`` is ``--flag=value``: for every parameter of every command, both spellings parse to the same
Call; a bool flag never takes the next token, nor does any flag take one that starts with ``--``."""

import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch import registry
from dispatch.commandline import parse, short_flags, spaced_values, specs_for
from shared.errors import BadArgument, UsageError

POOL = [
    "latest", "champion", "champion@1", "0/2", "1/3", "a.parquet", "out/", "x", "2024-01-31", "auc>=0.7",
    "none", "-1", "-0.5", "-3e2", "0", "1", "0.5", "3", "200", "a,b", "day", "random", "time", "off", "text",
]  # fmt: skip
CALLS = [(model, command) for model in registry.names() for command in registry.load(model, require=False).commands]


def fitting(spec) -> list[str]:
    """The texts of POOL (and the spec's own choices) that the parameter takes."""
    choices = [str(c) for c in typing.get_args(spec.base)] if typing.get_origin(spec.base) is typing.Literal else []
    found = []
    for text in [*choices, *POOL]:
        try:
            spec.from_text(text)
        except BadArgument:  # a text this parameter refuses: try the next
            continue
        found.append(text)
    return found


@pytest.mark.parametrize(("model", "command"), CALLS)
def test_every_value_flag_has_a_value_to_try(model, command):
    """The property below covers every parameter: each takes some text of the pool."""
    specs = specs_for(registry.load(model, require=False), command)
    assert [name for name, spec in specs.items() if not spec.flag and not fitting(spec)] == []


@settings(max_examples=15, deadline=None)
@given(data=st.data())
@pytest.mark.parametrize(("model", "command"), CALLS)
def test_flag_space_value_parses_like_flag_equals_value(model, command, data):
    specs = specs_for(registry.load(model, require=False), command)
    aliases = {name: short for short, name in short_flags(specs).items() if short != "h"}
    chosen = data.draw(st.lists(st.sampled_from(sorted(specs)), unique=True, max_size=len(specs)))
    equals, spaced = [], []
    for name in chosen:
        spec = specs[name]
        if spec.flag:
            token = data.draw(st.sampled_from([f"--{name}", f"--no{name}"]))
            equals.append(token)
            spaced.append(token)
            continue
        text = data.draw(st.sampled_from(fitting(spec)))
        flag = data.draw(st.sampled_from([f"--{name}", *([f"-{aliases[name]}"] if name in aliases else [])]))
        equals.append(f"--{name}={text}")
        spaced += data.draw(st.sampled_from([[flag, text], [f"{flag}={text}"]]))
    assert parse([model, command, *spaced]) == parse([model, command, *equals])
    assert set(parse([model, command, *equals]).values) == set(chosen)


@pytest.mark.parametrize(
    ("tokens", "joined"),
    [
        (["--seed", "1"], ["--seed=1"]),
        (["--seed", "-1"], ["--seed=-1"]),  # a negative number is a value
        (["--learning_rate", "-.5"], ["--learning_rate=-.5"]),
        (["--data", "--seed=1"], ["--data", "--seed=1"]),  # a flag is never a value
        (["--data", "-x"], ["--data", "-x"]),
        (["--is_unbalance", "1"], ["--is_unbalance", "1"]),  # a bool flag takes no value
        (["--seed=1", "2"], ["--seed=1", "2"]),
        (["--seed"], ["--seed"]),
        (["--nosuch", "1"], ["--nosuch", "1"]),  # an unknown flag is left for the error that names it
        (["-l", "0.1"], ["--learning_rate=0.1"]),
        (["--learning-rate", "0.1"], ["--learning_rate=0.1"]),
    ],
)
def test_which_tokens_join(tokens, joined):
    assert spaced_values(tokens, specs_for(registry.load("churn", require=False), "train")) == joined


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "--seed=1"], "--data needs a value"),
        (["--is_unbalance", "yes"], "unexpected argument 'yes'"),
        (["--seed", "1", "--seed=2"], "flag --seed given more than once"),
        (["--n_estimator", "5"], "(did you mean '--n_estimators'?)"),
    ],
)
def test_spaced_mistakes_are_still_usage_errors(args, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        parse(["churn", "train", *args])
