"""Ltv passes the shared conformance suite."""

import pytest

from models.ltv import Ltv
from shared import conformance


@pytest.mark.parametrize("check", conformance.checks(Ltv), ids=conformance.check_id)
def test_conformance(check, tmp_path):
    """Each conformance check holds for Ltv."""
    check(tmp_path)
