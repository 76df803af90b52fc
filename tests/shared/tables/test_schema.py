"""The feature schema matches columns by name and maps categories to training levels."""

import json

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import ArtifactRejected, BadData
from shared.tables.schema import Feature, Schema


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
    assert schema == Schema.from_manifest(schema.to_manifest())


names = st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=8, unique=True)


@st.composite
def declarations(draw):
    """Feature names in declaration order, each numeric or categorical."""
    columns = draw(names)
    return {name: draw(st.sampled_from(["numeric", "categorical"])) for name in columns}


def of_kind(declared, kind):
    return tuple(name for name, k in declared.items() if k == kind)


@given(declarations())
def test_declared_order_survives_any_json_writer(declared):
    """The order is a list in the manifest: sorted keys, or any reading of the JSON, keep it."""
    frame = pd.DataFrame({n: ["x", "y"] if k == "categorical" else [1.0, 2.0] for n, k in declared.items()})
    numeric, categorical = of_kind(declared, "numeric"), of_kind(declared, "categorical")
    schema = Schema.learn(frame, numeric, categorical)
    stored = json.loads(json.dumps({"features": schema.to_manifest()}, sort_keys=True))
    loaded = Schema.from_manifest(stored["features"])
    assert loaded.columns == [*numeric, *categorical]
    assert loaded == schema
    assert list(loaded.features(frame).columns) == loaded.columns


@given(names, st.data())
def test_model_file_order_must_be_the_manifest_order(columns, data):
    """Any disagreement with the model file's own feature list, in names, order or count, refuses the version."""
    schema = Schema(tuple(Feature(name, "numeric") for name in columns))
    recorded = data.draw(
        st.one_of(st.permutations(columns), st.lists(st.sampled_from(columns), max_size=len(columns) + 2), names)
    )
    if list(recorded) == columns:
        assert schema.aligned(list(recorded), [], "v") == schema
    else:
        with pytest.raises(ArtifactRejected, match="the model file's features") as caught:
            schema.aligned(list(recorded), [], "v")
        assert str(list(recorded)) in str(caught.value), "the message names the model file's order"
        assert str(columns) in str(caught.value), "the message names the manifest's order"


@given(st.permutations(["basic", "plus", "pro"]), st.data())
def test_model_file_levels_must_be_the_manifest_levels(levels, data):
    """The codes a model file was trained on mean the manifest's levels, in the same order, or the version is
    refused: levels in another order would score every row as another category."""
    schema = Schema((Feature("a", "numeric"), Feature("plan", "categorical", ("basic", "plus", "pro"))))
    stored = data.draw(st.one_of(st.just(levels), st.lists(st.sampled_from(["basic", "plus", "pro", "x"]))))
    if list(stored) == ["basic", "plus", "pro"]:
        assert schema.aligned(["a", "plan"], ["plan"], "v", {"plan": list(stored)}) == schema
    else:
        with pytest.raises(ArtifactRejected, match="codes 'plan' as levels"):
            schema.aligned(["a", "plan"], ["plan"], "v", {"plan": list(stored)})


def test_model_file_kinds_must_be_the_manifest_kinds(schema):
    """A model file that treats another column as categorical does not belong to this manifest."""
    with pytest.raises(ArtifactRejected, match=r"treats \['a'\] as categorical"):
        schema.aligned(["a", "b", "plan"], ["a"], "v")


@given(declarations(), st.data())
def test_legacy_manifest_takes_the_model_file_order(declared, data):
    """A manifest written before ordered lists (a mapping, sorted keys) scores in the model file's order."""
    categorical = of_kind(declared, "categorical")
    legacy = {"numeric": list(of_kind(declared, "numeric")), "categorical": {n: ["a", "b"] for n in categorical}}
    order = list(data.draw(st.permutations(list(declared))))
    schema = Schema.from_manifest(json.loads(json.dumps(legacy, sort_keys=True)), legacy=True)
    aligned = schema.aligned(order, list(categorical), "v")
    assert aligned.columns == order
    assert not aligned.legacy
    with pytest.raises(ArtifactRejected):
        schema.aligned([*order, "extra"], None, "v")


@pytest.mark.parametrize(
    "features",
    [
        None,
        [],
        {"numeric": ["a"], "categorical": {}},
        [{"name": "a"}],
        [{"name": "a", "kind": "date"}],
        [{"name": "a", "kind": "numeric"}] * 2,
        [{"name": "a", "kind": "categorical"}],
        [{"name": "a", "kind": "categorical", "levels": "abc"}],
        [{"name": "a", "kind": "categorical", "levels": ["x", "x"]}],
        [{"name": "a", "kind": "categorical", "levels": [1, 2]}],
    ],
    ids=[
        "none",
        "empty",
        "mapping-in-schema-2",
        "no-kind",
        "bad-kind",
        "duplicate",
        "no-levels",
        "levels-text",
        "duplicate-levels",
        "levels-numbers",
    ],
)
def test_malformed_feature_lists_refuse_the_version(features):
    """A feature list that cannot be read refuses the version (exit 3) rather than guessing."""
    with pytest.raises(ArtifactRejected, match="feature list"):
        Schema.from_manifest(features, "churn version v")


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


@given(names=st.lists(st.text(min_size=1, max_size=3000), min_size=1, max_size=30, unique=True))
def test_column_names_in_a_message_are_cut_whatever_they_hold(names):
    """Spaces and all, a column name is echoed cut to about 80 characters, so the message stays short."""
    import pandas as pd

    from shared.tables.schema import require_columns

    frame = pd.DataFrame({name: [1] for name in names})
    if "plan" in names:
        return
    with pytest.raises(BadData) as caught:
        require_columns(frame, ["plan"], "input")
    assert len(str(caught.value)) < 13 * 110 + 100
