"""A multiclass report's numbers over generated class codes and probabilities: the confusion table, each class's
one-vs-rest ROC and its counts are scikit-learn's, a tie goes to the class declared first, a class no row holds
has no ROC area, and the size stays bounded whatever the rows."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("sklearn", reason="compared with scikit-learn's: these run in the offer env (tox.ini)")
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score

from shared.contract import metrics
from shared.monitoring import curves


@st.composite
def multiclass_rows(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Class codes and a probability matrix; with few levels, ties within a row and across rows are likely."""
    k, n = draw(st.integers(2, 6)), draw(st.integers(1, 2000))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    y = rng.integers(0, draw(st.integers(1, k)), n)  # at times, the last classes hold no row
    if draw(st.booleans()):
        raw = rng.integers(0, draw(st.integers(1, 4)) + 1, (n, k)).astype("float64")
        raw[raw.sum(axis=1) == 0] = 1.0
    else:
        raw = rng.random((n, k))
    return y, raw / raw.sum(axis=1, keepdims=True)


@settings(max_examples=120, deadline=None)
@given(rows=multiclass_rows())
def test_the_confusion_table_rocs_and_per_class_counts_are_scikit_learns(rows):
    y, p = rows
    k = p.shape[1]
    classes = tuple(f"class {c}" for c in range(k))
    found = curves.multiclass(y, p, classes)
    chosen = p.argmax(axis=1)
    assert found["classes"] == list(classes)
    assert found["rows"] == len(y)
    assert found["confusion"] == confusion_matrix(y, chosen, labels=range(k)).tolist()
    precision, recall, f1, support = precision_recall_fscore_support(y, chosen, labels=range(k), zero_division=0)
    for c, entry in enumerate(found["per_class"]):
        assert entry["class"] == classes[c]
        assert (entry["actual"], entry["predicted"]) == (support[c], (chosen == c).sum())
        assert entry["correct"] == ((y == c) & (chosen == c)).sum()
        for name, expected in (("precision", precision), ("recall", recall), ("f1", f1)):
            assert entry[name] == pytest.approx(expected[c], rel=1e-5, abs=1e-9), name
    areas = []
    for c, roc in enumerate(found["roc"]):
        assert roc["class"] == classes[c]
        assert len(roc["fpr"]) == len(roc["tpr"]) <= curves.POINTS
        assert roc["fpr"][0] == roc["tpr"][0] == 0.0
        assert roc["fpr"] == sorted(roc["fpr"])
        assert roc["tpr"] == sorted(roc["tpr"])
        if 0 < (y == c).sum() < len(y):
            assert roc["auc"] == pytest.approx(roc_auc_score(y == c, p[:, c]), abs=1e-5)
            assert roc["auc"] == pytest.approx(metrics.auc(y == c, p[:, c]), abs=1e-5)
            areas.append(roc["auc"])
        else:
            assert roc["auc"] is None
    if areas:  # auc_ovr is the mean of the areas of the classes the rows hold
        assert np.mean(areas) == pytest.approx(metrics.auc_ovr(y, p), abs=1e-5)


@pytest.mark.parametrize(
    ("row", "chosen"),
    [
        ([1 / 3, 1 / 3, 1 / 3], 0),
        ([0.2, 0.4, 0.4], 1),
        ([0.4, 0.2, 0.4], 0),
        ([0.0, 0.0, 1.0], 2),
    ],
    ids=["all-tied", "middle-and-last", "first-and-last", "no-tie"],
)
def test_a_tie_goes_to_the_class_declared_first(row, chosen):
    p = np.array([row] * 4)
    y = np.array([0, 1, 2, 2])
    found = curves.multiclass(y, p, ("a", "b", "c"))
    assert [column for column in zip(*found["confusion"], strict=True)] == [
        (1, 1, 2) if c == chosen else (0, 0, 0) for c in range(3)
    ]
    assert [e["predicted"] for e in found["per_class"]] == [4 if c == chosen else 0 for c in range(3)]


@pytest.mark.parametrize("absent", [0, 1, 2])
def test_a_class_no_row_holds_has_an_empty_row_and_no_roc_area(absent):
    rng = np.random.default_rng(absent)
    p = rng.dirichlet([1, 1, 1], 500)
    y = rng.choice([c for c in range(3) if c != absent], 500)
    found = curves.multiclass(y, p, (10, 20, 30))  # whole-number classes are named as text
    assert found["classes"] == ["10", "20", "30"]
    assert found["confusion"][absent] == [0, 0, 0]
    assert sum(map(sum, found["confusion"])) == 500
    entry = found["per_class"][absent]
    assert (entry["actual"], entry["correct"], entry["recall"]) == (0, 0, 0.0)
    assert found["roc"][absent]["auc"] is None
    areas = [roc["auc"] for c, roc in enumerate(found["roc"]) if c != absent]
    assert np.mean(areas) == pytest.approx(metrics.auc_ovr(y, p), abs=1e-5)


def test_one_row_of_each_class_at_most_still_makes_curves():
    found = curves.multiclass(np.array([1]), np.array([[0.2, 0.8]]), ("no", "yes"))
    assert found["confusion"] == [[0, 0], [0, 1]]
    assert [roc["auc"] for roc in found["roc"]] == [None, None]  # one row: nothing to rank it against


def test_half_a_million_rows_of_eight_classes_make_curves_of_at_most_a_few_hundred_points():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 8, 500_000)
    found = curves.multiclass(y, rng.dirichlet(np.ones(8), 500_000), tuple("abcdefgh"))
    assert sum(map(sum, found["confusion"])) == 500_000
    assert all(len(roc["fpr"]) == curves.POINTS for roc in found["roc"])
