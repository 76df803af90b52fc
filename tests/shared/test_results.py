"""Command results print as one line of JSON."""

import json
from pathlib import Path

import numpy as np
import pytest

from shared.results import to_json


def test_numpy_values_paths_and_non_finite_numbers_become_json():
    """numpy scalars become numbers, paths strings, NaN null; the output is one line."""
    text = to_json({"auc": np.float64(0.75), "n": np.int64(3), "path": Path("/a"), "bad": float("nan")})
    assert "\n" not in text
    assert json.loads(text) == {"auc": 0.75, "n": 3, "path": "/a", "bad": None}


def test_non_json_values_are_refused():
    """A command may not return something JSON cannot carry."""
    with pytest.raises(TypeError, match="must be JSON data"):
        to_json({"x": object()})
