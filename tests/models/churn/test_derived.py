"""Derived features: computed the same way in train, evaluate and score, whole or streamed and sharded."""

import pandas as pd
import pytest

from models.churn import Churn
from shared import conformance
from shared.errors import BadData, ModelDefinitionError


class Derived(Churn):
    """Churn with two derived features: spend per login (numeric) and a tenure band (categorical)."""

    name = "churn"
    numeric = (*Churn.numeric, "spend_per_login")
    categorical = (*Churn.categorical, "tenure_band")
    derived = ("spend_per_login", "tenure_band")
    derived_from = ("monthly_spend", "logins_30d", "tenure_months")

    def _derive(self, rows):
        return pd.DataFrame(
            {
                "spend_per_login": rows["monthly_spend"] / (rows["logins_30d"] + 1),
                "tenure_band": pd.cut(rows["tenure_months"], [-1, 6, 24, 10_000], labels=["new", "mid", "old"]).astype(
                    str
                ),
            }
        )


@pytest.mark.parametrize("check", conformance.checks(Derived), ids=conformance.check_id)
def test_a_model_with_derived_features_passes_the_conformance_suite(check, tmp_path):
    """Among them: streamed and sharded scoring (Parquet and CSV, small batches) equals whole-frame scoring."""
    check(tmp_path)


def test_the_derived_features_are_learned_and_recorded(store_url):
    model = Derived(store=store_url)
    model.train(n_estimators=20)
    features = [entry["feature"] for entry in model.describe()["versions"][-1]["importance"]]
    assert "spend_per_login" in features
    assert "tenure_band" in features


def test_an_input_without_what_a_derived_feature_needs_is_refused(store_url, tmp_path):
    model = Derived(store=store_url)
    model.train(n_estimators=20)
    frame = Churn()._sample_frame(200, 4).drop(columns=["churned", "logins_30d"])
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    for data in (frame, str(tmp_path / "in.parquet")):
        with pytest.raises(BadData, match="'logins_30d'"):
            model.score(data, output=str(tmp_path / "out.parquet")) if isinstance(data, str) else model.score(data)
    assert not (tmp_path / "out.parquet").exists()


def test_a_derive_that_returns_other_columns_is_a_model_definition_error(store_url):
    broken = type("Derived", (Derived,), {"_derive": lambda self, rows: rows, "__doc__": "Broken."})
    with pytest.raises(ModelDefinitionError, match="_derive must return a DataFrame of the columns"):
        broken(store=store_url).train(n_estimators=5)


def test_the_streaming_check_catches_a_derive_that_looks_at_other_rows(tmp_path):
    """Negative control: a feature centred on its batch's mean scores differently in batches than whole."""

    def centred(self, rows):
        base = Derived._derive(self, rows)
        return base.assign(spend_per_login=base["spend_per_login"] - base["spend_per_login"].mean())

    leaky = type("Derived", (Derived,), {"_derive": centred, "__doc__": Derived.__doc__})
    with pytest.raises(AssertionError):
        conformance.check_streams_and_shards_like_whole_file(leaky, tmp_path)
