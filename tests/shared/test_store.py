"""The store commits versions atomically and verifies every file before it is parsed."""

import json
from pathlib import Path

import pytest

from shared.errors import ArtifactRejected, BadArgument, MissingInput
from shared.store import MANIFEST, Artifact, Store

MODEL = "toy"


def commit(store, version, data=b"model bytes"):
    """Commit one file as a version of the toy model."""
    return store.commit(MODEL, version, [Artifact("model.txt", data, "lightgbm-text")], {"metrics": {"x": 1}})


def test_commit_then_read_back(store_url):
    """A committed file reads back byte for byte, verified."""
    store = Store(store_url)
    manifest = commit(store, "v1")
    assert store.read(store.resolve(MODEL, "v1"), "model.txt") == (b"model bytes", "lightgbm-text")
    assert manifest["files"][0]["size"] == len(b"model bytes")


def test_latest_is_the_newest_commit(store_url):
    """latest resolves to the most recently committed version, whatever the ids' order."""
    store = Store(store_url)
    commit(store, "b-first")
    commit(store, "a-second")
    assert store.resolve(MODEL)["version"] == "a-second"
    assert [m["version"] for m in store.versions(MODEL)] == ["b-first", "a-second"]


def test_second_commit_of_a_version_changes_nothing(store_url):
    """A retry of a committed version returns the first commit untouched."""
    store = Store(store_url)
    first = commit(store, "v1", b"first")
    again = commit(store, "v1", b"second")
    assert again["already_committed"] is True
    assert first["attempt"] == again["attempt"]
    assert store.read(store.resolve(MODEL, "v1"), "model.txt")[0] == b"first"


def test_files_without_a_manifest_are_not_a_version(store_url):
    """Payload written by an attempt that never committed is invisible."""
    store = Store(store_url)
    orphan = Path(store_url) / MODEL / "versions" / "v9" / "attempt" / "model.txt"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"half")
    assert store.versions(MODEL) == []
    with pytest.raises(MissingInput, match="run 'toy train' first"):
        store.resolve(MODEL)


@pytest.mark.parametrize("cut", [0.05, 0.5, 0.95, 0.99])
def test_truncated_file_is_rejected_before_parsing(store_url, cut):
    """A file cut short fails the size check and names the file."""
    store = Store(store_url)
    manifest = commit(store, "v1", b"x" * 1000)
    path = Path(store_url) / MODEL / "versions" / "v1" / manifest["files"][0]["path"]
    path.write_bytes(path.read_bytes()[: int(1000 * cut)])
    with pytest.raises(ArtifactRejected, match=r"model\.txt is \d+ bytes, the manifest says 1000"):
        store.read(store.resolve(MODEL, "v1"), "model.txt")


def test_flipped_bit_is_rejected(store_url):
    """A file of the right size with one changed bit fails the sha256 check."""
    store = Store(store_url)
    manifest = commit(store, "v1", b"x" * 100)
    path = Path(store_url) / MODEL / "versions" / "v1" / manifest["files"][0]["path"]
    data = bytearray(path.read_bytes())
    data[50] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactRejected, match="sha256"):
        store.read(store.resolve(MODEL, "v1"), "model.txt")


@pytest.mark.parametrize("bad", ["../../etc/passwd", "/etc/passwd", "a/../../x", "a//b"])
def test_manifest_paths_must_stay_inside_the_version(store_url, bad):
    """A manifest that points outside its version folder is refused."""
    store = Store(store_url)
    commit(store, "v1")
    manifest_path = Path(store_url) / MODEL / "versions" / "v1" / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][0]["path"] = bad
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ArtifactRejected, match="leaves the version folder"):
        store.read(store.resolve(MODEL, "v1"), "model.txt")


@pytest.mark.parametrize("bad", ["../x", "", "a/b", "-x", "x" * 200, "a b"])
def test_bad_version_ids_are_refused(store_url, bad):
    """Version ids are plain names that cannot escape the store."""
    with pytest.raises(BadArgument, match="bad version id"):
        commit(Store(store_url), bad)


def test_store_comes_from_the_environment(monkeypatch, tmp_path):
    """MODELFLEET_STORE sets the default store; an explicit URL wins."""
    monkeypatch.setenv("MODELFLEET_STORE", str(tmp_path / "env"))
    assert str(tmp_path / "env") == Store().url
    assert Store("memory://x").url == "memory://x"


def test_memory_backend_commits_and_reads(tmp_path):
    """The same protocol works on a non-local fsspec backend."""
    store = Store("memory://modelfleet-test-store")
    commit(store, "v1")
    assert store.resolve(MODEL)["version"] == "v1"
    assert commit(store, "v1")["already_committed"] is True
