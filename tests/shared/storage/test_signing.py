"""Signatures on stored records: what a signing key makes only a verify key accepts, whatever else was edited."""

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.errors import ConfigError, Untrusted
from shared.storage import aliases, signing
from shared.storage.store import GENERATION_DIGITS, Store


def pem_pair():
    """A fresh Ed25519 key pair as PEM text: (signing key, verify key)."""
    private = Ed25519PrivateKey.generate()
    signing_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    verify_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return signing_pem, verify_pem


OURS, THEIRS = pem_pair(), pem_pair()
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
RECORDS = st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k != "signature"), JSON, min_size=1)


@pytest.fixture
def keys(monkeypatch):
    """Sign with our key, verify with its public half."""
    monkeypatch.setenv(signing.SIGNING_KEY, OURS[0])
    monkeypatch.setenv(signing.VERIFY_KEY, OURS[1])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record=RECORDS, data=st.data())
def test_generated_records_verify_as_signed_and_not_once_edited(keys, record, data):
    """A signed record verifies after any JSON round trip and re-layout; any change of content (a value, a key
    added or removed), a signature of another key, or none at all, is Untrusted (3)."""
    signed = signing.sign(record)
    relaid = json.loads(json.dumps(signed, indent=data.draw(st.sampled_from([None, 1, 4])), sort_keys=True))
    assert signing.verify(relaid, "it") == "verified"
    key = data.draw(st.sampled_from(sorted(record)) | st.text(min_size=1, max_size=8))
    edited = {k: v for k, v in relaid.items() if k != key}
    if data.draw(st.booleans()):
        edited[key] = data.draw(JSON)
    if key == "signature" or edited == relaid:
        return
    with pytest.raises(Untrusted, match=r"changed after it was signed|not signed"):
        signing.verify(edited, "it")
    with pytest.raises(Untrusted, match="not signed"):
        signing.verify({k: v for k, v in signed.items() if k != "signature"}, "it")


def test_a_signature_of_another_key_and_a_rotated_key(monkeypatch):
    monkeypatch.setenv(signing.SIGNING_KEY, THEIRS[0])
    theirs = signing.sign({"a": 1})
    monkeypatch.setenv(signing.SIGNING_KEY, OURS[0])
    ours = signing.sign({"a": 1})
    monkeypatch.setenv(signing.VERIFY_KEY, OURS[1])
    with pytest.raises(Untrusted, match="not by a verify key of this process"):
        signing.verify(theirs, "it")
    monkeypatch.setenv(signing.VERIFY_KEY, OURS[1] + THEIRS[1])  # a rotation: both keys are trusted
    assert signing.verify(theirs, "it") == signing.verify(ours, "it") == "verified"
    assert len(signing.fingerprints()) == 2


def test_no_key_no_check_and_the_record_says_how_it_stands(monkeypatch):
    assert signing.sign({"a": 1}) == {"a": 1}
    assert signing.verify({"a": 1}, "it") == "unsigned"
    monkeypatch.setenv(signing.SIGNING_KEY, OURS[0])
    signed = signing.sign({"a": 1})
    assert signing.verify({**signed, "a": 2}, "it") == "signed"  # nobody here verifies: not checked
    assert signing.stated(signed)["signed"]
    assert not signing.stated(signed)["verified"]


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        (signing.VERIFY_KEY, "not a key", "not one or more Ed25519 public keys"),
        (signing.VERIFY_KEY, OURS[0], "not one or more Ed25519 public keys"),  # the private key by mistake
        (signing.SIGNING_KEY, OURS[1], "not an unencrypted Ed25519 private key"),
        (signing.SIGNING_KEY, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "Ed25519 private"),
    ],
)
def test_a_key_that_is_not_one_is_bad_configuration(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=says):
        signing.verify(signing.sign({"a": 1}), "it")


def test_a_key_from_a_mounted_file_and_not_both(monkeypatch, tmp_path):
    (tmp_path / "verify.pem").write_text(OURS[1])
    monkeypatch.setenv(signing.SIGNING_KEY, OURS[0])
    monkeypatch.setenv(signing.VERIFY_KEY + signing.FILE, str(tmp_path / "verify.pem"))
    assert signing.verify(signing.sign({"a": 1}), "it") == "verified"
    monkeypatch.setenv(signing.VERIFY_KEY, OURS[1])
    with pytest.raises(ConfigError, match="set one"):
        signing.verify({"a": 1}, "it")
    monkeypatch.delenv(signing.VERIFY_KEY)
    monkeypatch.setenv(signing.VERIFY_KEY + signing.FILE, str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigError, match="cannot be read"):
        signing.verify({"a": 1}, "it")


def test_alias_events_are_signed_and_an_unsigned_log_is_refused(keys, tmp_path, monkeypatch):
    """With keys, each move is signed; a process with a verify key refuses an event of a log written without
    one, or one whose writer re-sealed an edit (a correct sha256, but no signature of ours)."""
    store = Store(str(tmp_path))
    for version in ("a", "b"):
        aliases.move(store, "m", "champion", version)
    assert aliases.resolve(store, "m", "champion")[0] == "b"
    newest = tmp_path / "m" / "aliases" / "champion" / f"{2:0{GENERATION_DIGITS}d}.json"
    event = json.loads(newest.read_text())
    forged = {k: v for k, v in event.items() if k != "signature"} | {"version": "a"}
    forged["sha256"] = aliases.digest(forged)  # what one who can write the store but holds no key can do
    newest.write_text(json.dumps(forged))
    with pytest.raises(Untrusted, match="not signed"):
        aliases.resolve(store, "m", "champion")
    monkeypatch.delenv(signing.SIGNING_KEY)
    monkeypatch.delenv(signing.VERIFY_KEY)
    assert aliases.resolve(store, "m", "champion")[0] == "a"  # without a key, a re-sealed edit cannot be told
