"""The store's backends: the same protocol on a local folder and on an S3-protocol server."""

import os

import pytest

from shared.errors import ArtifactRejected
from shared.storage.backends import FsspecBackend, LocalBackend, open_backend


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


@pytest.mark.parametrize("target", ["m/versions/v1/manifest.json", "m/aliases/champion/00000003.json"])
def test_a_killed_creates_temporary_file_is_swept_by_the_next_create_of_that_path_never_a_live_ones(tmp_path, target):
    """A create killed mid-write (a manifest, an alias event, a compiled record) leaves ``<name>.<hex>.tmp``;
    the next create of that path removes it once its writer is gone, and never one a live writer holds."""
    import signal
    import subprocess
    import sys
    import time

    backend = open_backend(str(tmp_path))
    path = f"{tmp_path}/{target}"
    os.makedirs(os.path.dirname(path))
    script = (
        "import sys; from shared.storage.backends import open_backend; "
        "open_backend(sys.argv[1]).put_if_absent(sys.argv[2], b'x' * 100000, fault='manifest')"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), path],
        env={**os.environ, "MODELFLEET_FAULT": "manifest-write"},
        check=False,
    )
    assert done.returncode == -9
    (dead,) = [p for p in os.listdir(os.path.dirname(path)) if p.endswith(".tmp")]
    stopped = subprocess.Popen(  # a live writer of the same path, stopped half-way through its write
        [sys.executable, "-c", script, str(tmp_path), path],
        env={**os.environ, "MODELFLEET_FAULT": "manifest-write:STOP"},
    )
    try:
        deadline = time.monotonic() + 60
        while not [p for p in os.listdir(os.path.dirname(path)) if p.endswith(".tmp") and p != dead]:
            assert stopped.poll() is None
            assert time.monotonic() < deadline, "the stopped writer never wrote its temporary file"
            time.sleep(0.05)
        time.sleep(0.2)
        (live,) = [p for p in os.listdir(os.path.dirname(path)) if p.endswith(".tmp") and p != dead]
        for stale in {dead, live} & set(os.listdir(os.path.dirname(path))):  # (it may have swept the dead one)
            os.utime(f"{os.path.dirname(path)}/{stale}", (0, 0))  # older than the grace period
        assert backend.put_if_absent(path, b"{}")
        assert sorted(p for p in os.listdir(os.path.dirname(path)) if p.endswith(".tmp")) == [live]
    finally:
        stopped.send_signal(signal.SIGCONT)
        assert stopped.wait(timeout=60) == 0  # it finds the path taken, and removes its own temporary file
    assert not [p for p in os.listdir(os.path.dirname(path)) if p.endswith(".tmp")]
