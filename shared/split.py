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
    stop: Any = ()  # rows that decide early stopping: neither fit on nor measured on
    stop_fraction: float = 0.0

    def to_manifest(self) -> dict[str, Any]:
        """What the manifest records: enough to choose the same rows again from the same input."""
        stopping = {"stop_fraction": self.stop_fraction} if len(self.stop) else {}
        return {
            "method": self.method,
            "seed": self.seed,
            "valid_fraction": self.valid_fraction,
            **stopping,
            "rows": {
                "fit": len(self.fit),
                **({"stop": len(self.stop)} if len(self.stop) else {}),
                "valid": len(self.valid),
            },
        }


def random_split(rows: int, valid_fraction: float, seed: int, stop_fraction: float = 0.0) -> Split:
    """Hold out ``round(rows * valid_fraction)`` rows (at least one) chosen by a permutation seeded with ``seed``;
    with ``stop_fraction``, the next ``round(rows * stop_fraction)`` rows of that permutation are the stopping
    rows. The held-out rows are the same with or without stopping rows."""
    import numpy as np

    order = np.random.default_rng(seed).permutation(rows)
    n_valid = max(1, round(rows * valid_fraction))
    n_stop = max(1, round(rows * stop_fraction)) if stop_fraction else 0
    valid, stop, fit = order[:n_valid], order[n_valid : n_valid + n_stop], order[n_valid + n_stop :]
    return Split("random", seed, valid_fraction, np.sort(fit), np.sort(valid), np.sort(stop), stop_fraction)
