"""The regression losses reach LightGBM, and the never-negative ones never predict negative spend."""

import pytest

from models.ltv import Ltv
from shared.errors import BadData
from shared.storage import artifacts

FAST = {"n_estimators": 40, "num_threads": 1}


@pytest.fixture(scope="module")
def scoring():
    return Ltv()._sample_frame(2000, 31).drop(columns="ltv_12m")


@pytest.mark.parametrize("objective", ["regression", "regression_l1", "huber", "poisson", "tweedie", "gamma"])
def test_each_objective_reaches_lightgbm_and_is_recorded(tmp_path, scoring, objective):
    model = Ltv(store=str(tmp_path / "store"))
    result = model.train(objective=objective, **FAST)
    booster = artifacts.load(model, "latest").fitted
    assert booster.params["objective"] == objective
    predicted = model.score(scoring)["predictions"]["predicted_ltv"]
    if objective in ("poisson", "tweedie", "gamma"):
        assert (predicted > 0).all(), "a never-negative loss predicted a negative or zero spend"
    assert result["metrics"]["normalized_gini"] > 0.5


def test_the_loss_and_the_tweedie_power_change_the_model(tmp_path, scoring):
    def predictions(**changes):
        model = Ltv(store=str(tmp_path / f"s{len(list(tmp_path.iterdir()))}"))
        model.train(**FAST, **changes)
        return model.score(scoring)["predictions"]["predicted_ltv"]

    assert not predictions(objective="regression").equals(predictions(objective="regression_l1"))
    low = predictions(objective="tweedie", tweedie_variance_power=1.1)
    assert not low.equals(predictions(objective="tweedie", tweedie_variance_power=1.9))


@pytest.mark.parametrize(("objective", "value"), [("poisson", -1.0), ("tweedie", -0.5), ("gamma", 0.0)])
def test_a_label_a_never_negative_loss_cannot_learn_is_refused(tmp_path, objective, value):
    frame = Ltv()._sample_frame(400, 3)
    frame.loc[7, "ltv_12m"] = value
    with pytest.raises(BadData, match=f"--objective={objective} cannot learn"):
        Ltv(store=str(tmp_path / "s")).train(frame, objective=objective, **FAST)
    assert not (tmp_path / "s" / "ltv").exists()


def test_regression_params_are_the_regressors_and_binary_params_the_classifiers():
    from models.churn import Churn

    ltv_flags = {f for f in Ltv.estimator_params}
    churn_flags = {f for f in Churn.estimator_params}
    assert {"objective", "tweedie_variance_power"} <= ltv_flags - churn_flags
    assert {"scale_pos_weight", "is_unbalance"} <= churn_flags - ltv_flags


def test_a_label_gamma_cannot_learn_in_the_stopping_rows_is_bad_data(tmp_path):
    """The stopping rows are fit on too: their labels must suit the loss as well."""
    from shared.training.split import random_split

    frame = Ltv()._sample_frame(400, 3)
    stop_rows = random_split(len(frame), 0.2, 0, 0.1).stop
    frame.loc[stop_rows[0], "ltv_12m"] = 0.0
    with pytest.raises(BadData, match="--objective=gamma cannot learn"):
        Ltv(store=str(tmp_path / "s")).train(frame, objective="gamma", early_stopping_rounds=3, **FAST)
