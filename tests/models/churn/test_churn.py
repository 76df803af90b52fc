"""Churn learns the signal of its sample and scores probabilities."""

from models.churn import Churn
from shared.storage import artifacts


def test_learns_its_sample_clearly_above_chance(store_url):
    """Held-out AUC on the embedded sample is far above 0.5 and the top decile is enriched in leavers."""
    metrics = Churn(store=store_url).train()["metrics"]
    assert metrics["auc"] > 0.72
    assert metrics["precision_at_top_decile"] > 0.5


def test_predictions_are_probabilities(store_url):
    """Scores lie in [0, 1]."""
    model = Churn(store=store_url)
    model.train(n_estimators=20)
    scores = model.score(Churn()._sample_frame(200, 3).drop(columns="churned"))["predictions"]["churn_probability"]
    assert scores.between(0, 1).all()


def test_hyperparameters_reach_lightgbm(store_url):
    """--n_estimators sets the number of trees in the stored model."""
    model = Churn(store=store_url)
    model.train(n_estimators=7, num_leaves=4)
    _, manifest, _, booster = artifacts.load(model, "latest")[:4]
    assert booster.num_trees() == 7
    assert manifest["params"]["n_estimators"] == 7
