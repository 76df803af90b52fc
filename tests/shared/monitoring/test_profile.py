"""The reference profile's counts: fixed bins, exact merges of any partition, one convention at train and score."""

import itertools
import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from shared.monitoring import profile

VALUES = hnp.arrays(
    np.float64,
    st.integers(0, 300),
    elements=st.one_of(
        st.floats(-1e6, 1e6, allow_nan=False),
        st.sampled_from([0.0, 1.0, 2.0, np.nan, np.inf, -np.inf]),  # ties, missing, infinities
    ),
)


def _parts(draw: st.DrawFn, length: int) -> list[slice]:
    cuts = sorted(draw(st.lists(st.integers(0, length), max_size=6)))
    bounds = [0, *cuts, length]
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


@settings(max_examples=200, deadline=None)
@given(reference=VALUES, batch=VALUES, data=st.data())
def test_numeric_counts_of_any_partition_merge_to_the_counts_of_the_whole(reference, batch, data):
    entry = {"kind": "numeric", "edges": profile.edges(reference)}
    whole = profile.count(entry, batch)
    parts = [profile.count(entry, batch[part]) for part in _parts(data.draw, len(batch))]
    merged = parts[0]
    for part in parts[1:]:
        merged = profile.merge(merged, part)
    assert merged == whole
    assert sum(whole["counts"]) + whole["missing"] == whole["rows"] == len(batch)


@settings(max_examples=200, deadline=None)
@given(reference=VALUES)
def test_edges_are_increasing_values_that_occur_and_each_value_lands_in_its_bin(reference):
    found = profile.edges(reference)
    assert len(found) <= profile.BINS - 1
    assert found == sorted(set(found))
    assert set(found) <= {float(v) for v in reference}
    entry = {"kind": "numeric", "edges": found}
    bounds = [-math.inf, *found, math.inf]
    for value in reference[np.isfinite(reference)][:50]:
        counts = profile.count(entry, np.array([value]))["counts"]
        k = counts.index(1)
        assert bounds[k] < value <= bounds[k + 1]  # bin k is (edges[k-1], edges[k]]


@settings(max_examples=100, deadline=None)
@given(codes=st.lists(st.integers(-1, 4), max_size=200), data=st.data())
def test_categorical_counts_are_per_level_in_code_order_and_merge_exactly(codes, data):
    column = pd.Series(pd.Categorical.from_codes(np.array(codes, dtype="int8"), categories=list("abcde")))
    entry = {"kind": "categorical", "levels": 5}
    whole = profile.count(entry, column)
    assert whole["counts"] == [codes.count(k) for k in range(5)]
    assert whole["missing"] == codes.count(-1)
    parts = [profile.count(entry, column.iloc[part]) for part in _parts(data.draw, len(codes))]
    merged = parts[0]
    for part in parts[1:]:
        merged = profile.merge(merged, part)
    assert merged == whole


def test_a_feature_of_few_values_gets_fewer_bins():
    values = np.array([0.0] * 50 + [1.0] * 30 + [2.0] * 20)
    entry = {"kind": "numeric", "edges": profile.edges(values)}
    assert entry["edges"] == [0.0, 1.0]
    assert profile.count(entry, values)["counts"] == [50, 30, 20]


def test_segments_the_model_can_give_are_profiled_even_if_no_held_out_row_got_one():
    import types

    schema = types.SimpleNamespace(entries=[])
    found = profile.capture(schema, pd.DataFrame(index=range(4)), np.array([0, 0, 2, 2]), segments=[0, 1, 2, 3])
    assert found["prediction"]["segments"] == [0, 1, 2, 3]
    assert found["prediction"]["counts"] == [2, 0, 2, 0]
    counted = profile.count(found["prediction"], np.array([1, 3, 3, 7]))
    assert (counted["counts"], counted["unseen"]) == ([0, 1, 0, 2], 1)  # only 7 is a segment it cannot give
