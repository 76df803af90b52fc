"""A multiclass model's declaration, its label as class codes, and the columns it writes: checked without LightGBM."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.contract import labels
from shared.errors import BadData, ModelDefinitionError
from shared.families import multiclass
from shared.families.boosted import BoostedTreesModel, MulticlassParams
from shared.families.clustering import ClusteringModel
from shared.tables.stream import NULL_TEXT

texts = st.text(st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=8).filter(
    lambda t: t not in NULL_TEXT
)
whole = st.lists(st.integers(-5, 50), min_size=2, max_size=6, unique=True)
declared = st.one_of(st.lists(texts, min_size=2, max_size=6, unique=True), whole).map(tuple)


def define(**body):
    """A multiclass model class with ``body`` declared (classes, objective...)."""
    return type("Grade", (BoostedTreesModel,), {"objective": "multiclass", "label": "grade", **body})


@given(classes=declared)
def test_any_two_or_more_distinct_classes_of_one_kind_define_a_model(classes):
    model = define(classes=classes, prediction="grade_predicted")()
    assert model.Params is MulticlassParams
    names = [name for name, _ in model._outputs()]
    assert names == ["grade_predicted", *(f"probability_{c}" for c in classes)]  # the declared order, kept
    assert model._outputs()[0][1] == ("string" if isinstance(classes[0], str) else "int64")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "declare its classes as a tuple of at least two"),
        ({"classes": ("only",)}, "at least two"),
        ({"classes": ["a", "b"]}, "as a tuple"),
        ({"classes": ("a", 1)}, "all text"),
        ({"classes": (True, False)}, "all text"),
        ({"classes": (1.5, 2.5)}, "all text"),
        ({"classes": ("a", "")}, "is blank"),
        ({"classes": ("a", "b\n")}, "does not print"),
        ({"classes": ("a", "b", "a")}, "name 'a' more than once"),
        ({"classes": ("a", "b"), "prediction": "probability_a"}, "is the predicted class"),
        ({"classes": ("id", "b"), "id_column": "probability_id"}, "is the id column"),
        ({"classes": ("a", "b"), "objective": "binary"}, "set objective = 'multiclass'"),
        ({"classes": ("a", "b"), "objective": "multi_class"}, "declare one of binary, multiclass, regression, or"),
        ({"classes": (" a", "b")}, "has spaces around it"),
        ({"classes": ("a", "b ")}, "has spaces around it"),
        ({"classes": ("a", " ")}, "is blank"),
        ({"classes": ("a", "a\u200b")}, "does not print"),
        ({"classes": ("a", "b\x85")}, "does not print"),
        ({"classes": ("NA", "b")}, "reads as a missing value in a CSV file"),
        ({"classes": ("a", "null")}, "reads as a missing value in a CSV file"),
        ({"classes": (2**70, 1)}, "outside the 64-bit integers"),
        ({"classes": ("a", "b"), "positive_label": "a"}, "positive_label is a binary model's"),
    ],
)
def test_a_declaration_that_cannot_work_is_refused_as_the_class_is_defined(body, says):
    with pytest.raises(ModelDefinitionError, match=says):
        define(**body)


@given(classes=declared, data=st.data())
def test_the_label_becomes_each_rows_position_in_the_declared_classes(classes, data):
    rows = data.draw(st.lists(st.sampled_from(classes), min_size=1, max_size=30))
    codes = labels.classes(pd.Series(rows, dtype=object), "grade", classes, "training data")
    assert codes.tolist() == [classes.index(value) for value in rows]


@given(classes=declared, data=st.data())
def test_a_label_value_outside_the_classes_is_refused_naming_it(classes, data):
    """The rule for a class training never saw: refused, in training data and in data to evaluate alike."""
    stranger = data.draw(st.one_of(texts, st.integers(-5, 50)).filter(lambda v: v not in classes))
    rows = [*data.draw(st.lists(st.sampled_from(classes), max_size=10)), stranger]
    with pytest.raises(BadData, match=r"1 row\(s\) of a class the model does not declare") as caught:
        labels.classes(pd.Series(rows, dtype=object), "grade", classes, "data to evaluate")
    assert caught.value.exit_code == 65
    assert "data to evaluate" in str(caught.value)
    assert "drop those rows" in str(caught.value)


def test_numbers_read_as_floats_or_nullable_ints_are_the_whole_number_classes():
    """A CSV reads 1, 2, 3 as int64, a Parquet file may hold float64 or Int64: each is the class it equals."""
    for values in (pd.Series([3.0, 1.0]), pd.Series([3, 1], dtype="Int64"), pd.Series([3, 1], dtype="int8")):
        assert labels.classes(values, "grade", (1, 2, 3), "training data").tolist() == [2, 0]
    with pytest.raises(BadData, match=r"1\.5"):
        labels.classes(pd.Series([1.5, 1.0]), "grade", (1, 2, 3), "training data")
    with pytest.raises(BadData, match="true/false"):
        labels.classes(pd.Series([True, False]), "grade", (0, 1, 2), "training data")


@given(
    probabilities=st.lists(st.lists(st.sampled_from([0.0, 0.25, 0.5]), min_size=3, max_size=3), max_size=20),
)
def test_the_predicted_class_is_the_likeliest_and_a_tie_goes_to_the_class_declared_first(probabilities):
    model = define(classes=("c", "a", "b"))()
    matrix = np.asarray(probabilities, dtype="float64").reshape(len(probabilities), 3)
    values = model._output_values(matrix)
    expected = [("c", "a", "b")[row.index(max(row))] for row in probabilities]  # list.index: the first maximum
    assert values[model.prediction].tolist() == expected
    assert [values[f"probability_{c}"].tolist() for c in ("c", "a", "b")] == matrix.T.tolist()
    assert model._drift_values(matrix).tolist() == [("c", "a", "b").index(c) for c in expected]


def test_every_class_must_have_rows_to_fit_and_the_held_out_rows_two_classes():
    model = define(classes=("a", "b", "c"))()
    with pytest.raises(BadData, match="no row to fit holds class 'b'"):
        model._check_learnable(pd.Series([0, 2, 0, 2]), pd.Series([0, 2]))
    with pytest.raises(BadData, match="held-out rows all have 'grade' = 'c'"):
        model._check_learnable(pd.Series([0, 1, 2]), pd.Series([2, 2]))
    multiclass.check_learnable(model, pd.Series([0, 1, 2]), pd.Series([1, 2]))  # fine


def test_numpy_whole_numbers_are_whole_number_classes():
    """Classes built with NumPy (np.arange, a column's unique values) are the Python integers they equal."""
    model = define(classes=tuple(np.arange(3, dtype="int64")))
    assert model.classes == (0, 1, 2)
    assert all(type(c) is int for c in model.classes)  # as the manifest records them (JSON)


def test_classes_on_a_clustering_model_are_refused():
    with pytest.raises(ModelDefinitionError, match="only a multiclass boosted-trees model has"):
        type("Groups", (ClusteringModel,), {"classes": ("a", "b"), "__doc__": "Groups."})


def test_python_booleans_in_a_label_of_objects_are_refused_not_read_as_0_and_1():
    with pytest.raises(BadData, match="true/false"):
        labels.classes(pd.Series([True, False, 2, 1], dtype=object), "grade", (0, 1, 2), "training data")


def test_a_regressors_loss_declared_as_the_objective_still_defines_a_model():
    """`objective = "tweedie"` (the tutorial's spend model) is a regressor with that loss fixed, as before."""
    import typing

    from shared.families import boosted

    offered = typing.get_args(typing.get_type_hints(boosted.RegressionParams)["objective"])
    assert set(boosted.REGRESSION_LOSSES) == set(offered)
    for loss in offered:
        model = type("Spend", (BoostedTreesModel,), {"objective": loss, "label": "spend", "numeric": ("x",)})()
        assert model.objective == loss
        assert model.classes == ()
