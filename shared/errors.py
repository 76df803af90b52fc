"""The one exception hierarchy of modelfleet. Each class carries the process exit code the CLI returns.

    ModelfleetError              70  anything of ours that has no more specific class
    ├── UsageError                2  unknown model, command or flag; a malformed command line
    ├── ArtifactRejected          3  a stored model failed integrity, trust or compatibility checks
    │   └── Untrusted             3  with a verify key: a record is unsigned, or not what its signer signed
    ├── BadArgument              64  a parameter value has the wrong type or breaks its constraint
    ├── BadData                  65  input data breaks the model's contract (columns, types, emptiness)
    ├── MissingInput             66  an input file or a model version does not exist
    ├── LocalIOError             74  a local read or write failed (disk full, unwritable folder)
    ├── StoreUnavailable         75  the store or network failed in a way worth retrying
    ├── AliasMoved               76  an alias no longer points where --expect said; nothing was changed
    ├── PermissionDenied         77  the store or a path refused access
    ├── ConfigError              78  bad configuration, or a model whose extra is not installed
    │   └── ModelDefinitionError 78  a model class breaks the model contract (found when it is defined)
    ├── NothingToDo              99  the input has no rows: nothing was done and nothing was written
    ├── NotPromoted             100  train committed the version, but its gate kept it from the alias
    ├── Drifted                 101  score wrote its predictions, but the input has drifted (--on_drift=fail)
    ├── Interrupted             130  SIGINT arrived (Ctrl-C); nothing was committed
    └── Terminated              143  SIGTERM arrived (e.g. the pod was deleted); nothing was committed

Subclasses also derive from the builtin they resemble (``BadData`` is a ``ValueError``), so code that
catches builtins keeps working. Messages say what was wrong, what was expected and what to do.
"""

from __future__ import annotations

import errno


class ModelfleetError(Exception):
    """Base class of every error modelfleet raises on purpose."""

    exit_code = 70


class UsageError(ModelfleetError):
    """The command line names no known model, command or flag, or is malformed."""

    exit_code = 2


class ArtifactRejected(ModelfleetError):
    """A stored model file failed integrity, trust or compatibility checks; it was not loaded."""

    exit_code = 3


class Untrusted(ArtifactRejected):
    """With a verify key configured, a stored record (a manifest, a compiled library's record, an alias event)
    is unsigned, signed by another key, or changed since it was signed: nothing it names is used, and no engine
    falls back around it."""


class BadArgument(ModelfleetError, ValueError):
    """A parameter value has the wrong type or breaks its constraint."""

    exit_code = 64


class ResultFileConflict(BadArgument):
    """The result file would replace, or land inside, what the command reads or writes; none is written."""


class BadData(ModelfleetError, ValueError):
    """Input data breaks the model's contract: missing columns, wrong types, no rows."""

    exit_code = 65


class MissingInput(ModelfleetError, FileNotFoundError):
    """An input file or a stored model version does not exist."""

    exit_code = 66


class LocalIOError(ModelfleetError, OSError):
    """A local read or write failed, for example because the disk is full."""

    exit_code = 74


class StoreUnavailable(ModelfleetError, ConnectionError):
    """The store or the network failed in a way that is worth retrying later."""

    exit_code = 75


class AliasMoved(ModelfleetError):
    """An alias no longer points where ``--expect`` said (another move came first); nothing was changed."""

    exit_code = 76


class PermissionDenied(ModelfleetError, PermissionError):
    """The store or a path refused access."""

    exit_code = 77


class ConfigError(ModelfleetError):
    """The configuration is wrong, or the model's extra is not installed in this environment."""

    exit_code = 78


class ModelDefinitionError(ConfigError, TypeError):
    """A model class breaks the model contract, e.g. a hyperparameter that never reaches its estimator."""


class NothingToDo(ModelfleetError):
    """The input has no rows, so there was nothing to do; nothing was written (Airflow: skip the task)."""

    exit_code = 99


class NotPromoted(ModelfleetError):
    """``train --promote`` committed the new version, but its gate refused it the alias (Airflow: skip the task,
    never retry it: a retry reads the same verdict). Its ``result`` is the command's result, verdict included."""

    exit_code = 100

    def __init__(self, message: str, result: dict) -> None:
        super().__init__(message)
        self.result = result


class Drifted(ModelfleetError):
    """``score --on_drift=fail`` wrote its predictions, but its input no longer looks like the training rows
    (Airflow: fail without retry, or branch on the result: a retry sees the same input). Its ``result`` is the
    command's result, the drift verdict included."""

    exit_code = 101

    def __init__(self, message: str, result: dict) -> None:
        super().__init__(message)
        self.result = result


class Stopped(BaseException):
    """A signal stopped the command; what it had already committed stays and is named. Not an Exception (like
    KeyboardInterrupt): no library's ``except Exception`` may swallow it and let the command go on to commit."""

    exit_code = 70


class Interrupted(Stopped):
    """The process was interrupted (SIGINT, Ctrl-C); the command stopped, and names what it had committed."""

    exit_code = 130


class Terminated(Stopped):
    """The process was asked to stop (SIGTERM); the command stopped, and names what it had committed."""

    exit_code = 143


def shown(value: object, limit: int = 80) -> str:
    """A value as an error message echoes it: its repr, cut to about ``limit`` characters (a 100 kB junk cell
    must not become a 100 kB message)."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # a numpy scalar: 0, not np.int64(0)
        value = value.item()
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 20]}... ({len(text)} characters)"


def exit_code_for(exc: BaseException) -> int:
    """Return the documented exit code for any exception, ours or not."""
    if isinstance(exc, (ModelfleetError, Stopped)):
        return exc.exit_code
    if isinstance(exc, PermissionError):
        return PermissionDenied.exit_code
    if isinstance(exc, FileNotFoundError):
        return MissingInput.exit_code
    if isinstance(exc, BrokenPipeError):  # a ConnectionError, but of our own stdout or a pipe, not the network
        return LocalIOError.exit_code
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return StoreUnavailable.exit_code
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EROFS, errno.EIO, errno.EDQUOT):
        return LocalIOError.exit_code
    return ModelfleetError.exit_code
