"""The prepared features as one float64 matrix, in schema order: what LightGBM and the compiled engine read."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def matrix(features: pd.DataFrame) -> np.ndarray:
    """Return the features as one float64 matrix; categoricals become their codes, unseen levels NaN.

    Building the matrix ourselves, in schema order, means LightGBM never matches columns by position
    against a caller's frame and never depends on pandas' own category mapping.
    """
    import numpy as np

    matrix = np.empty((len(features), features.shape[1]), dtype="float64")
    for i, name in enumerate(features.columns):
        column = features[name]
        if column.dtype == "category":
            codes = column.cat.codes.to_numpy()
            matrix[:, i] = np.where(codes < 0, np.nan, codes)
        else:
            matrix[:, i] = column.to_numpy(dtype="float64", na_value=np.nan)
    return matrix
