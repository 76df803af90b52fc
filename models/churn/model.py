"""The churn model: a LightGBM binary classifier on account activity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.contract import metrics
from shared.families.boosted import BoostedTreesModel

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

PLANS = ("basic", "standard", "premium")
REGIONS = ("north", "south", "east", "west")
PAYMENT = ("card", "invoice", "paypal")


class Churn(BoostedTreesModel):
    """Churn: probability that a customer leaves in the next 90 days (LightGBM binary classifier)."""

    objective = "binary"
    label = "churned"
    numeric = ("tenure_months", "monthly_spend", "support_tickets_90d", "logins_30d", "discount_pct")
    categorical = ("plan", "region", "payment_method")
    prediction = "churn_probability"
    metrics = (metrics.auc, metrics.log_loss, metrics.precision_at_top_decile)

    def _make_sample(self, rows: int, rng: np.random.Generator) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        plan = rng.choice(PLANS, rows, p=[0.5, 0.35, 0.15])
        region = rng.choice(REGIONS, rows)
        payment = rng.choice(PAYMENT, rows, p=[0.6, 0.25, 0.15])
        tenure = rng.gamma(2.0, 12.0, rows).round(1)
        spend = rng.lognormal(3.3, 0.5, rows) * np.select([plan == "premium", plan == "standard"], [2.0, 1.4], 1.0)
        tickets = rng.poisson(0.8, rows)
        logins = rng.poisson(12, rows)
        discount = rng.choice([0.0, 5.0, 10.0, 20.0], rows, p=[0.6, 0.2, 0.15, 0.05])
        # Short tenure, many support tickets, few logins and invoice payment raise the risk of leaving.
        logit = (
            0.6
            - 0.07 * tenure
            + 0.9 * tickets
            - 0.12 * logins
            + 0.04 * discount
            + np.where(payment == "invoice", 0.9, 0.0)
            + np.where(plan == "premium", -0.8, 0.0)
            + np.where(region == "south", 0.4, 0.0)
            + rng.normal(0, 0.3, rows)
        )
        churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype("int8")
        spend = np.where(rng.random(rows) < 0.02, np.nan, spend.round(2))  # some accounts lack billing data
        return pd.DataFrame(
            {
                "customer_id": [f"C{i:07d}" for i in rng.permutation(rows)],
                "tenure_months": tenure,
                "monthly_spend": spend,
                "support_tickets_90d": tickets,
                "logins_30d": logins,
                "discount_pct": discount,
                "plan": plan,
                "region": region,
                "payment_method": payment,
                "churned": churned,
            }
        )
