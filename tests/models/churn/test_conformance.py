"""Churn passes the shared conformance suite."""

import pytest

from models.churn import Churn
from shared import conformance


@pytest.mark.parametrize("check", conformance.checks(Churn), ids=conformance.check_id)
def test_conformance(check, tmp_path):
    """Each conformance check holds for Churn."""
    check(tmp_path)
