"""The store commits versions atomically and verifies every file before it is parsed, on every backend."""

import json
import os
import pickle

import pytest

from shared.errors import ArtifactRejected, BadArgument, MissingInput
from shared.estimators import formats
from shared.storage.store import MANIFEST, Artifact, Store

MODEL = "toy"
LIGHTGBM_TEXT = b"tree\nversion=v4\n" + b"x" * 1000 + b"\nend of trees\n\nend of parameters\n"


def commit(store, version, data=LIGHTGBM_TEXT):
    """Commit one file as a version of the toy model."""
    return store.commit(MODEL, version, [Artifact("model.txt", data, "lightgbm-text")], {"metrics": {"x": 1}})


def file_path(store, version, manifest):
    """The store path of the version's model file."""
    return f"{store.root}/{MODEL}/versions/{version}/{manifest['files'][0]['path']}"


def rewrite_manifest(store, version, change):
    """Apply ``change`` to a committed manifest in place, as someone with write access to the store could."""
    path = f"{store.root}/{MODEL}/versions/{version}/{MANIFEST}"
    manifest = json.loads(store.fs.cat_file(path))
    change(manifest)
    store.fs.pipe_file(path, json.dumps(manifest).encode())


def test_commit_then_read_back(any_store):
    """A committed file reads back byte for byte, verified."""
    store = Store(any_store)
    manifest = commit(store, "v1")
    assert store.read(store.resolve(MODEL, "v1"), "model.txt") == (LIGHTGBM_TEXT, "lightgbm-text")
    assert len(LIGHTGBM_TEXT) == manifest["files"][0]["size"]


def test_latest_is_the_newest_commit(any_store):
    """latest resolves to the most recently committed version, whatever the ids' order."""
    store = Store(any_store)
    commit(store, "b-first")
    commit(store, "a-second")
    assert store.resolve(MODEL)["version"] == "a-second"
    assert [m["version"] for m in store.versions(MODEL)] == ["b-first", "a-second"]


def test_latest_never_moves_back_to_a_retried_version(any_store):
    """A retry of an older run changes nothing, so latest stays on the newer version."""
    store = Store(any_store)
    commit(store, "run-1")
    commit(store, "run-2")
    commit(store, "run-1", b"tree\nretry\nend of trees\n\nend of parameters\n")
    assert store.resolve(MODEL)["version"] == "run-2"


def test_second_commit_of_a_version_changes_nothing(any_store):
    """A retry of a committed version returns the first commit untouched."""
    store = Store(any_store)
    first = commit(store, "v1")
    again = commit(store, "v1", b"tree\nsecond\nend of trees\n\nend of parameters\n")
    assert again["already_committed"] is True
    assert first["attempt"] == again["attempt"]
    assert store.read(store.resolve(MODEL, "v1"), "model.txt")[0] == LIGHTGBM_TEXT


def test_create_only_really_refuses_a_second_writer(any_store):
    """Negative control: the backend itself refuses to create the manifest twice (no silent overwrite)."""
    store = Store(any_store)
    path = f"{store.root}/{MODEL}/versions/v1/{MANIFEST}"
    assert store.backend.put_if_absent(path, b'{"first": true}')
    assert not store.backend.put_if_absent(path, b'{"second": true}')
    assert store.fs.cat_file(path) == b'{"first": true}'


def test_files_without_a_manifest_are_not_a_version(any_store):
    """Payload written by an attempt that never committed is invisible."""
    store = Store(any_store)
    store.fs.makedirs(f"{store.root}/{MODEL}/versions/v9/attempt", exist_ok=True)
    store.fs.pipe_file(f"{store.root}/{MODEL}/versions/v9/attempt/model.txt", b"half")
    assert store.versions(MODEL) == []
    with pytest.raises(MissingInput, match="run 'toy train' first"):
        store.resolve(MODEL)


@pytest.mark.parametrize("cut", [0.05, 0.5, 0.95, 0.99])
def test_truncated_file_is_rejected_before_parsing(any_store, cut):
    """A file cut short fails the size check, naming the file."""
    store = Store(any_store)
    manifest = commit(store, "v1")
    path = file_path(store, "v1", manifest)
    store.fs.pipe_file(path, LIGHTGBM_TEXT[: int(len(LIGHTGBM_TEXT) * cut)])
    with pytest.raises(ArtifactRejected, match=r"model\.txt is \d+ bytes, the manifest says \d+: file damaged"):
        store.read(store.resolve(MODEL, "v1"), "model.txt")


def test_flipped_bit_is_rejected(any_store):
    """A file of the right size with one changed bit fails the sha256 check."""
    store = Store(any_store)
    manifest = commit(store, "v1")
    data = bytearray(LIGHTGBM_TEXT)
    data[500] ^= 1
    store.fs.pipe_file(file_path(store, "v1", manifest), bytes(data))
    with pytest.raises(ArtifactRejected, match="sha256"):
        store.read(store.resolve(MODEL, "v1"), "model.txt")


@pytest.mark.parametrize("bad", ["../../etc/passwd", "/etc/passwd", "a/../../x", "a//b", "c:/x"])
def test_manifest_paths_must_stay_inside_the_version(any_store, bad):
    """A manifest that points outside its version folder is refused."""
    store = Store(any_store)
    commit(store, "v1")
    rewrite_manifest(store, "v1", lambda m: m["files"][0].update(path=bad))
    with pytest.raises(ArtifactRejected, match="leaves the version folder"):
        store.read(store.resolve(MODEL, "v1"), "model.txt")


@pytest.mark.parametrize("fmt", ["pickle", "joblib", "python", None])
def test_formats_outside_the_allowlist_are_refused(any_store, fmt):
    """A manifest naming a format we do not allow is refused before the file is read."""
    store = Store(any_store)
    commit(store, "v1")
    rewrite_manifest(store, "v1", lambda m: m["files"][0].update(format=fmt))
    with pytest.raises(ArtifactRejected, match=r"allowed: lightgbm-text, skops|files\.0\.format: input should be a"):
        store.read(store.resolve(MODEL, "v1"), "model.txt")


class _Payload:
    """A pickle that would create a marker file if anything ever unpickled it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_disguised_as_a_model_never_runs(any_store, tmp_path):
    """A pickle stored as model.txt, with a manifest that matches it, is refused and runs no code."""
    marker = tmp_path / "pwned"
    store = Store(any_store)
    commit(store, "v1", pickle.dumps(_Payload(str(marker))))
    data, fmt = store.read(store.resolve(MODEL, "v1"), "model.txt")
    with pytest.raises(ArtifactRejected, match="looks like a pickle"):
        formats.load(data, fmt)
    with pytest.raises(ArtifactRejected, match="not a skops archive"):
        formats.load(data, formats.SKOPS)
    assert not marker.exists()


def test_a_symlinked_model_file_is_refused(store_url, tmp_path):
    """On a local store, a model file that is a link (even with the right hash) is refused."""
    store = Store(store_url)
    manifest = commit(store, "v1")
    path = file_path(store, "v1", manifest)
    outside = tmp_path / "outside.txt"
    outside.write_bytes(LIGHTGBM_TEXT)
    os.unlink(path)
    os.symlink(outside, path)
    with pytest.raises(ArtifactRejected, match="is a link or leaves the version folder"):
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


def test_a_manifest_must_match_the_folder_it_sits_in(any_store):
    """A manifest copied to another version's folder, or claiming a ../ version, is refused."""
    store = Store(any_store)
    commit(store, "r1")
    source = f"{store.root}/{MODEL}/versions/r1/{MANIFEST}"
    manifest = json.loads(store.fs.cat_file(source))
    manifest["version"] = "../../../evil"
    store.fs.makedirs(f"{store.root}/{MODEL}/versions/r2", exist_ok=True)
    store.fs.pipe_file(f"{store.root}/{MODEL}/versions/r2/{MANIFEST}", json.dumps(manifest).encode())
    with pytest.raises(ArtifactRejected, match="sits in the folder of 'toy' version 'r2'"):
        store.resolve(MODEL, "r2")


@pytest.mark.parametrize("body", [b"5", b"[]", b'{"files": 1}', b"not json"])
def test_a_malformed_manifest_is_rejected_not_a_crash(any_store, body):
    """Whatever is in a manifest file, reading it gives ArtifactRejected (exit 3), never a TypeError."""
    store = Store(any_store)
    store.fs.makedirs(f"{store.root}/{MODEL}/versions/v1", exist_ok=True)
    store.fs.pipe_file(f"{store.root}/{MODEL}/versions/v1/{MANIFEST}", body)
    with pytest.raises(ArtifactRejected):
        store.resolve(MODEL, "v1")


def test_a_losing_attempt_leaves_no_files_behind(store_url):
    """The attempt that finds the version already committed removes its own copy."""
    store = Store(store_url)
    commit(store, "v1")
    commit(store, "v1")
    version_dir = os.path.join(store_url, MODEL, "versions", "v1")
    assert len(os.listdir(version_dir)) == 2  # one attempt folder and the manifest


def put(store, folder, data):
    """Write a manifest.json into versions/<folder>, as an operator or a stray process could."""
    store.fs.makedirs(f"{store.root}/{MODEL}/versions/{folder}", exist_ok=True)
    store.fs.pipe_file(f"{store.root}/{MODEL}/versions/{folder}/{MANIFEST}", data)


JUNK = {
    # an operator's backup copy of an older version: it claims that version and its old commit time
    "backup-copy": lambda store, old: put(store, f"{old}.bak", store.fs.cat_file(_manifest(store, old))),
    "missing-keys": lambda store, old: put(store, "stray", b'{"model": "toy", "committed_at": "2001-01-01T00:00:00"}'),
    "wrong-types": lambda store, old: put(
        store,
        "typo",
        json.dumps({"schema_version": 2, "model": MODEL, "version": "typo", "committed_at": 5, "files": "x"}).encode(),
    ),
}


def _manifest(store, version):
    return f"{store.root}/{MODEL}/versions/{version}/{MANIFEST}"


@pytest.mark.parametrize("junk", sorted(JUNK))
def test_an_unreadable_older_entry_is_skipped_and_reported(any_store, junk):
    """A damaged or stray entry older than the newest commit hides nothing: latest and describe's listing work."""
    store = Store(any_store)
    commit(store, "v1")
    JUNK[junk](store, "v1")
    commit(store, "v2")
    assert store.resolve(MODEL)["version"] == "v2"
    readable, unreadable = store.listing(MODEL)
    assert [m["version"] for m in readable] == ["v1", "v2"]
    assert len(unreadable) == 1
    assert store.resolve(MODEL, "v1")["version"] == "v1"


@pytest.mark.parametrize("damage", ["truncated", "not-json", "a-folder"])
def test_an_unreadable_newest_entry_refuses_latest(store_url, damage):
    """If the entry that cannot be read may be the newest commit, latest refuses (3) rather than serve an older one."""
    store = Store(store_url)
    commit(store, "v1")
    manifest = commit(store, "v2")
    path = _manifest(store, "v2")
    os.unlink(path)
    if damage == "a-folder":
        os.makedirs(path)
    else:
        text = json.dumps(manifest)
        with open(path, "w") as handle:
            handle.write(text[: len(text) // 2] if damage == "truncated" else "<html>")
    with pytest.raises(ArtifactRejected, match="may be 'v2'"):
        store.resolve(MODEL)
    assert store.resolve(MODEL, "v1")["version"] == "v1"


@pytest.fixture
def silent_endpoint():
    """An endpoint that accepts connections and never answers, as a hung proxy does; yields its URL and the
    connections it accepted."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", held
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def s3_credentials(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)


def _access(how):
    """One remote access of each kind: the store, a table read, a folder listed for streaming, a table write."""
    import pandas as pd

    from shared.tables.data import read_table, write_table
    from shared.tables.stream import Input

    return {
        "store": lambda url: Store(f"{url}/store").versions(MODEL),
        "read": lambda url: read_table(f"{url}/in.parquet"),
        "stream": lambda url: Input.open(f"{url}/in/"),
        "write": lambda url: write_table(pd.DataFrame({"a": [1]}), f"{url}/out.parquet"),
    }[how]


@pytest.mark.parametrize("how", ["store", "read", "stream", "write"])
@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_an_unreachable_store_is_unavailable_not_a_bug(monkeypatch, s3_credentials, silent_endpoint, kind, how):
    """A store, input or output whose endpoint refuses, or accepts and never answers, is unavailable (75) after
    bounded waits: the first call that fails ends it, with no retry loop on top of botocore's."""
    from shared.errors import StoreUnavailable

    endpoint = "http://127.0.0.1:1" if kind == "refused" else silent_endpoint[0]
    # the silent case waits out read_timeout: shortened here, as a deployment may shorten it too
    options = {"client_kwargs": {"endpoint_url": endpoint}, "config_kwargs": {"read_timeout": 1, "connect_timeout": 1}}
    monkeypatch.setenv("MODELFLEET_STORAGE_OPTIONS", json.dumps(options))
    with pytest.raises(StoreUnavailable, match="retry later"):
        _access(how)(f"s3://bucket-{kind}")
    if kind == "silent":
        assert len(silent_endpoint[1]) == 2, "one call, two attempts in all"


def test_s3_waits_are_bounded_by_default(monkeypatch, s3_credentials):
    """Without settings of one's own, S3 gets connect and read timeouts and one retry loop (botocore's)."""
    from shared.tables.data import S3_TIMEOUTS, filesystem

    monkeypatch.setenv("MODELFLEET_STORAGE_OPTIONS", json.dumps({"config_kwargs": {"read_timeout": 3}}))
    fs, _ = filesystem("s3://bucket/x")
    assert fs.config_kwargs["read_timeout"] == 3, "a deployment's own setting wins"
    assert fs.config_kwargs["connect_timeout"] == S3_TIMEOUTS["connect_timeout"]
    retries = fs.config_kwargs["retries"]
    assert retries["total_max_attempts"] == 2
    assert fs.retries == 1


@pytest.mark.parametrize("how", ["store", "read", "stream", "write"])
def test_an_unknown_storage_option_is_a_configuration_error(monkeypatch, s3_credentials, how):
    """An option the filesystem does not take exits 78, naming the variable, for the store, input and output."""
    from shared.errors import ConfigError

    monkeypatch.setenv("MODELFLEET_STORAGE_OPTIONS", json.dumps({"nosuch_option": 1}))
    with pytest.raises(ConfigError, match="MODELFLEET_STORAGE_OPTIONS holds an option"):
        _access(how)("s3://bucket")
