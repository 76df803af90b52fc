"""Fixtures for every test: a clean environment and a store of its own."""

import pytest


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch, tmp_path):
    """Keep tests independent of the developer's shell: no MODELFLEET_* settings leak in."""
    import os

    for name in list(os.environ):
        if name.startswith("MODELFLEET_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def store_url(tmp_path):
    """A store folder that exists only for this test."""
    return str(tmp_path / "store")
