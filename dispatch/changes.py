"""A set of new files and edited files, written all or nothing: what ``modelfleet new`` applies.

Every file appears whole (a temporary file beside it, moved into place). A new file gets the mode the umask
gives; an edited file keeps its mode and its line endings, and a link is followed to the file it names. Should
anything fail (a full disk, a signal), every file written so far is restored or removed, and so is every folder
made on the way.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from shared.errors import ConfigError, LocalIOError, PermissionDenied


@dataclass
class Changes:
    """New files (``created``: relative path -> text) and edits (``changed``: relative path -> (text now, new text))
    under ``root``; with ``fresh``, ``root`` itself is new (or an empty folder) and is built beside it first."""

    root: Path
    created: dict[str, str] = field(default_factory=dict)
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)
    fresh: bool = False

    def apply(self) -> None:
        """Write everything, or (on any failure) nothing."""
        made: list[Path] = []  # what was created, in order: removed in reverse (a folder made whole, with its files)
        restored: list[tuple[Path, bytes, int]] = []  # edited files: their bytes and mode before
        try:
            if self.fresh:
                self._build_fresh(made)
            else:
                for path, text in self.created.items():
                    _make_parents(self.root / path, made)
                    _write(self.root / path, text, mode=None)
                    made.append(self.root / path)
            for path, (before, after) in self.changed.items():
                target = (self.root / path).resolve()  # a link: edit the file it names
                now = read_text(target)
                if now != before:
                    msg = f"{path} changed while the new model was being written; run `modelfleet new` again"
                    raise ConfigError(msg)
                restored.append((target, target.read_bytes(), target.stat().st_mode))
                _write(target, _with_line_endings(after, now), mode=target.stat().st_mode)
        except BaseException as exc:
            for target, data, mode in reversed(restored):
                with contextlib.suppress(OSError):
                    _write_bytes(target, data, mode)
            for created in reversed(made):
                with contextlib.suppress(OSError):
                    _remove(created)
            if isinstance(exc, OSError):
                msg = f"cannot write the new model in {self.root}: {exc.strerror or exc}; nothing was written"
                raise LocalIOError(msg) from exc
            raise

    def _build_fresh(self, made: list[Path]) -> None:
        """Build the new folder's files beside it, then move them into place: the folder whole, or its entries
        into the empty folder of the user's that is there (which stays, with its owner and mode)."""
        import shutil
        import tempfile

        _make_parents(self.root, made)
        building = Path(tempfile.mkdtemp(prefix=f".{self.root.name}.", dir=self.root.parent))
        try:
            building.chmod(_default_mode(0o777))
            for path, text in self.created.items():
                _make_parents(building / path, [])
                _write(building / path, text, mode=None)
            if self.root.is_dir():
                for entry in sorted(building.iterdir()):
                    entry.rename(self.root / entry.name)
                    made.append(self.root / entry.name)
            else:
                building.rename(self.root)
                made.append(self.root)
        finally:
            shutil.rmtree(building, ignore_errors=True)


def _remove(path: Path) -> None:
    """Remove what this run created: a file, an empty folder, or a folder it made whole."""
    import shutil

    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def read_text(path: Path) -> str:
    """A text file's text, line endings as they are; ConfigError if it is not UTF-8, PermissionDenied if unreadable."""
    try:
        data = path.read_bytes()
    except PermissionError as exc:
        raise PermissionDenied(f"cannot read {path}: {exc.strerror}") from None
    except OSError as exc:
        raise LocalIOError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        raise ConfigError(msg) from None


def _with_line_endings(text: str, like: str) -> str:
    """``text`` with the line endings of ``like`` (an edit of a CRLF file stays CRLF)."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n") if "\r\n" in like else text


def _make_parents(path: Path, made: list[Path]) -> None:
    for parent in reversed(path.parents):
        if not parent.exists():
            parent.mkdir(mode=_default_mode(0o777))
            made.append(parent)


def _default_mode(full: int) -> int:
    """``full`` (0o666 for a file, 0o777 for a folder) less the process's umask, as open() and mkdir() give."""
    umask = os.umask(0)
    os.umask(umask)
    return full & ~umask


def _write(path: Path, text: str, mode: int | None) -> None:
    """Write ``text`` (as it is: no newline translation) to ``path`` whole, with ``mode`` (None: the default)."""
    _write_bytes(path, text.encode("utf-8"), mode)


def _write_bytes(path: Path, data: bytes, mode: int | None) -> None:
    import tempfile

    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, _default_mode(0o666) if mode is None else mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
