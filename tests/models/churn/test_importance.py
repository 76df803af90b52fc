"""Feature importance (gain and split) is recorded with each boosted-trees version and shown by describe."""

import math

from models.churn import Churn
from shared.storage import artifacts
from shared.storage.store import Store


def test_importance_is_what_the_stored_model_file_measures(store_url):
    model = Churn(store=store_url)
    model.train(n_estimators=30, num_threads=1)
    manifest = Store(store_url).resolve("churn")
    recorded = manifest["importance"]
    assert [entry["feature"] for entry in recorded] == [feature["name"] for feature in manifest["features"]]
    booster = artifacts.load(model, "latest").fitted
    gains = dict(zip(booster.feature_name(), booster.feature_importance("gain"), strict=True))
    splits = dict(zip(booster.feature_name(), booster.feature_importance("split"), strict=True))
    for entry in recorded:
        assert math.isclose(entry["gain"], gains[entry["feature"]], rel_tol=1e-12)
        assert entry["split"] == splits[entry["feature"]]
    assert sum(entry["split"] for entry in recorded) > 0
    described = model.describe()["versions"][-1]["importance"]
    assert described == recorded
    top = max(recorded, key=lambda entry: entry["gain"])["feature"]
    assert top in ("support_tickets_90d", "tenure_months", "logins_30d")  # the sample's strongest signals
