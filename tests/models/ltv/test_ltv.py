"""LTV learns the signal of its sample and predicts spend."""

from models.ltv import Ltv


def test_orders_customers_by_value(store_url):
    """Held-out normalised Gini is high: the model ranks big spenders first."""
    metrics = Ltv(store=store_url).train()["metrics"]
    assert metrics["normalized_gini"] > 0.6
    assert metrics["mae"] < metrics["rmse"]


def test_beats_predicting_the_mean(store_url):
    """The model's held-out RMSE is below that of always predicting the average."""
    model = Ltv(store=store_url)
    rmse = model.train()["metrics"]["rmse"]
    fresh = Ltv()._sample_frame(5000, 11)
    assert rmse < fresh["ltv_12m"].std() * 0.9
