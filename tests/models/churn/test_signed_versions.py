"""Signed versions through the command line: with a verify key, a store edited in any file or set of files (a
manifest, a model file, a compiled library and its record, an alias event) is refused (3) before any prediction
and before any library is loaded; without a key nothing changes and describe says a version is unsigned."""

import hashlib
import json
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.churn import Churn
from shared.estimators import compiled
from shared.storage import aliases, signing
from shared.storage.store import COMPILED

pytestmark = pytest.mark.skipif(compiled.compiler() is None, reason="no C compiler or tl2cgen here")

EVIL_C = r"""
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void ran(void) {
    const char *path = getenv("MODELFLEET_TEST_MARKER");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) { fputs("the library's code ran\n", f); fclose(f); }
}
"""


def pem_pair():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    return (
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    )


OURS, THEIRS = pem_pair(), pem_pair()


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """A store whose versions v1 (with its compiled library) and v2 were signed at train, champion -> v1 by a
    signed event; rows to score; and a library whose code, if it ever runs, writes a marker file."""
    root = tmp_path_factory.mktemp("signed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(signing.SIGNING_KEY, OURS[0])
        model = Churn(store=str(root / "store"))
        model.train(run_id="v1", n_estimators=10, compile="on")
        model.train(run_id="v2", n_estimators=12)
        model.promote(alias="champion", version="v1")
    Churn()._sample_frame(200, 3).drop(columns=[Churn.label]).to_parquet(root / "rows.parquet")
    (root / "evil.c").write_text(EVIL_C)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(root / "evil.so"), str(root / "evil.c")], check=True)
    return root


def _rewrite(path, change, how):
    """Apply ``change`` to the JSON record at ``path``, then keep its old signature, drop it, or sign it with a
    key nobody trusts; an alias event is re-sealed (its sha256 made right again), as a careful forger would."""
    record = change(json.loads(path.read_text()))
    if how == "drop":
        record.pop("signature", None)
    elif how == "theirs":
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(signing.SIGNING_KEY, THEIRS[0])
            record = signing.sign(record, derived=("sha256",) if "generation" in record else ())
    if "generation" in record:
        record["sha256"] = aliases.digest(record)
    path.write_text(json.dumps(record, indent=2))


def _file_entry(manifest, suffix, data):
    for entry in manifest["files"]:
        if entry["path"].endswith(suffix):
            entry.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    return manifest


def tamper(store, what, how, evil):
    """Edit one part of the store as someone who can write it (but holds no trusted key) would."""
    version = store / "churn" / "versions" / "v1"
    manifest = version / "manifest.json"
    if what == "manifest":
        _rewrite(manifest, lambda m: {**m, "metrics": {k: 0.99 for k in m["metrics"]}}, how)
    elif what == "model file":
        (model_file,) = version.glob("*/model.txt")
        data = (store / "churn" / "versions" / "v2").glob("*/model.txt").__next__().read_bytes()
        model_file.write_bytes(data)  # another real model, and the manifest made to match it
        _rewrite(manifest, lambda m: _file_entry(m, "model.txt", data), how)
    elif what == "library and record":
        (record,) = (version / COMPILED).glob("*.json")
        (library,) = (version / COMPILED).glob("*/*.so")
        data = evil.read_bytes()
        library.write_bytes(data)
        _rewrite(record, lambda r: {**r, "file": {**r["file"], "size": len(data), "sha256": _sha(data)}}, how)
    else:  # the alias event: champion -> v2
        (event,) = (store / "churn" / "aliases" / "champion").glob("*.json")
        _rewrite(event, lambda e: {**e, "version": "v2"}, how)


def _sha(data):
    return hashlib.sha256(data).hexdigest()


PARTS = ["manifest", "model file", "library and record", "alias event"]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    parts=st.lists(st.sampled_from(PARTS), min_size=1, max_size=4, unique=True),
    how=st.sampled_from(["keep", "drop", "theirs"]),
    engine=st.sampled_from(["auto", "compiled"]),
    data=st.data(),
)
def test_with_a_verify_key_any_edited_set_of_files_is_refused_before_anything_runs(
    signed, tmp_path_factory, modelfleet, parts, how, engine, data
):
    work = tmp_path_factory.mktemp("tampered")
    shutil.copytree(signed / "store", work / "store")
    for part in parts:
        tamper(work / "store", part, how, signed / "evil.so")
    marker = work / "the-library-ran"
    version = data.draw(st.sampled_from(["champion", "v1"] if "alias event" in parts else ["v1"]))
    done = modelfleet(
        ["churn", "score", f"--version={version}", f"--engine={engine}", f"--data={signed / 'rows.parquet'}",
         f"--store={work / 'store'}", f"--output={work / 'out.parquet'}"],
        env={signing.VERIFY_KEY: OURS[1], "MODELFLEET_TEST_MARKER": str(marker)},
    )  # fmt: skip
    if version == "v1" and parts == ["alias event"]:
        assert done.returncode == 0, done.stderr  # v1 itself is untouched
        return
    assert done.returncode == 3, done.stderr
    assert not (work / "out.parquet").exists()
    assert not marker.exists(), "the library's code ran"


def test_an_untouched_signed_store_scores_with_its_library(signed, tmp_path, modelfleet):
    done = modelfleet(
        ["churn", "score", "--version=champion", "--engine=compiled", f"--data={signed / 'rows.parquet'}",
         f"--store={signed / 'store'}", f"--output={tmp_path / 'out.parquet'}"],
        env={signing.VERIFY_KEY: OURS[1]},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["version"], result["engine"]) == ("v1", "compiled")
    described = json.loads(modelfleet(["churn", "describe", f"--store={signed / 'store'}"], env={
        signing.VERIFY_KEY: OURS[1]}).stdout)  # fmt: skip
    assert {v["version"]: v["signature"]["verified"] for v in described["versions"]} == {"v1": True, "v2": True}
    assert len(described["verify_keys"]) == 1


def test_without_a_key_nothing_changes_and_describe_says_unsigned(tmp_path, modelfleet):
    store = tmp_path / "store"
    done = modelfleet(["churn", "train", "--n_estimators=5", "--run_id=plain", f"--store={store}"])
    assert done.returncode == 0, done.stderr
    described = json.loads(modelfleet(["churn", "describe", f"--store={store}"]).stdout)
    assert described["versions"][0]["signature"] == {"signed": False, "key": None, "verified": False}
    assert described["verify_keys"] == []
    refused = modelfleet(["churn", "score", f"--store={store}"], env={signing.VERIFY_KEY: OURS[1]})
    assert refused.returncode == 3
    assert "not signed" in refused.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--n_estimators=5", "--run_id=v9"],
        ["compile", "--version=v1"],
        ["promote", "--alias=champion", "--version=v2"],
        ["rollback", "--alias=champion"],
    ],
)
@pytest.mark.parametrize("keys", ["verify only", "keys of two pairs", "a bad signing key"])
def test_a_writer_whose_records_its_own_verify_key_would_refuse_stops_before_any_work(
    signed, tmp_path, modelfleet, args, keys
):
    """train, compile, promote and rollback with a verify key but no signing key (or a signing key of another
    pair, or no key at all in the variable) exit 78 before any work: they would write what every verifying
    reader, themselves included, refuses."""
    shutil.copytree(signed / "store", tmp_path / "store")
    env = {
        "verify only": {signing.VERIFY_KEY: OURS[1]},
        "keys of two pairs": {signing.VERIFY_KEY: OURS[1], signing.SIGNING_KEY: THEIRS[0]},
        "a bad signing key": {signing.SIGNING_KEY: OURS[1]},
    }[keys]
    before = sorted(str(p) for p in (tmp_path / "store").rglob("*"))
    done = modelfleet(["churn", *args, f"--store={tmp_path / 'store'}"], env=env)
    assert done.returncode == 78, done.stderr
    assert done.stderr.count("\n") == 1
    assert sorted(str(p) for p in (tmp_path / "store").rglob("*")) == before
