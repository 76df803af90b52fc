"""The allowlist of model file formats. No format here can run code when it is read.

- ``lightgbm-text``: LightGBM's own text model format.
- ``skops``: scikit-learn objects through skops, loading only types named in a trusted list that the
  model's code declares (never one computed from the file).

Each format also says which library versions can read what another version wrote.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import Any

from shared.errors import ArtifactRejected

LIGHTGBM = "lightgbm-text"
SKOPS = "skops"
ALLOWED = (LIGHTGBM, SKOPS)
LEAN_IMPORTS = False  # see _lightgbm

# The library whose version decides compatibility, and how many version components must match.
_COMPATIBILITY = {LIGHTGBM: ("lightgbm", 1), SKOPS: ("scikit-learn", 2)}


def dump(obj: Any, fmt: str) -> bytes:
    """Serialise ``obj`` in format ``fmt``."""
    if fmt == LIGHTGBM:
        return obj.model_to_string().encode()
    if fmt == SKOPS:
        import skops.io

        return skops.io.dumps(obj)
    raise ArtifactRejected(_not_allowed(fmt))


def load(data: bytes, fmt: str, trusted: Iterable[str] = ()) -> Any:
    """Deserialise bytes of an allowlisted format; skops loads only the ``trusted`` type names.

    The bytes are first checked to look like the format, so that no parser is handed something else
    (a pickle renamed model.txt, a model file cut before its end).
    """
    sniff(data, fmt)
    if fmt == LIGHTGBM:
        return _lightgbm().Booster(model_str=data.decode())
    if fmt == SKOPS:
        import skops.io

        untrusted = sorted(set(skops.io.get_untrusted_types(data=data)) - set(trusted))
        if untrusted:
            msg = f"skops file holds types this model does not trust: {', '.join(untrusted)}; refusing to load it"
            raise ArtifactRejected(msg)
        return skops.io.loads(data, trusted=sorted(set(trusted)) or None)
    raise ArtifactRejected(_not_allowed(fmt))


def _lightgbm() -> Any:
    """LightGBM. In a process of its own (``LEAN_IMPORTS``, set by the command line) that has not imported
    scikit-learn, LightGBM is imported without it: its optional scikit-learn API, which modelfleet never uses,
    costs a scoring process about a second. (scipy stays: LightGBM itself imports it.)"""
    if not LEAN_IMPORTS or "lightgbm" in sys.modules or "sklearn" in sys.modules:
        import lightgbm

        return lightgbm
    sys.modules["sklearn"] = None  # type: ignore[assignment]  # `import sklearn` raises ImportError: LightGBM skips it
    try:
        import lightgbm
    finally:
        del sys.modules["sklearn"]
    return lightgbm


def sniff(data: bytes, fmt: str) -> None:
    """Raise ArtifactRejected unless ``data`` has the shape of a complete file of format ``fmt``."""
    if fmt == LIGHTGBM:
        head = data[:64]
        if not head.startswith(b"tree\n") or b"\nend of trees\n" not in data or b"\nend of parameters\n" not in data:
            kind = "a pickle" if head[:1] == b"\x80" or head[:2] in (b"(d", b"(l", b"}q", b"cc") else "something else"
            msg = f"model file is not a complete LightGBM text model (it looks like {kind}); refusing to parse it"
            raise ArtifactRejected(msg)
    elif fmt == SKOPS and not data.startswith(b"PK\x03\x04"):
        msg = "model file is not a skops archive; refusing to parse it"
        raise ArtifactRejected(msg)


def libraries(fmt: str) -> dict[str, str]:
    """Return the versions of the libraries that a file of ``fmt`` depends on, for the manifest."""
    package, _ = _COMPATIBILITY[fmt]
    import importlib.metadata  # only when a command runs: it is slow to import

    return {package: importlib.metadata.version(package)}


def check_compatible(fmt: str, recorded: dict[str, str], where: str) -> None:
    """Raise ArtifactRejected if the installed library cannot be trusted to read a file of ``fmt``."""
    if fmt not in ALLOWED:
        raise ArtifactRejected(f"{where}: {_not_allowed(fmt)}")
    import importlib.metadata

    package, parts = _COMPATIBILITY[fmt]
    wrote = recorded.get(package)
    have = importlib.metadata.version(package)
    if wrote is None or wrote.split(".")[:parts] != have.split(".")[:parts]:
        msg = (
            f"{where} was written with {package} {wrote}, this image has {have}; "
            f"retrain it or score with an image whose {package} matches {'.'.join(str(wrote).split('.')[:parts])}"
        )
        raise ArtifactRejected(msg)


def _not_allowed(fmt: str) -> str:
    return f"model format {fmt!r} is not allowed; allowed formats: {', '.join(ALLOWED)}"


class LightGBMHeader:
    """What a LightGBM text model file records of its features, read without LightGBM, under the names a Booster
    gives them: ``feature_name()``, ``params["categorical_feature"]`` and ``pandas_categorical``."""

    def __init__(self, data: bytes) -> None:
        import json

        sniff(data, LIGHTGBM)
        text = data.decode()
        names = re.search(r"^feature_names=(.*)$", text, re.M)
        if names is None:
            raise ArtifactRejected("model file records no feature_names line; refusing it")
        self._names = names.group(1).split(" ") if names.group(1) else []
        positions = re.search(r"^\[categorical_feature: ([^\]\n]*)\]$", text, re.M)
        self.params = {"categorical_feature": positions.group(1) if positions else ""}
        levels = [line for line in text.splitlines() if line.startswith("pandas_categorical:")]
        try:
            self.pandas_categorical = json.loads(levels[-1].split(":", 1)[1]) if levels else None
        except (ValueError, RecursionError):
            raise ArtifactRejected("model file's pandas_categorical line is not JSON; refusing it") from None

    def feature_name(self) -> list[str]:
        return list(self._names)

    def num_feature(self) -> int:
        return len(self._names)
