"""The customer-value model: a LightGBM regressor of spend over the next 12 months."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.contract import metrics
from shared.families.boosted import BoostedTreesModel

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

CHANNELS = ("organic", "paid_search", "social", "referral")
DEVICES = ("desktop", "ios", "android")


class Ltv(BoostedTreesModel):
    """LTV: expected spend of a customer over the next 12 months (LightGBM regressor)."""

    objective = "regression"
    label = "ltv_12m"
    numeric = ("tenure_months", "orders_12m", "avg_order_value", "days_since_last_order", "email_opens_30d")
    categorical = ("acquisition_channel", "device")
    prediction = "predicted_ltv"
    metrics = (metrics.rmse, metrics.mae, metrics.normalized_gini)

    def _make_sample(self, rows: int, rng: np.random.Generator) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        channel = rng.choice(CHANNELS, rows, p=[0.4, 0.3, 0.2, 0.1])
        device = rng.choice(DEVICES, rows, p=[0.5, 0.3, 0.2])
        tenure = rng.gamma(2.5, 10.0, rows).round(1)
        orders = rng.poisson(4, rows)
        aov = rng.lognormal(3.6, 0.45, rows).round(2)
        recency = rng.exponential(45, rows).round()
        opens = rng.poisson(3, rows)
        # Frequent, recent, engaged customers with large baskets keep spending; referrals spend more.
        rate = (orders + 0.5) * np.exp(-recency / 120) * (1 + 0.05 * opens) * (1 + 0.004 * tenure)
        rate *= np.select([channel == "referral", channel == "social"], [1.4, 0.85], 1.0)
        rate *= np.where(device == "ios", 1.15, 1.0)
        ltv = rng.gamma(4.0, rate * aov / 4.0).round(2)
        return pd.DataFrame(
            {
                "customer_id": [f"C{i:07d}" for i in rng.permutation(rows)],
                "tenure_months": tenure,
                "orders_12m": orders,
                "avg_order_value": aov,
                "days_since_last_order": recency,
                "email_opens_30d": opens,
                "acquisition_channel": channel,
                "device": device,
                "ltv_12m": ltv,
            }
        )
