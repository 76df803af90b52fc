"""Parameters are parsed by their annotation, never guessed from their text."""

import datetime as dt
from typing import Annotated, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.contract.params import Bounds, Spec, hyperparameters
from shared.errors import BadArgument
from shared.families.boosted import BoostingParams

RUN_ID = Spec("run_id", str | None, None, "Run id.")
ROWS = Spec("rows", Annotated[int, Bounds(ge=1)], 5000, "Rows.")
RATE = Spec("learning_rate", Annotated[float, Bounds(gt=0, le=1)], 0.1, "Rate.")
DAY = Spec("day", dt.date | None, None, "Day.")
MODE = Spec("mode", Literal["fast", "exact"], "fast", "Mode.")
COLUMNS = Spec("columns", list[str] | None, None, "Columns.")
FLAG = Spec("verbose", bool, False, "Flag.")


@pytest.mark.parametrize(
    ("spec", "text", "expected"),
    [
        (RUN_ID, "20241010", "20241010"),
        (RUN_ID, "007", "007"),
        (RUN_ID, "None", "None"),
        (RUN_ID, "1e3", "1e3"),
        (ROWS, "300", 300),
        (RATE, "1", 1.0),
        (DAY, "2024-10-10", dt.date(2024, 10, 10)),
        (MODE, "exact", "exact"),
        (COLUMNS, "a,b", ["a", "b"]),
        (COLUMNS, '["a,b", "c"]', ["a,b", "c"]),
        (FLAG, True, True),
        (FLAG, False, False),
        (FLAG, "no", False),
    ],
)
def test_text_is_parsed_by_the_annotation(spec, text, expected):
    """Digit strings stay strings, numbers become numbers, dates dates; nothing is guessed."""
    assert expected == spec.from_text(text)


@pytest.mark.parametrize(
    ("spec", "text", "message"),
    [
        (ROWS, "abc", "--rows must be int >= 1: input should be a valid integer"),
        (ROWS, "0", "--rows must be int >= 1: input should be greater than or equal to 1; got '0'"),
        (ROWS, "2.5", "--rows must be int >= 1"),
        (RATE, "0", "--learning_rate must be float > 0 and <= 1"),
        (DAY, "2024-13-01", "--day must be date (YYYY-MM-DD)"),
        (MODE, "slow", "--mode must be one of 'fast', 'exact'"),
        (FLAG, "maybe", "--verbose must be true or false; got 'maybe'"),
        (ROWS, True, "--rows must be a value; got no value"),
        (ROWS, "1_000", "--rows must be int; got '1_000'"),
        (RATE, "0.1_0", "--learning_rate must be float; got '0.1_0'"),
    ],
)
def test_bad_text_names_the_flag_what_was_expected_and_what_was_given(spec, text, message):
    """A bad value raises BadArgument (exit 64) with the flag, the expectation and the value."""
    with pytest.raises(BadArgument) as info:
        spec.from_text(text)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("spec", "value"), [(RUN_ID, "007"), (ROWS, 12), (RATE, 0.3), (DAY, dt.date(2020, 2, 29)), (COLUMNS, ["x", "y"])]
)
def test_to_text_parses_back_to_the_same_value(spec, value):
    """The text written for a value parses back to that value."""
    assert value == spec.from_text(spec.to_text(value))


def test_hyperparameters_fold_bounds_into_the_annotation():
    """A dataclass field's bounds become constraints the parser enforces and the manifest shows."""
    specs = {spec.name: spec for spec in hyperparameters(BoostingParams)}
    assert specs["learning_rate"].constraints() == {"gt": 0, "le": 1}
    assert specs["n_estimators"].help == "Boosting rounds."
    with pytest.raises(BadArgument, match="must be int >= 1"):
        specs["n_estimators"].from_python(0)


def test_describe_is_plain_data():
    """The description a tool reads has type, default, bounds and environment variable."""
    assert RATE.describe("churn") == {
        "type": "float",
        "help": "Rate.",
        "required": False,
        "default": 0.1,
        "constraints": {"gt": 0, "le": 1},
        "env": "MODELFLEET_CHURN_LEARNING_RATE",
    }


@given(value=st.one_of(st.integers(), st.floats(), st.booleans(), st.lists(st.integers(), max_size=2)))
def test_a_date_from_python_or_a_config_is_never_a_number(value):
    """A config's `as_of: 0` or a library's `as_of=86400` is refused, never read as seconds since 1970."""
    with pytest.raises(BadArgument, match="day must be date"):
        DAY.from_python(value)


@given(day=st.dates(), spelled=st.sampled_from(["iso", "basic"]))
def test_a_date_as_text_means_the_same_from_every_source(day, spelled):
    """Text is read by the command line's rule wherever it comes from: a flag, a variable, a config, Python."""
    text = day.isoformat() if spelled == "iso" else day.strftime("%Y%m%d")
    if len(text) not in (8, 10):
        return  # years before 1000 are not written with four digits by strftime
    assert DAY.from_python(text) == DAY.from_text(text) == day
    assert DAY.from_python(day) == day


def _optional_specs():
    import importlib

    from shared.commands import BUILT_IN
    from shared.contract.params import signature_specs

    return [
        pytest.param(spec, id=f"{command}--{spec.name}")
        for command, module in BUILT_IN
        for spec in signature_specs(getattr(importlib.import_module(module), command))
        if spec.optional and spec.default is None
    ]


@pytest.mark.parametrize("spec", _optional_specs())
def test_none_from_python_is_an_optional_parameter_left_out(spec):
    """Every optional parameter of every command takes None from Python (a wrapper passing its own defaults
    through), and gives None, as if it were left out; from text None is no value."""
    assert spec.from_python(None) is None
