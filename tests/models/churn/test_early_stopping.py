"""Early stopping: boosting stops on rows set apart for it, and the metrics come from rows that neither fitting
nor stopping saw; the stored version holds the best round."""

import json

import lightgbm
import numpy as np
import pandas as pd
import pytest

from models.churn import Churn
from shared.storage import artifacts
from shared.storage.store import Store
from shared.training.split import random_split

SETTINGS = {"n_estimators": 3000, "learning_rate": 0.3, "early_stopping_rounds": 10, "num_threads": 1}


@pytest.fixture(scope="module")
def stopped(tmp_path_factory):
    """A churn version trained with early stopping on a file, its held-out rows written out."""
    root = tmp_path_factory.mktemp("stopped")
    frame = Churn()._sample_frame(4000, 12)
    frame.to_parquet(root / "train.parquet", index=False)
    model = Churn(store=str(root / "store"))
    result = model.train(str(root / "train.parquet"), holdout_output=str(root / "held.parquet"), **SETTINGS)
    return root, frame, model, result


def test_the_three_parts_are_disjoint_and_the_metrics_come_from_the_held_out_part(stopped):
    root, frame, model, result = stopped
    manifest = Store(str(root / "store")).resolve("churn")
    split = manifest["split"]
    assert split["rows"] == {"fit": 2800, "stop": 400, "valid": 800}
    again = random_split(len(frame), split["valid_fraction"], split["seed"], split["stop_fraction"])
    fit, stop, valid = set(again.fit), set(again.stop), set(again.valid)
    assert not (fit & stop)
    assert not (fit & valid)
    assert not (stop & valid)
    assert fit | stop | valid == set(range(len(frame)))
    held = pd.read_parquet(root / "held.parquet")
    assert held["customer_id"].tolist() == frame["customer_id"].iloc[sorted(valid)].tolist()
    assert model.evaluate(str(root / "held.parquet"))["metrics"] == result["metrics"]
    assert result["rows"] == {"train": 2800, "stop": 400, "valid": 800}


def test_boosting_stopped_on_the_stopping_rows_and_the_version_holds_the_best_round(stopped):
    """LightGBM by hand, stopping on the stopping rows only, stops at the same round and predicts the same."""
    root, frame, model, _ = stopped
    manifest = Store(str(root / "store")).resolve("churn")
    best = manifest["best_iteration"]
    assert 1 <= best < SETTINGS["n_estimators"] - SETTINGS["early_stopping_rounds"]
    assert artifacts.load(model, "latest").fitted.current_iteration() == best

    split = random_split(len(frame), 0.2, 0, 0.1)
    fit_rows = frame.iloc[split.fit]
    columns = [*Churn.numeric, *Churn.categorical]

    def prepared(rows):
        out = rows[columns].copy()
        for name in Churn.categorical:
            out[name] = pd.Categorical(out[name], categories=sorted(fit_rows[name].unique()))
        return out

    params = {
        "objective": "binary",
        "learning_rate": 0.3,
        "num_leaves": 31,
        "min_data_in_leaf": 20,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "feature_fraction": 0.8,
        "lambda_l2": 0.0,
        "seed": 0,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": 1,
        "early_stopping_round": 10,
        "verbose": -1,
    }
    train = lightgbm.Dataset(prepared(fit_rows), label=fit_rows["churned"], categorical_feature=list(Churn.categorical))
    stop_rows = frame.iloc[split.stop]
    stopping = lightgbm.Dataset(prepared(stop_rows), label=stop_rows["churned"], reference=train)
    booster = lightgbm.train(params, train, num_boost_round=SETTINGS["n_estimators"], valid_sets=[stopping])
    assert booster.best_iteration == best
    held = frame.iloc[split.valid]
    stored = model.score(held.drop(columns="churned"))["predictions"]["churn_probability"].to_numpy()
    np.testing.assert_allclose(stored, booster.predict(prepared(held)), rtol=0, atol=1e-12)


def test_early_stopping_without_stopping_rows_is_refused(modelfleet, tmp_path):
    args = ["churn", "train", f"--store={tmp_path / 's'}", "--early_stopping_rounds=5", "--stop_fraction=0"]
    done = modelfleet(args)
    assert done.returncode == 64, done.stderr
    assert "--early_stopping_rounds needs rows to stop on" in done.stderr
    assert not (tmp_path / "s" / "churn").exists()


def test_without_early_stopping_no_rows_are_set_apart(tmp_path):
    result = Churn(store=str(tmp_path / "s")).train(n_estimators=20, stop_fraction=0.3)
    assert result["split"]["rows"] == {"fit": 4000, "valid": 1000}
    assert "stop_fraction" not in json.dumps(result["split"])


def test_early_stopping_with_dart_is_refused_not_ignored(modelfleet, tmp_path):
    """LightGBM only warns that dart cannot stop early, and boosts every round: refused (64) instead."""
    args = ["churn", "train", f"--store={tmp_path / 's'}", "--early_stopping_rounds=5", "--boosting=dart"]
    done = modelfleet(args)
    assert done.returncode == 64, done.stderr
    assert "early stopping is not available with --boosting=dart" in done.stderr


@pytest.mark.parametrize("args", [["--stop_fraction=0"], ["--boosting=dart"]])
def test_early_stopping_settings_that_cannot_work_are_refused_in_a_dry_run(modelfleet, tmp_path, args):
    done = modelfleet(["churn", "train", f"--store={tmp_path / 's'}", "--early_stopping_rounds=5", *args, "--dry_run"])
    assert done.returncode == 64, done.stderr
