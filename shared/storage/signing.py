"""Signed versions: who may make what every scoring pod trusts.

Anyone who can write the store could otherwise replace a model file and its manifest together, or a compiled
library and its record (native code every scoring pod loads), or an alias event. With keys, trust needs more
than write access: a process that holds the **signing key** (Ed25519, private) signs each record it writes,
a version's manifest (which lists every file with its sha256), a compiled library's record (the library's
sha256 and the model's) and an alias event; a process that holds a **verify key** (public) refuses (3) any of
them that is unsigned or badly signed, before anything it names is read, parsed or loaded.

Keys are PEM text, from a variable or a file (a Kubernetes Secret as an env var or a mounted file):

    MODELFLEET_SIGNING_KEY / MODELFLEET_SIGNING_KEY_FILE   training, compile and promotion: sign what is written
    MODELFLEET_VERIFY_KEY  / MODELFLEET_VERIFY_KEY_FILE    every process that reads: refuse what is not signed

A verify key may hold several public keys (one PEM block each: a key rotation), any of which may have signed.
Signing and verifying are switched on apart, so a fleet can start signing first and verify once what it scores
is signed. Without a verify key nothing is checked, and ``describe`` says whether a version is signed. The
cryptography is ``cryptography``'s Ed25519, imported only when a key is configured.

What is signed is a record's content: every key but ``signature`` (and the fields named as derived from it),
in one canonical JSON spelling, so re-indenting a file changes nothing and editing any value breaks it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
from typing import Any

from shared.errors import ConfigError, Untrusted, shown

SIGNING_KEY = "MODELFLEET_SIGNING_KEY"
VERIFY_KEY = "MODELFLEET_VERIFY_KEY"
FILE = "_FILE"  # MODELFLEET_SIGNING_KEY_FILE, MODELFLEET_VERIFY_KEY_FILE: the same PEM text, from a file
ALGORITHM = "ed25519"
KEY_TEXT_LIMIT = 64 * 1024  # a PEM key is about 120 bytes; a bundle of rotated keys stays far below this


def canonical(record: dict[str, Any], derived: tuple[str, ...] = ()) -> bytes:
    """The bytes a signature covers: ``record`` without its signature and ``derived`` keys, keys sorted, no
    whitespace (what a JSON reader gives back is what a writer signed, whatever its layout)."""
    content = {key: value for key, value in record.items() if key != "signature" and key not in derived}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def configured() -> bool:
    """Whether this process checks signatures: it holds a verify key."""
    return bool(os.environ.get(VERIFY_KEY) or os.environ.get(VERIFY_KEY + FILE))


def sign(record: dict[str, Any], derived: tuple[str, ...] = ()) -> dict[str, Any]:
    """``record`` with a ``signature`` by this process's signing key, or unchanged if it holds none."""
    key = _signer(_text(SIGNING_KEY))
    if key is None:
        return record
    value = key.sign(canonical(record, derived))
    return {**record, "signature": {"algorithm": ALGORITHM, "key": key_id(key.public_key()), "value": _b64(value)}}


def verify(record: dict[str, Any], what: str, derived: tuple[str, ...] = ()) -> str:
    """Check ``record``'s signature if this process holds a key, and say how it stands: ``verified`` (by a key
    of ours), ``signed`` (a signature this process holds no key to check) or ``unsigned``.

    Untrusted (3), naming ``what``, when a key is configured and the record is unsigned, signed by
    another key, or its content is not what was signed."""
    keys = _verifiers(_text(VERIFY_KEY))
    signature = record.get("signature")
    if not keys:
        return "unsigned" if signature is None else "signed"
    fix = f"a process holding {VERIFY_KEY} trusts only what a holder of {SIGNING_KEY} wrote"
    if signature is None:
        msg = f"{what} is not signed; {fix} (train, compile or promote it again with the signing key)"
        raise Untrusted(msg)
    if (
        not isinstance(signature, dict)
        or signature.get("algorithm") != ALGORITHM
        or not isinstance(signature.get("key"), str)
        or not isinstance(signature.get("value"), str)
    ):
        msg = f"{what} has a signature this build does not read (an {ALGORITHM} signature is expected); {fix}"
        raise Untrusted(msg)
    key = keys.get(signature["key"])
    if key is None:
        known = ", ".join(sorted(keys))
        msg = f"{what} is signed by key {shown(signature['key'])}, not by a verify key of this process ({known}); {fix}"
        raise Untrusted(msg)
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(base64.b64decode(signature["value"], validate=True), canonical(record, derived))
    except (InvalidSignature, ValueError):
        msg = f"{what} does not match its signature: it was changed after it was signed; {fix}"
        raise Untrusted(msg) from None
    return "verified"


def stated(record: dict[str, Any]) -> dict[str, Any]:
    """How a record that was read stands, for ``describe``: signed or not, by which key, and whether this
    process checked it (it holds a verify key, so an unsigned or badly signed one would have been refused)."""
    signature = record.get("signature")
    key = signature.get("key") if isinstance(signature, dict) else None
    return {"signed": signature is not None, "key": key, "verified": signature is not None and configured()}


def check() -> None:
    """ConfigError (78) now, before any work, for a configured key that is not one (not at the first record)."""
    _signer(_text(SIGNING_KEY))
    _verifiers(_text(VERIFY_KEY))


def check_writer(what: str) -> None:
    """ConfigError (78) before a command that writes records (train, compile, promote, rollback) does any work,
    when what it would write is what its own verify key refuses: no signing key, or one whose public half is
    not among the verify keys."""
    keys = _verifiers(_text(VERIFY_KEY))
    if not keys:
        return
    signer = _signer(_text(SIGNING_KEY))
    if signer is None:
        msg = (
            f"{what} writes records that this process, holding {VERIFY_KEY}, would refuse: it holds no signing "
            f"key; give it {SIGNING_KEY} (or {SIGNING_KEY}{FILE}), or run it where versions are made"
        )
        raise ConfigError(msg)
    if key_id(signer.public_key()) not in keys:
        msg = (
            f"{what}: {SIGNING_KEY} is not the private half of any {VERIFY_KEY} of this process "
            f"({', '.join(sorted(keys))}); what it signs would be refused: give it the matching keys"
        )
        raise ConfigError(msg)


def key_id(public: Any) -> str:
    """A public key's short name: the first 16 hex digits of the sha256 of its raw 32 bytes."""
    from cryptography.hazmat.primitives import serialization

    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def fingerprints() -> list[str]:
    """The ids of the keys this process verifies with (empty: it verifies nothing)."""
    return sorted(_verifiers(_text(VERIFY_KEY)))


def _text(name: str) -> str | None:
    """A key's PEM text, from ``name`` or the file ``name_FILE`` names; ConfigError (78) if both or neither
    readable."""
    inline, path = os.environ.get(name), os.environ.get(name + FILE)
    if inline and path:
        msg = f"both {name} and {name}{FILE} are set; set one (the key itself, or the file that holds it)"
        raise ConfigError(msg)
    if not path:
        return inline or None
    try:
        with open(path, "rb") as handle:
            data = handle.read(KEY_TEXT_LIMIT + 1)
    except OSError as exc:
        msg = f"{name}{FILE}={shown(path)} cannot be read ({exc.strerror or exc}); point it at the mounted key file"
        raise ConfigError(msg) from None
    if len(data) > KEY_TEXT_LIMIT:
        msg = f"{name}{FILE}={shown(path)} is larger than {KEY_TEXT_LIMIT} bytes; it should hold PEM key text"
        raise ConfigError(msg)
    return data.decode("ascii", errors="replace")


@functools.cache
def _signer(text: str | None) -> Any:
    """The Ed25519 private key in ``text``, or None; ConfigError (78) for anything else."""
    if text is None:
        return None
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        msg = (
            f"{_source(SIGNING_KEY)} is not an unencrypted Ed25519 private key in PEM (-----BEGIN PRIVATE KEY-----); "
            "make one with: openssl genpkey -algorithm ed25519 -out signing.pem"
        )
        raise ConfigError(msg)
    return key


@functools.cache
def _verifiers(text: str | None) -> dict[str, Any]:
    """The public keys to verify with, by id: every PEM block of the verify key."""
    found: dict[str, Any] = {}
    if text is not None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        marker = "-----BEGIN PUBLIC KEY-----"
        blocks = [marker + block for block in text.split(marker)[1:]]
        for block in blocks:
            try:
                key = serialization.load_pem_public_key(block.encode())
            except (ValueError, TypeError):
                key = None
            if not isinstance(key, Ed25519PublicKey):
                break
            found[key_id(key)] = key
        if not blocks or len(found) != len(blocks):
            msg = (
                f"{_source(VERIFY_KEY)} is not one or more Ed25519 public keys in PEM (-----BEGIN PUBLIC KEY-----); "
                "make one from the signing key with: openssl pkey -in signing.pem -pubout -out verify.pem"
            )
            raise ConfigError(msg)
    return found


def _source(name: str) -> str:
    """The variable a key came from: ``name``, or ``name_FILE`` and the file it names."""
    path = os.environ.get(name + FILE)
    return f"{name}{FILE}={shown(path)}" if path and not os.environ.get(name) else name


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
