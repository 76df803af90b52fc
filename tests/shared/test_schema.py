"""The feature schema matches columns by name and maps categories to training levels."""

import pandas as pd
import pytest

from shared.errors import BadData
from shared.schema import Schema


@pytest.fixture
def training():
    """Training data with two numeric features and one categorical feature."""
    return pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 0.1, 0.2], "plan": ["pro", "team", "pro"], "y": [0, 1, 0]})


@pytest.fixture
def schema(training):
    """The schema learned from the training data."""
    return Schema.learn(training, ("a", "b"), ("plan",))


def test_levels_are_learned_sorted_and_survive_the_manifest(schema):
    """Levels come from training data and round-trip through plain JSON data."""
    assert schema.categorical == {"plan": ("pro", "team")}
    assert schema == Schema.from_dict(schema.to_dict())


def test_features_are_typed_in_model_order_and_extra_columns_dropped(schema, training):
    """The model sees float64 numbers and categoricals in schema order; the label is not a feature."""
    features = schema.features(training[["plan", "y", "b", "a"]])
    assert list(features.columns) == ["a", "b", "plan"]
    assert features["a"].dtype == "float64"


def test_unseen_level_becomes_missing(schema):
    """A category never seen in training is scored as missing."""
    features = schema.features(pd.DataFrame({"a": [1], "b": [1.0], "plan": ["enterprise"]}))
    assert features["plan"].isna().all()


def test_missing_columns_are_named(schema):
    """The error names each missing column and lists what the input has."""
    with pytest.raises(BadData, match=r"lacks required column\(s\) 'b', 'plan'; it has: 'a'"):
        schema.features(pd.DataFrame({"a": [1]}))


def test_non_numeric_values_are_refused_with_an_example(schema):
    """Junk in a numeric column is reported with a count and an example."""
    with pytest.raises(BadData, match="column 'a' must be numeric; 1 value"):
        schema.features(pd.DataFrame({"a": ["1", "N/A"], "b": [1.0, 2.0], "plan": ["pro", "pro"]}))


def test_no_rows_is_bad_data(schema, training):
    """An empty input is refused rather than scored to an empty result by accident."""
    with pytest.raises(BadData, match="no rows"):
        schema.features(training.iloc[:0])


def test_input_frame_is_not_changed(schema, training):
    """Typing features works on a copy."""
    before = training.copy()
    schema.features(training)
    pd.testing.assert_frame_equal(before, training)


def test_integer_levels_match_however_they_were_read():
    """Codes learned as 1..3 match when a blank makes the scoring column float (1.0, 2.0, NaN)."""
    schema = Schema.learn(pd.DataFrame({"a": [1, 2, 3], "k": [1, 2, 3]}), ("a",), ("k",))
    scoring = pd.DataFrame({"a": [1.0, 2.0, 3.0], "k": [1.0, None, 3.0]})
    features = schema.features(scoring)
    assert [None if pd.isna(v) else v for v in features["k"]] == ["1", None, "3"]
    assert schema.report(scoring)["unseen_levels"] == {}
