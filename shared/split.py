"""How `train` holds rows out to measure its metrics: the split is data of the version, separate from the model.

The random split draws one permutation of the row positions with ``numpy.random.default_rng(split_seed)``;
the first ``round(rows * valid_fraction)`` positions (at least one) are held out, the rest are fit rows.
Both parts keep the input's row order. The same rows, fraction and ``split_seed`` always hold out the same
rows, whatever the model's own ``seed``; the manifest records how they were chosen, and
``train --holdout_output`` writes them out so anyone can measure the stored version on exactly those rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Split:
    """Row positions to fit on and to hold out, and how they were chosen."""

    method: str
    seed: int
    valid_fraction: float
    fit: Any  # numpy arrays of row positions, ascending
    valid: Any

    def to_manifest(self) -> dict[str, Any]:
        """What the manifest records: enough to choose the same rows again from the same input."""
        return {
            "method": self.method,
            "seed": self.seed,
            "valid_fraction": self.valid_fraction,
            "rows": {"fit": len(self.fit), "valid": len(self.valid)},
        }


def random_split(rows: int, valid_fraction: float, seed: int) -> Split:
    """Hold out ``round(rows * valid_fraction)`` rows (at least one) chosen by a permutation seeded with ``seed``."""
    import numpy as np

    order = np.random.default_rng(seed).permutation(rows)
    n_valid = max(1, round(rows * valid_fraction))
    return Split("random", seed, valid_fraction, np.sort(order[n_valid:]), np.sort(order[:n_valid]))
