"""Fixtures the churn tests share."""

import pytest

from models.churn import Churn


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store with one small churn version."""
    folder = tmp_path_factory.mktemp("store")
    Churn(store=str(folder)).train(n_estimators=5)
    return str(folder)
