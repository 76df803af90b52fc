"""Segment passes the shared conformance suite."""

import pytest

from models.segment import Segment
from shared import conformance


@pytest.mark.parametrize("check", conformance.checks(Segment), ids=conformance.check_id)
def test_conformance(check, tmp_path):
    """Each conformance check holds for Segment."""
    check(tmp_path)
