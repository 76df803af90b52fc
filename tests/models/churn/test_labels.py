"""Labels as teams store them: 0/1, booleans, or two values of which the model declares the positive one."""

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from models.churn import Churn
from shared.contract import labels
from shared.errors import BadData

FAST = {"n_estimators": 10, "num_threads": 1}
ROWS = 600


def declaring(positive):
    """Churn, declaring which stored label value is the positive class."""
    return type("Churn", (Churn,), {"positive_label": positive, "name": "churn", "__doc__": Churn.__doc__})


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """The frame with its 0/1 label, what training on it reports, and what its version measures on it."""
    frame = Churn()._sample_frame(ROWS, 7)
    model = Churn(store=str(tmp_path_factory.mktemp("baseline")))
    return frame, model.train(frame, **FAST)["metrics"], model.evaluate(frame)["metrics"]


PAIRS = st.one_of(
    st.tuples(st.text(min_size=1, max_size=8), st.text(min_size=1, max_size=8)),
    st.tuples(st.integers(-5, 5), st.integers(-5, 5)),
    st.just((True, False)),
)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(pair=PAIRS, declare=st.booleans())
def test_a_label_stored_as_two_values_trains_like_zero_and_one(baseline, tmp_path_factory, pair, declare):
    positive, negative = pair
    assume(positive != negative)
    is_bool = isinstance(positive, bool)
    assume(declare or is_bool)  # only booleans need no declaration
    frame, expected, evaluated = baseline
    stored = frame.assign(churned=frame["churned"].map({1: positive, 0: negative}))
    model = (declaring(positive) if declare else Churn)(store=str(tmp_path_factory.mktemp("store")))
    trained = model.train(stored, **FAST)
    assert trained["metrics"] == expected
    assert model.evaluate(stored)["metrics"] == evaluated


@given(values=st.lists(st.text(min_size=1, max_size=6), min_size=3, max_size=3, unique=True))
def test_three_values_cannot_be_a_binary_label(values):
    frame = Churn()._sample_frame(30, 1)
    frame["churned"] = [values[i % 3] for i in range(len(frame))]
    with pytest.raises(BadData, match="can hold two values at most") as caught:
        labels.target(declaring(values[0])(), frame, "training data")
    assert all(repr(v)[:20] in str(caught.value) or "characters" in str(caught.value) for v in values)


@pytest.mark.parametrize(
    ("stored", "positive", "message"),
    [
        (["Yes", "No"], None, "holds 'No', 'Yes', not 0/1 or true/false; declare which value is the positive class"),
        (["Yes", "No"], "yes", "no row of label column 'churned' holds positive_label = 'yes'; found 'No', 'Yes'"),
    ],
)
def test_a_text_label_without_its_positive_value_is_refused_naming_the_values(stored, positive, message):
    frame = Churn()._sample_frame(30, 1)
    frame["churned"] = [stored[i % 2] for i in range(len(frame))]
    with pytest.raises(BadData, match=message.replace("(", r"\(").replace(")", r"\)")):
        labels.target(declaring(positive)(), frame, "training data")


def test_booleans_in_a_csv_train_through_the_command_line(modelfleet, tmp_path, baseline):
    """true/false in a CSV are a label: the same version as 0/1."""
    frame, _, _ = baseline
    frame.assign(churned=frame["churned"].astype(bool)).to_csv(tmp_path / "t.csv", index=False)
    frame.to_csv(tmp_path / "n.csv", index=False)
    results = []
    for name in ("t.csv", "n.csv"):
        args = ["churn", "train", f"--data={tmp_path / name}", f"--store={tmp_path / 's'}", "--n_estimators=10"]
        done = modelfleet([*args, "--num_threads=1"])
        assert done.returncode == 0, done.stderr
        results.append(json.loads(done.stdout)["metrics"])
    assert results[0] == results[1]


@pytest.mark.parametrize("positive", [False, True])
def test_a_declared_positive_label_applies_to_booleans_too(baseline, tmp_path, positive):
    frame, _, _ = baseline
    stored = frame.assign(churned=frame["churned"].astype(bool))
    model = declaring(positive)(store=str(tmp_path / "s"))
    model.train(stored, **FAST)
    mean = model.score(frame.drop(columns="churned"))["predictions"]["churn_probability"].mean()
    leavers = frame["churned"].mean()
    assert abs(mean - (leavers if positive else 1 - leavers)) < 0.1


def test_a_declared_positive_label_the_booleans_never_hold_is_refused(baseline):
    frame, _, _ = baseline
    with pytest.raises(BadData, match="no row of label column 'churned' holds positive_label = 'Yes'"):
        labels.target(declaring("Yes")(), frame.assign(churned=frame["churned"].astype(bool)), "training data")


def test_a_numpy_positive_label_is_recorded(baseline, tmp_path):
    import numpy as np

    frame, expected, _ = baseline
    assert declaring(np.int64(1))(store=str(tmp_path / "s")).train(frame, **FAST)["metrics"] == expected
