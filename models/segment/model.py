"""The segmentation model: k-means over recency, frequency, spend and channel preferences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from shared.contract import metrics
from shared.contract.params import param
from shared.families.clustering import ClusteringModel

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

CHANNELS = ("web", "store", "app")
REGIONS = ("north", "south", "east", "west")
# Latent segments of the sample: (recency days, orders a year, yearly spend, basket size, web share).
PROFILES = (
    (10, 30, 3000, 100, 0.8),  # loyal online regulars
    (25, 12, 900, 75, 0.2),  # store shoppers
    (120, 3, 250, 80, 0.5),  # lapsing occasionals
    (40, 6, 2400, 400, 0.4),  # big-basket buyers
)


@dataclass(frozen=True)
class SegmentParams:
    """k-means hyperparameters."""

    n_segments: int = param(4, "Number of segments to find.", ge=2, le=50)
    n_init: int = param(4, "k-means restarts; the best run is kept.", ge=1, le=1000)
    max_iter: int = param(300, "Maximum k-means iterations per restart.", ge=1, le=100_000)
    seed: int = param(0, "Random seed: the same seed and data give the same segments.", ge=0, le=2**31 - 1)


class Segment(ClusteringModel):
    """Segment: behavioural customer segments from recency, frequency and spend (scikit-learn k-means)."""

    label = None
    numeric = ("recency_days", "orders_12m", "spend_12m", "avg_basket", "web_share")
    categorical = ("preferred_channel", "region")
    Params = SegmentParams
    estimator = "sklearn.cluster:KMeans"
    estimator_params: ClassVar[dict[str, str]] = {
        "n_segments": "n_clusters",
        "n_init": "n_init",
        "max_iter": "max_iter",
        "seed": "random_state",
    }
    metrics = (metrics.silhouette, metrics.segment_sizes)

    def _make_sample(self, rows: int, rng: np.random.Generator) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        profile = np.asarray(PROFILES)[rng.choice(len(PROFILES), rows, p=[0.25, 0.35, 0.25, 0.15])]
        web_share = np.clip(profile[:, 4] + rng.normal(0, 0.1, rows), 0, 1)
        channel = np.where(web_share > 0.6, "web", np.where(rng.random(rows) < 0.3, "app", "store"))
        return pd.DataFrame(
            {
                "customer_id": [f"C{i:07d}" for i in rng.permutation(rows)],
                "recency_days": rng.gamma(4.0, profile[:, 0] / 4.0).round(),
                "orders_12m": rng.poisson(profile[:, 1]),
                "spend_12m": (profile[:, 2] * rng.lognormal(0, 0.25, rows)).round(2),
                "avg_basket": (profile[:, 3] * rng.lognormal(0, 0.2, rows)).round(2),
                "web_share": web_share.round(3),
                "preferred_channel": channel,
                "region": rng.choice(REGIONS, rows),
            }
        )
