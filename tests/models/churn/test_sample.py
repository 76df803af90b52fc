"""The embedded sample is optional, and a version trained on it says so."""

import pytest

from models.churn import Churn
from shared import conformance
from shared.errors import MissingInput
from shared.families.boosted import BoostedTreesModel


class Plain(BoostedTreesModel):
    """Plain: churn's columns and metrics, and no embedded sample."""

    name = "churn"
    label = Churn.label
    numeric = Churn.numeric
    categorical = Churn.categorical
    prediction = Churn.prediction
    metrics = Churn.metrics


@pytest.mark.parametrize(
    ("call", "trained_first"),
    [
        (lambda m: m.train(), False),
        (lambda m: m.sample(), False),
        (lambda m: type(m)(store=m._store_url, dry_run=True).train(), False),
        (lambda m: m.evaluate(), True),
        (lambda m: m.score(), True),
    ],
    ids=["train", "sample", "train-dry-run", "evaluate", "score"],
)
def test_a_model_without_a_sample_needs_data_and_says_so(store_url, call, trained_first):
    model = Plain(store=store_url)
    if trained_first:
        model.train(Churn()._sample_frame(1000, 2), n_estimators=10)
    with pytest.raises(MissingInput, match="model 'churn' has no embedded sample: give --data") as caught:
        call(model)
    assert caught.value.exit_code == 66


def test_a_model_without_a_sample_trains_on_data(store_url):
    result = Plain(store=store_url).train(Churn()._sample_frame(1000, 2), n_estimators=10)
    assert "trained_on_sample" not in result


def test_a_version_trained_on_the_sample_is_marked_in_the_result_the_manifest_and_describe(store_url, caplog):
    model = Churn(store=store_url)
    assert model.train(n_estimators=10)["trained_on_sample"] is True
    assert "a demonstration version" in caplog.text
    assert model.describe()["versions"][-1]["trained_on_sample"] is True
    real = model.train(Churn()._sample_frame(1000, 3), n_estimators=10)
    assert "trained_on_sample" not in real
    assert "trained_on_sample" not in model.describe()["versions"][-1]


@pytest.mark.parametrize(
    "check", conformance.checks(Plain, data=Churn()._sample_frame(3000, 8)), ids=conformance.check_id
)
def test_a_model_without_a_sample_passes_the_conformance_suite_on_rows_of_its_own(check, tmp_path):
    """The conformance suite takes the model's own rows instead of an embedded sample."""
    check(tmp_path)
