"""Version ids: what a model version may be called (it becomes a folder name and an object key)."""

import re

from shared.errors import BadArgument

VERSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}")
EXPECTED = "1-128 characters of letters, digits and . _ : + -, starting with a letter or digit"
ALIAS = re.compile(r"[a-z][a-z0-9_-]{0,62}")  # an alias's name (see shared.storage.aliases)
AT_GENERATION = re.compile(r"([a-z][a-z0-9_-]{0,62})@([1-9][0-9]{0,8})")  # champion@3: one event of an alias
# Words the command line gives a meaning of its own (--version=latest, --expect=none, --against=none): no version
# and no alias may be called so, or one name would mean two things. 'ALIAS@N' needs no entry: no id holds '@'.
RESERVED = ("latest", "none")


def problem(version: object) -> str | None:
    """What is wrong with ``version`` as a version id, or None."""
    if not isinstance(version, str) or not VERSION_ID.fullmatch(version) or ".." in version:
        return f"must be a version id: {EXPECTED}"
    if version in RESERVED:
        return f"must not be {version!r}: {reserved(version)}; choose another version id"
    return None


def reserved(word: str) -> str:
    """What a reserved word already means on the command line."""
    return {
        "latest": "'latest' always means the newest commit",
        "none": "'none' means no version (--expect=none, --against=none)",
    }[word]


def check_version_id(version: str) -> str:
    """Return ``version`` if it is a safe version id, else raise BadArgument saying what is allowed."""
    if problem(version):
        msg = f"bad version id {version!r}: {problem(version)}"
        raise BadArgument(msg)
    return version


def check_run_id(text: str) -> str:
    """A parameter check for ``--run_id``: ValueError saying what a version id may be."""
    if problem(text):
        raise ValueError(problem(text))
    return text


def check_version(text: str) -> str:
    """A parameter check for ``--version``: 'latest', a version id, an alias, or an alias at a generation."""
    if text != "latest" and problem(text) and not AT_GENERATION.fullmatch(text):
        raise ValueError(f"must be 'latest', a version id ({EXPECTED}), an alias or ALIAS@N (e.g. champion@3)")
    return text


def check_against(text: str) -> str:
    """A parameter check for ``--against``: a version as ``--version`` takes it, or 'none' (nothing to compare)."""
    return text if text == "none" else check_version(text)
