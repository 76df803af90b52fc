"""Fixtures the churn tests share."""

import pytest

from models.churn import Churn


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store with one small churn version."""
    folder = tmp_path_factory.mktemp("store")
    Churn(store=str(folder)).train(n_estimators=5)
    return str(folder)


@pytest.fixture(scope="module")
def compiled_store(tmp_path_factory):
    """A store with one small churn version and its compiled library for this platform (copy it to change it)."""
    from shared.estimators import compiled

    if compiled.compiler() is None:
        pytest.skip("no C compiler or tl2cgen here")
    folder = tmp_path_factory.mktemp("store")
    Churn(store=str(folder)).train(n_estimators=10, compile="on")
    return folder


def on_s3(folder, s3_store):
    """Copy a local store folder into the bucket of ``s3_store``; the filesystem and the store's root in it."""
    import json
    import os

    import s3fs

    options = json.loads(os.environ["MODELFLEET_STORAGE_OPTIONS"])
    fs = s3fs.S3FileSystem(client_kwargs=options["client_kwargs"], skip_instance_cache=True)
    root = s3_store.removeprefix("s3://")
    fs.put(f"{folder}/", root, recursive=True)
    return fs, root


@pytest.fixture
def s3_copy(s3_store):
    """Copy a local store into a fresh bucket: ``s3_copy(folder)`` gives the filesystem and the store's root."""
    return lambda folder: on_s3(folder, s3_store)
