"""Ltv passes the shared conformance suite."""

import pytest

from models.ltv import Ltv
from shared import conformance


@pytest.mark.parametrize("check", conformance.checks(Ltv), ids=conformance.check_id)
def test_conformance(check, tmp_path):
    """Each conformance check holds for Ltv."""
    check(tmp_path)


@pytest.mark.parametrize(
    "check", [conformance.check_artifact_round_trip, conformance.check_held_out_rows_reproduce_train_metrics]
)
def test_conformance_fails_when_the_feature_order_is_permuted(check, permuted_feature_order, tmp_path):
    """Mutation test: with the stored feature order permuted, the round-trip checks fail."""
    with pytest.raises(permuted_feature_order):
        check(Ltv, tmp_path)
