"""Version ids: what a model version may be called (it becomes a folder name and an object key)."""

import re

from shared.errors import BadArgument

VERSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}")
EXPECTED = "1-128 characters of letters, digits and . _ : + -, starting with a letter or digit"


def problem(version: object) -> str | None:
    """What is wrong with ``version`` as a version id, or None."""
    if not isinstance(version, str) or not VERSION_ID.fullmatch(version) or ".." in version:
        return f"must be a version id: {EXPECTED}"
    return None


def check_version_id(version: str) -> str:
    """Return ``version`` if it is a safe version id, else raise BadArgument saying what is allowed."""
    if problem(version):
        msg = f"bad version id {version!r}: expected {EXPECTED}"
        raise BadArgument(msg)
    return version


def check_run_id(text: str) -> str:
    """A parameter check for ``--run_id``: ValueError saying what a version id may be."""
    if problem(text):
        raise ValueError(problem(text))
    return text


def check_version(text: str) -> str:
    """A parameter check for ``--version``: 'latest' or a version id."""
    if text != "latest" and problem(text):
        raise ValueError(f"must be 'latest' or a version id: {EXPECTED}")
    return text
