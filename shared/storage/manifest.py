"""The shape of a version's manifest: every key a reader relies on, with its type, checked before any is used.

A manifest is written by ``Store.commit``; this schema is what every reader may assume of one, whoever wrote
it (this build, the previous release, a hand edit, a foreign tool). Keys it does not name are kept (a newer
build may add some); keys it names must have their type, strictly: ``"5"`` is no count and ``true`` no number.
What the values mean together (features against the model file, files against their bytes) is checked where
they are used.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from shared.errors import ArtifactRejected

Text = Annotated[str, StringConstraints(min_length=1)]
Count = Annotated[int, Field(ge=0)]


class _Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class FileEntry(_Shape):
    name: Text
    path: Text
    format: Text
    size: Count
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class FeatureEntry(_Shape):
    name: Text
    kind: Literal["numeric", "categorical"]
    levels: list[str] | None = None


class LegacyFeatures(_Shape):
    """Schema 1's features: a mapping that kept no order."""

    numeric: list[str]
    categorical: dict[str, list[str]] | list[str]


class SplitRecord(_Shape):
    method: Text
    rows: dict[str, Count]
    seed: int | None = None
    valid_fraction: float | None = None
    stop_fraction: float | None = None


class ImportanceEntry(_Shape):
    """One feature's importance in the fitted model: total gain of its splits, and how many splits use it."""

    feature: Text
    gain: float
    split: Count


class Manifest(_Shape):
    schema_version: Literal[1, 2]
    model: Text
    version: Text
    committed_at: str
    files: Annotated[list[FileEntry], Field(min_length=1)]
    features: list[FeatureEntry] | LegacyFeatures | None = None
    label: str | None = None
    prediction: str | None = None
    params: dict[str, Any] = {}
    metrics: dict[str, float | dict[str, float] | None] = {}  # a number, or one per level (segment sizes)
    rows: dict[str, Count] = {}
    split: SplitRecord | None = None
    as_of: str | None = None
    data: dict[str, Any] | None = None
    libraries: dict[str, str] = {}
    attempt: str | None = None
    importance: list[ImportanceEntry] | None = None  # in the features' order
    best_iteration: Count | None = None  # the boosting rounds the model file holds
    trained_on_sample: bool | None = None  # a demonstration version: trained on the embedded sample

    @model_validator(mode="after")
    def _ordered_features(self) -> Manifest:
        if self.schema_version == 2 and isinstance(self.features, LegacyFeatures):
            raise ValueError("a schema 2 manifest lists its features in order: 'features' must be a list")
        return self

    @field_validator("committed_at")
    @classmethod
    def _a_time(cls, value: str) -> str:
        if parse_time(value) is None:
            raise ValueError("must be an ISO 8601 time")
        return value

    @field_validator("as_of")
    @classmethod
    def _a_date(cls, value: str | None) -> str | None:
        try:
            value is None or dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a date, YYYY-MM-DD") from None
        return value


def check(manifest: Any, path: str) -> None:
    """Raise ArtifactRejected (exit 3) naming the first key of ``manifest`` that does not have its shape."""
    try:
        Manifest.model_validate(manifest)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"] if not _type_tag(part))
        got = f"; got {first['input']!r:.80}" if first["type"] != "missing" and first["loc"] else ""
        problem = first["msg"].removeprefix("Value error, ")
        where = f"{where}: " if where else ""
        msg = f"manifest {path} is not a valid modelfleet manifest: {where}{problem[:1].lower()}{problem[1:]}{got}"
        if exc.error_count() > 1:
            msg += f" (and {exc.error_count() - 1} more problems)"
        raise ArtifactRejected(msg + "; refusing it") from None


def _type_tag(part: str | int) -> bool:
    """Whether a location part names a branch of a union (``list[FeatureEntry]``), not a key."""
    return isinstance(part, str) and ("[" in part or part in _SHAPES or part in _SCALARS)


_SCALARS = {"float", "int", "str", "bool", "none"}
_SHAPES = {cls.__name__ for cls in (FileEntry, FeatureEntry, LegacyFeatures, SplitRecord)}


def parse_time(text: str) -> dt.datetime | None:
    """An ISO 8601 time as an aware datetime (UTC if it names no zone), or None if it is none."""
    try:
        stamp = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
