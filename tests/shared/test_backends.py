"""The store's backends: the same protocol on a local folder and on an S3-protocol server."""

import os

import pytest

from shared.backends import FsspecBackend, LocalBackend, open_backend
from shared.errors import ArtifactRejected


def test_the_scheme_chooses_the_backend(tmp_path, s3_store):
    assert type(open_backend(str(tmp_path / "store"))) is LocalBackend
    assert type(open_backend(f"file://{tmp_path}/store")) is LocalBackend
    assert type(open_backend(s3_store)) is FsspecBackend


def test_put_get_list_remove(any_store):
    backend = open_backend(any_store)
    folder = f"{backend.root}/m/versions/v1/attempt"
    backend.put(f"{folder}/model.txt", b"x" * 1001, fault="model")
    backend.put(f"{folder}/model.txt", b"y" * 10, fault="model")  # a whole file replaces a whole file
    backend.durable(folder)
    assert backend.get(f"{folder}/model.txt") == b"y" * 10
    assert [p.rsplit("/", 1)[-1] for p in backend.list(f"{backend.root}/m/versions/*/attempt/*")] == ["model.txt"]
    assert backend.exists(f"{folder}/model.txt")
    assert backend.modified(f"{folder}/model.txt") is not None
    backend.remove(folder)
    assert not backend.exists(f"{folder}/model.txt")
    assert backend.list(f"{backend.root}/m/versions/*/attempt/*") == []


def test_put_if_absent_creates_once(any_store):
    backend = open_backend(any_store)
    path = f"{backend.root}/m/versions/v1/manifest.json"
    assert backend.put_if_absent(path, b"first")
    assert not backend.put_if_absent(path, b"second")
    assert backend.get(path) == b"first"


def test_a_local_get_inside_a_folder_refuses_a_link(tmp_path):
    backend = open_backend(str(tmp_path / "store"))
    folder = tmp_path / "store" / "v1"
    folder.mkdir(parents=True)
    (tmp_path / "secret").write_bytes(b"not a model")
    os.symlink(tmp_path / "secret", folder / "model.txt")
    with pytest.raises(ArtifactRejected, match="is a link or leaves the version folder"):
        backend.get(str(folder / "model.txt"), inside=str(folder))
    assert backend.get(str(folder / "model.txt")) == b"not a model"  # outside a version folder, no rule
