"""Baseline for the train benchmark: the same job written by hand, straight against LightGBM.

Read the Parquet file, hold out the same 20% of rows, train with the same parameters modelfleet's churn
model uses by default, measure AUC on the held-out rows, save the model. Usage: train_lightgbm.py DATA OUT
"""

import sys

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

NUMERIC = ["tenure_months", "monthly_spend", "support_tickets_90d", "logins_30d", "discount_pct"]
CATEGORICAL = ["plan", "region", "payment_method"]
PARAMS = {
    "objective": "binary",
    "boosting": "gbdt",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "feature_fraction": 0.8,
    "lambda_l2": 0.0,
    "seed": 0,
    "num_threads": 0,
    "deterministic": True,
    "force_col_wise": True,
    "verbose": -1,
}


def main(data: str, out: str) -> None:
    frame = pd.read_parquet(data, columns=[*NUMERIC, *CATEGORICAL, "churned"])
    for name in CATEGORICAL:
        frame[name] = frame[name].astype("category")
    order = np.random.default_rng(0).permutation(len(frame))
    n_valid = round(len(frame) * 0.2)
    fit, valid = np.sort(order[n_valid:]), np.sort(order[:n_valid])
    features = frame[NUMERIC + CATEGORICAL]
    dataset = lgb.Dataset(features.iloc[fit], label=frame["churned"].iloc[fit], categorical_feature=CATEGORICAL)
    booster = lgb.train(PARAMS, dataset, num_boost_round=200)
    auc = roc_auc_score(frame["churned"].iloc[valid], booster.predict(features.iloc[valid]))
    booster.save_model(out)
    print(f"auc {auc:.4f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
