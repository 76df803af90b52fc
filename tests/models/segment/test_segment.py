"""Segment finds the structure of its sample with scikit-learn alone."""

from models.segment import Segment


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
