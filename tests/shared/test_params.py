"""Hyperparameters are validated by name, type and bounds."""

import pytest

from shared.boosted import BoostingParams
from shared.errors import BadArgument
from shared.params import validate


def test_defaults_apply_when_nothing_is_given():
    """An empty call gives the declared defaults."""
    assert BoostingParams() == validate(BoostingParams, {})


def test_valid_values_are_kept_and_ints_widen_to_float():
    """Given values replace defaults; an int is fine where a float is expected."""
    cfg = validate(BoostingParams, {"n_estimators": 300, "learning_rate": 1})
    assert (cfg.n_estimators, cfg.learning_rate) == (300, 1.0)
    assert isinstance(cfg.learning_rate, float)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"n_estimators": 0}, "--n_estimators must be >= 1; got 0"),
        ({"n_estimators": "abc"}, "--n_estimators must be int; got 'abc'"),
        ({"n_estimators": 2.5}, "--n_estimators must be int; got 2.5"),
        ({"learning_rate": 0}, "--learning_rate must be in (0, 1]; got 0.0"),
        ({"learning_rate": 1.5}, "--learning_rate must be in (0, 1]; got 1.5"),
        ({"num_leaves": True}, "--num_leaves must be int; got True"),
        ({"n_estimatorz": 3}, "unknown hyperparameter 'n_estimatorz'"),
    ],
)
def test_bad_values_are_refused_with_a_message_naming_the_flag(values, message):
    """Each bad value raises BadArgument saying what was expected and what was given."""
    with pytest.raises(BadArgument) as info:
        validate(BoostingParams, values)
    assert str(info.value).startswith(message)
