"""The drift tally and verdict: shard merges equal one pass exactly, and the verdict reads what the counts say."""

import itertools
import json
import types

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from shared.errors import ArtifactRejected, BadData
from shared.monitoring import drift, profile

LEVELS = list("abcd")
SCHEMA = types.SimpleNamespace(columns=("x", "y", "plan"))


def _reference(rng: np.random.Generator, rows: int = 2000) -> dict:
    fit = pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "y": np.where(rng.random(rows) < 0.1, np.nan, rng.integers(0, 4, rows).astype("float64")),
            "plan": pd.Categorical.from_codes(rng.integers(0, 4, rows), categories=LEVELS),
        }
    )
    entries = []
    for name in SCHEMA.columns:
        if name == "plan":
            entry = {"name": name, "kind": "categorical", "levels": len(LEVELS)}
        else:
            entry = {"name": name, "kind": "numeric", "edges": profile.edges(fit[name].to_numpy())}
        entries.append(entry | profile.count(entry, fit[name]))
    predicted = rng.random(500)
    prediction = {"kind": "numeric", "edges": profile.edges(predicted)}
    return {"rows": rows, "features": entries, "prediction": prediction | profile.count(prediction, predicted)}


NUMBERS = st.one_of(st.floats(-4, 4, allow_nan=False), st.sampled_from([0.0, 1.0, 2.0, np.nan]))  # ties, missing


@st.composite
def batches(draw):
    """A prepared batch as score hands it to the tally: numeric features (NaN for missing), a categorical one
    (code -1 for missing or unseen, with the unseen mask), and predictions."""
    rows = draw(st.integers(1, 120))
    x = draw(hnp.arrays(np.float64, rows, elements=NUMBERS))
    y = draw(hnp.arrays(np.float64, rows, elements=NUMBERS))
    codes = np.asarray(draw(st.lists(st.integers(-1, 3), min_size=rows, max_size=rows)), dtype="int8")
    unseen = (codes < 0) & np.asarray(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)))
    predicted = draw(hnp.arrays(np.float64, rows, elements=st.floats(0, 1)))
    frame = pd.DataFrame({"x": x, "y": y, "plan": pd.Categorical.from_codes(codes, categories=LEVELS)})
    return frame, {"plan": unseen}, predicted


@st.composite
def runs(draw):
    """The batches of one run and a partition of them into shards (a shard may get none)."""
    run = draw(st.lists(batches(), min_size=1, max_size=6))
    cuts = sorted(draw(st.lists(st.integers(0, len(run)), max_size=5)))
    return run, [run[a:b] for a, b in itertools.pairwise([0, *cuts, len(run)])]


@settings(max_examples=150, deadline=None)
@given(run=runs(), seed=st.integers(0, 3))
def test_the_counts_of_any_sharding_merge_to_exactly_the_counts_of_one_pass(run, seed):
    reference = _reference(np.random.default_rng(seed))
    batches, shards = run
    whole = drift.Tally(reference, SCHEMA)
    for frame, unseen, predicted in batches:
        whole.add(frame, unseen, predicted)
    parts = []
    for shard in shards:
        tally = drift.Tally(reference, SCHEMA)
        for frame, unseen, predicted in shard:
            tally.add(frame, unseen, predicted)
        parts.append(tally.counts("v1"))
    merged = drift.merge(parts)
    assert merged == whole.counts("v1")
    assert drift.judge(reference, merged) == drift.judge(reference, whole.counts("v1"))
    rows = sum(len(frame) for frame, _, _ in batches)
    for counted in merged["features"]:  # every row lands in exactly one cell
        assert sum(counted["counts"]) + counted["missing"] + counted.get("unseen", 0) == counted["rows"] == rows


def test_out_of_range_values_stay_in_the_end_bins_and_are_counted_apart():
    entry = {"kind": "numeric", "edges": [0.0, 1.0], "min": -1.0, "max": 2.0}
    found = profile.count(entry, np.array([-5.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0, np.nan]), bounds=True)
    assert found["counts"] == [3, 2, 2]  # (-inf, 0], (0, 1], (1, inf): as without bounds
    assert found["counts"] == profile.count(entry, np.array([-5.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0]))["counts"]
    assert (found["below"], found["above"], found["missing"]) == (1, 1, 1)


def _counts_like(reference, rng, rows, shift=0.0, missing=0.0, scale=1.0):
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=rows) * scale + shift,
            "y": np.where(rng.random(rows) < 0.1 + missing, np.nan, rng.integers(0, 4, rows).astype("float64")),
            "plan": pd.Categorical.from_codes(rng.integers(0, 4, rows), categories=LEVELS),
        }
    )
    tally = drift.Tally(reference, SCHEMA)
    tally.add(frame, {"plan": np.zeros(rows, dtype=bool)}, rng.random(rows))
    return tally.counts("v1")


def test_rows_like_the_training_rows_pass_and_a_shifted_feature_is_named():
    rng = np.random.default_rng(7)
    reference = _reference(rng)
    same = drift.judge(reference, _counts_like(reference, rng, 5000))
    assert same["status"] == "ok"
    assert same["drifted"] == []
    shifted = drift.judge(reference, _counts_like(reference, rng, 5000, shift=0.5))
    assert shifted["status"] == "drifted"
    assert shifted["drifted"] == ["x"]
    entry = shifted["features"][0]
    assert entry["p"] <= drift.ALPHA < same["features"][0]["p"]
    assert entry["psi"] > same["features"][0]["psi"]
    assert entry["js"] > same["features"][0]["js"]


def test_a_rise_in_missing_values_is_drift_and_past_the_limit_refused():
    rng = np.random.default_rng(8)
    reference = _reference(rng)
    counts = _counts_like(reference, rng, 5000, missing=0.2)
    verdict = drift.judge(reference, counts)
    assert verdict["drifted"] == ["y"]
    assert verdict["features"][1]["missing"]["run"] == pytest.approx(0.3, abs=0.03)
    drift.check_limits(reference, counts, 0.3, 0.3, "input")  # a rise of 0.2 is under the limit
    with pytest.raises(BadData, match=r"column 'y' is missing.*--max_missing_rise=0.1"):
        drift.check_limits(reference, counts, 0.1, 0.3, "input")


def test_values_in_another_unit_are_refused_by_the_range_limit():
    rng = np.random.default_rng(9)
    reference = _reference(rng)
    counts = _counts_like(reference, rng, 1000, scale=100.0)  # cents for dollars
    with pytest.raises(BadData, match=r"column 'x', 97.3% of the values lie outside .*--max_out_of_range=0.3"):
        drift.check_limits(reference, counts, 0.3, 0.3, "input")


def test_no_rows_is_no_verdict_and_no_test():
    reference = _reference(np.random.default_rng(1))
    verdict = drift.judge(reference, drift.Tally(reference, SCHEMA).counts("v1"))
    assert verdict["status"] == "no_rows"
    assert verdict["drifted"] == []
    assert all(entry["p"] is None for entry in verdict["features"])


def test_a_profile_out_of_the_schemas_order_is_refused():
    reference = _reference(np.random.default_rng(1))
    with pytest.raises(ArtifactRejected, match="profile lists features"):
        drift.Tally(reference, types.SimpleNamespace(columns=("y", "x", "plan")))


def test_a_few_rows_are_never_refused_by_a_share_limit():
    rng = np.random.default_rng(10)
    reference = _reference(rng)
    counts = _counts_like(reference, rng, 3, missing=0.9, scale=100.0)
    drift.check_limits(reference, counts, 0.0, 0.0, "input")  # 3 rows: the verdict judges them, not a share


def _constant_reference(rows: int = 2000) -> dict:
    entry = {"name": "x", "kind": "numeric", "edges": profile.edges(np.zeros(rows))}
    predicted = np.random.default_rng(0).random(500)
    prediction = {"kind": "numeric", "edges": profile.edges(predicted)}
    return {
        "rows": rows,
        "features": [entry | profile.count(entry, np.zeros(rows))],
        "prediction": prediction | profile.count(prediction, predicted),
    }


@pytest.mark.parametrize("share", [0.02, 0.1, 1.0])
def test_values_beyond_the_training_range_are_drift_even_where_the_end_bins_hide_them(share):
    """The end bins hold everything past the training min and max, so only the count beyond the range can tell:
    a feature constant in training (one bin), and the top values of a feature multiplied by 100."""
    reference = _constant_reference()
    rng = np.random.default_rng(11)
    values = np.where(rng.random(5000) < share, 5.0, 0.0)
    tally = drift.Tally(reference, types.SimpleNamespace(columns=("x",)))
    tally.add(pd.DataFrame({"x": values}), {}, rng.random(5000))
    assert drift.judge(reference, tally.counts("v1"))["drifted"] == ["x"]
    normal = _reference(rng)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=5000),
            "y": np.where(rng.random(5000) < 0.1, np.nan, rng.integers(0, 4, 5000).astype("float64")),
            "plan": pd.Categorical.from_codes(rng.integers(0, 4, 5000), categories=LEVELS),
        }
    )
    top = frame["x"] >= frame["x"].quantile(1 - share)
    frame.loc[top, "x"] *= 100  # the same bins, far out
    tally = drift.Tally(normal, SCHEMA)
    tally.add(frame, {"plan": np.zeros(5000, dtype=bool)}, rng.random(5000))
    assert drift.judge(normal, tally.counts("v1"))["drifted"] == ["x"]


DAMAGE = st.one_of(
    st.integers(-(2**70), 2**70), st.floats(allow_nan=True), st.text(max_size=3), st.none(), st.just([1, 2])
)


@settings(max_examples=200, deadline=None)
@given(where=st.data(), value=DAMAGE)
def test_damaged_counts_are_refused_or_still_add_up(where, value):
    """Any one field of a shard's counts set to any value: the merge refuses it (3) or the counts still add up."""
    reference = _reference(np.random.default_rng(3))
    good = _counts_like(reference, np.random.default_rng(4), 400)
    part = json.loads(json.dumps(good))
    entries = [*part["features"], part["prediction"]]
    entry = where.draw(st.sampled_from([part, *entries]))
    key = where.draw(st.sampled_from(sorted(entry)))
    if key == "counts" and isinstance(entry[key], list) and where.draw(st.booleans()):
        entry[key][where.draw(st.integers(0, len(entry[key]) - 1))] = value
    else:
        entry[key] = value
    try:
        merged = drift.merge([good, part], reference)
    except ArtifactRejected:
        return
    verdict = drift.judge(reference, merged)
    for shown in [*verdict["features"], verdict["prediction"]]:
        for share in (shown.get("out_of_range"), shown.get("unseen"), *(shown.get("missing") or {}).values()):
            assert share is None or 0 <= share <= 1, (key, value, shown)


@settings(max_examples=200, deadline=None)
@given(where=st.data(), value=DAMAGE)
def test_a_damaged_profile_is_refused_or_still_adds_up(where, value):
    reference = json.loads(json.dumps(_reference(np.random.default_rng(5))))
    entry = where.draw(st.sampled_from([reference, *reference["features"], reference["prediction"]]))
    key = where.draw(st.sampled_from(sorted(entry)))
    entry[key] = value
    try:
        tally = drift.Tally(reference, SCHEMA)
    except ArtifactRejected:
        return
    verdict = drift.judge(reference, _counts_with(tally))
    assert verdict["status"] in ("ok", "drifted")


def _counts_with(tally):
    rng = np.random.default_rng(6)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=300),
            "y": rng.integers(0, 4, 300).astype("float64"),
            "plan": pd.Categorical.from_codes(rng.integers(0, 4, 300), categories=LEVELS),
        }
    )
    tally.add(frame, {"plan": np.zeros(300, dtype=bool)}, rng.random(300))
    return tally.counts("v1")
