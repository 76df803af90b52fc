"""One translation of what filesystems, the network and parsers raise into the documented errors.

Every place that reads or writes bytes (an input, an output, the store, a config file, the result file)
describes itself as a :class:`Place` and does its work inside ``translated(place)``. The rules, in this order,
are the same everywhere:

1. a modelfleet error passes through as it is;
2. an option in ``MODELFLEET_STORAGE_OPTIONS`` that the filesystem does not take: ConfigError (78);
3. no credentials found (botocore's NoCredentialsError and its kin): PermissionDenied (77);
4. PermissionError: PermissionDenied (77);
5. FileNotFoundError: the place's ``missing`` error (MissingInput, 66, unless the place says otherwise);
6. the network's failures, builtin (ConnectionError, TimeoutError) or a remote library's own (botocore,
   aiohttp), also when a filesystem wrapped them in an OSError: StoreUnavailable (75), worth a retry;
7. any other OSError, and for a place that parses (``parses``) a ValueError: the place's ``broken`` error
   (a folder where a file belongs, or the reverse, may have words of its own: ``not_a_folder``);
8. anything else is raised as it is: a bug (70).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from shared.errors import (
    BadData,
    ConfigError,
    LocalIOError,
    MissingInput,
    ModelfleetError,
    PermissionDenied,
    StoreUnavailable,
)

OPTIONS_ENV = "MODELFLEET_STORAGE_OPTIONS"
# Network failures of the remote filesystems' own libraries (botocore, aiohttp), which are not builtin
# ConnectionErrors: worth a retry (exit 75), not an internal error.
NETWORK_ERRORS = {
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ConnectionClosedError",
    "ClientConnectionError",
    "ServerDisconnectedError",
}


@dataclass(frozen=True)
class Place:
    """What a failure happened to, as each message says it. ``{where}`` is ``where``; ``{reason}`` the
    operating system's reason (or the error's text); ``{detail}`` the error's first line; ``{file}`` the file
    the error names (or ``where``)."""

    where: str
    denied: str  # e.g. "permission denied reading {where}: {reason}"
    unavailable: str  # e.g. "reading {where} failed: {detail}; retry later"
    missing: str  # e.g. "input not found: {where}"
    broken: str  # e.g. "cannot read {where}: {detail}"
    not_a_folder: str | None = None  # a file where a folder belongs, or the reverse; else it is ``broken``
    broken_as: type[ModelfleetError] = LocalIOError
    missing_as: type[ModelfleetError] = MissingInput
    parses: bool = False  # a ValueError is the place's content being broken (a parser's), not a bug

    def say(self, template: str, exc: BaseException) -> str:
        reason = getattr(exc, "strerror", None) or exc
        file = getattr(exc, "filename", None) or self.where
        return template.format(where=self.where, reason=reason, detail=first_line(exc), file=file)


def translate(exc: BaseException, place: Place) -> BaseException | None:
    """The documented error for ``exc`` at ``place`` by the rules above, or None if it is not ours to map."""
    if isinstance(exc, ModelfleetError):
        return None
    if refused := bad_option(exc):
        return refused
    if "Credentials" in type(exc).__name__:
        return PermissionDenied(f"{place.where}: no credentials found; provide them through the environment or a file")
    if isinstance(exc, PermissionError):
        return PermissionDenied(place.say(place.denied, exc))
    if isinstance(exc, FileNotFoundError):
        return place.missing_as(place.say(place.missing, exc))
    if transient(exc):
        return StoreUnavailable(place.say(place.unavailable, exc))
    if place.not_a_folder and isinstance(exc, (NotADirectoryError, IsADirectoryError)):
        return place.broken_as(place.say(place.not_a_folder, exc))
    if isinstance(exc, OSError) or (place.parses and isinstance(exc, ValueError)):
        return place.broken_as(place.say(place.broken, exc))
    return None


@contextlib.contextmanager
def translated(place: Place) -> Iterator[None]:
    """Run the body; raise what it raises as the documented error for ``place`` (see :func:`translate`)."""
    try:
        yield
    except Exception as exc:
        mapped = translate(exc, place)
        if mapped is None:
            raise
        raise mapped from exc


def transient(exc: BaseException | None) -> bool:
    """Whether a failure is the network's (worth a retry: exit 75), builtin or the remote library's own, also
    when a filesystem wrapped it in an OSError. A broken pipe is our own stdout's, not the network's."""
    seen = 0
    while exc is not None and seen < 8:
        names = {cls.__name__ for cls in type(exc).__mro__}
        if isinstance(exc, BrokenPipeError):
            return False
        if isinstance(exc, (ConnectionError, TimeoutError)) or names & NETWORK_ERRORS:
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def bad_option(exc: BaseException) -> ConfigError | None:
    """A ConfigError if ``exc`` is a remote filesystem refusing an option of MODELFLEET_STORAGE_OPTIONS."""
    if isinstance(exc, TypeError) and "unexpected keyword argument" in str(exc):
        return ConfigError(f"{OPTIONS_ENV} holds an option the filesystem does not know: {first_line(exc)}")
    return None


def first_line(exc: BaseException) -> str:
    """An error's first line of text (libraries put a traceback-like tail below it), cut to 300 characters."""
    lines = str(exc).strip().splitlines()
    return " ".join(lines[0].split())[:300] if lines else type(exc).__name__


def input_place(path: str | os.PathLike, kind: str) -> Place:
    """An input being read: a table, a folder of them, or a file's bytes."""
    return Place(
        str(path),
        denied="permission denied reading {where}: {reason}",
        unavailable="reading {where} failed: {detail}; retry later",
        missing="input not found: {where}",
        broken="cannot read {where} as " + kind + ": {detail}",
        broken_as=BadData,
        parses=True,
    )


def output_place(path: str | os.PathLike) -> Place:
    """An output being written."""
    return Place(
        str(path),
        denied="permission denied writing {where}: {reason}",
        unavailable="writing {where} failed: {detail}; retry later",
        missing="cannot write {where}: {reason}",
        broken="cannot write {where}: {reason}",
        missing_as=LocalIOError,
    )


def store_place(url: str) -> Place:
    """The artifact store, reading or writing."""
    return Place(
        url,
        denied="permission denied in store {where}: {reason}",
        unavailable="store {where} unavailable: {detail}; retry later",
        missing="not found in store {where}: {file}",
        broken="store {where}: {reason}",
        not_a_folder="store {where} is not a usable folder: {reason}",
    )


def config_place(path: str | os.PathLike) -> Place:
    """A config file being read."""
    return Place(
        str(path),
        denied="permission denied reading config file {where}: {reason}",
        unavailable="reading config file {where} failed: {detail}; retry later",
        missing="config file not found: {where}",
        broken="cannot read config file {where}: {reason}",
        broken_as=ConfigError,
        missing_as=ConfigError,
    )


def result_place(path: str | os.PathLike) -> Place:
    """The result file being written for the orchestrator."""
    return Place(
        str(path),
        denied="permission denied writing the result file {where}: {reason}",
        unavailable="writing the result file {where} failed: {detail}; retry later",
        missing="cannot write the result file {where}: {reason}",
        broken="cannot write the result file {where}: {reason}",
        missing_as=LocalIOError,
    )
