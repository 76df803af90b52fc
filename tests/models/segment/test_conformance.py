"""Segment passes the shared conformance suite."""

import pytest

from models.segment import Segment
from shared import conformance


@pytest.mark.parametrize("check", conformance.checks(Segment), ids=conformance.check_id)
def test_conformance(check, tmp_path):
    """Each conformance check holds for Segment."""
    check(tmp_path)


# Only the "order-only" mutant: the scikit-learn pipeline selects its columns by name, so a manifest that is
# trusted without the model-file check cannot make it read the wrong columns (an equivalent mutant).
@pytest.mark.parametrize("permuted_feature_order", ["order-only"], indirect=True)
@pytest.mark.parametrize(
    "check", [conformance.check_artifact_round_trip, conformance.check_held_out_rows_reproduce_train_metrics]
)
def test_conformance_fails_when_the_feature_order_is_permuted(check, permuted_feature_order, tmp_path):
    """Mutation test: with the stored feature order permuted, the round-trip checks fail."""
    with pytest.raises(permuted_feature_order):
        check(Segment, tmp_path)
