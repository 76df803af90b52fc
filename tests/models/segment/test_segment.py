"""Segment finds the structure of its sample with scikit-learn alone."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.segment import Segment
from shared.errors import BadData


def test_finds_well_separated_segments(store_url):
    """Held-out silhouette is clearly positive and every segment is used."""
    metrics = Segment(store=store_url).train()["metrics"]
    assert metrics["silhouette"] > 0.25
    assert len(metrics["segment_sizes"]) == 4


def test_n_segments_sets_the_number_of_segments(store_url):
    """--n_segments changes how many segments the model assigns."""
    model = Segment(store=store_url)
    model.train(n_segments=3)
    predictions = model.score(Segment()._sample_frame(500, 2))["predictions"]
    assert {0, 1, 2} == set(predictions["segment"])


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")  # numpy and sklearn say so too
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    column=st.sampled_from(Segment.numeric),
    value=st.sampled_from([float("nan"), 1e308, -1e308, 1.7e308]),
    everywhere=st.booleans(),
)
def test_rows_that_cannot_be_scaled_are_bad_data(tmp_path_factory, column, value, everywhere):
    """A numeric feature with no values, or values so large that scaling overflows, is refused (65), not 70."""
    store = tmp_path_factory.mktemp("store")
    frame = Segment()._sample_frame(300, 2)
    some = frame.index % 3 == 0
    frame[column] = value if everywhere or value != value else frame[column].astype("float64").where(~some, value)
    with pytest.raises(BadData):
        Segment(store=str(store)).train(frame)
    assert Segment(store=str(store)).describe()["versions"] == []


def test_a_clustering_version_records_no_importance(store_url):
    """k-means measures no feature importance: none is recorded or shown."""
    from shared.storage.store import Store

    Segment(store=store_url).train()
    assert "importance" not in Store(store_url).resolve("segment")
    assert "importance" not in Segment(store=store_url).describe()["versions"][-1]


def test_rows_too_few_for_a_silhouette_measure_it_as_null(tmp_path):
    import math

    from models.segment import Segment

    model = Segment(store=str(tmp_path / "store"))
    model.train()
    for rows in (1, 2):
        measured = model.evaluate(model._sample_frame(rows, 9))["metrics"]
        assert math.isnan(measured["silhouette"]), rows
