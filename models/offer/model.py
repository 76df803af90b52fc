"""The offer model: a LightGBM multiclass classifier of the offer a customer takes next."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.contract import metrics
from shared.families.boosted import BoostedTreesModel

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

PLANS = ("basic", "standard", "premium")
REGIONS = ("north", "south", "east", "west")


class Offer(BoostedTreesModel):
    """Offer: the chance a customer takes each offer next, and the likeliest (LightGBM multiclass classifier)."""

    objective = "multiclass"
    classes = ("none", "discount", "upgrade", "bundle")
    label = "accepted_offer"
    numeric = ("tenure_months", "monthly_spend", "support_tickets_90d", "logins_30d", "devices")
    categorical = ("plan", "region")
    prediction = "offer"
    metrics = (metrics.multi_log_loss, metrics.accuracy, metrics.macro_f1, metrics.auc_ovr)

    def _make_sample(self, rows: int, rng: np.random.Generator) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        plan = rng.choice(PLANS, rows, p=[0.5, 0.35, 0.15])
        region = rng.choice(REGIONS, rows)
        tenure = rng.gamma(2.0, 12.0, rows).round(1)
        spend = rng.lognormal(3.3, 0.5, rows) * np.select([plan == "premium", plan == "standard"], [2.0, 1.4], 1.0)
        tickets = rng.poisson(0.8, rows)
        logins = rng.poisson(12, rows)
        devices = rng.integers(1, 7, rows)
        # One utility per offer; a customer takes the offer of highest utility plus noise (a multinomial logit).
        utility = np.column_stack(
            [
                np.full(rows, 1.0),  # none
                0.5 * tickets - 0.02 * tenure + np.where(plan == "basic", 0.6, 0.0),  # discount: unhappy, new
                0.06 * logins + 0.25 * devices - np.where(plan == "premium", 2.5, 0.0) - 0.8,  # upgrade: heavy use
                0.015 * spend + np.where(region == "south", 0.5, 0.0) - 0.5,  # bundle: big spenders
            ]
        )
        chosen = np.argmax(2.5 * utility + rng.gumbel(size=utility.shape), axis=1)
        spend = np.where(rng.random(rows) < 0.02, np.nan, spend.round(2))  # some accounts lack billing data
        return pd.DataFrame(
            {
                "customer_id": [f"C{i:07d}" for i in rng.permutation(rows)],
                "tenure_months": tenure,
                "monthly_spend": spend,
                "support_tickets_90d": tickets,
                "logins_30d": logins,
                "devices": devices,
                "plan": plan,
                "region": region,
                "accepted_offer": np.asarray(self.classes, dtype=object)[chosen],
            }
        )
