"""Which engine scores a boosted-trees version: LightGBM, or the version's compiled library for this platform.

- ``compiled``: the library (:mod:`shared.estimators.compiled`), or a refusal saying why: none built for this platform
  (66), or one that is damaged, foreign, built from another model file or for another platform, or that no
  longer predicts its recorded check rows exactly (3). LightGBM is never imported.
- ``lightgbm``: LightGBM's own predictor.
- ``auto`` (the default): the library when it passes every check, else LightGBM, with one warning line saying
  why when a library was there and failed a check.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from shared.errors import ArtifactRejected, BadArgument, MissingInput, Untrusted
from shared.estimators import compiled, formats

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from shared.families.model import Model
    from shared.storage.store import Store
    from shared.tables.schema import Schema

log = logging.getLogger(__name__)

CHECK_ROWS = 50_000  # held-out rows a new library is checked on, besides the rows built on its thresholds


class Compiled:
    """A version served by its compiled library: it predicts as a Booster does and records the model file's
    features as a Booster does, and it is neither."""

    def __init__(self, library: compiled.Library, header: formats.LightGBMHeader, key: str) -> None:
        self.library, self.header, self.key = library, header, key
        self.params = header.params
        self.pandas_categorical = header.pandas_categorical

    def feature_name(self) -> list[str]:
        return self.header.feature_name()

    def predict(self, matrix: np.ndarray, num_threads: int = 0) -> np.ndarray:
        return self.library.predict(matrix, num_threads=num_threads)


def check(model: Model, engine: str, what: str | None = None) -> None:
    """BadArgument for an engine other than auto (or ``what``, a command or flag about the compiled engine) on a
    model that is not boosted trees."""
    if compilable(model) or (engine == "auto" and what is None):
        return
    if what is not None:
        raise BadArgument(f"{what}: {model.name} is not a boosted-trees model; it has nothing to compile")
    msg = f"--engine={engine}: {model.name} is not a boosted-trees model; it has one engine: leave --engine out"
    raise BadArgument(msg)


def compilable(model: Model) -> bool:
    """Whether the compiled engine can predict the model: boosted trees (binary, multiclass, regression)."""
    return model.format == formats.LIGHTGBM


def serve(model: Model, store: Store, manifest: dict[str, Any], data: bytes, engine: str) -> Compiled | None:
    """The compiled library to score ``manifest``'s version with, or None for LightGBM (``auto`` logs why)."""
    if engine == "lightgbm" or not compilable(model):
        return None
    try:
        found = load(model, store, manifest, data)
    except (ArtifactRejected, MissingInput) as exc:
        if engine == "compiled" or isinstance(exc, Untrusted):  # nobody trusted signed it: refused, not avoided
            raise
        # none built (no compiler where it trained) is the ordinary case: said at debug level; a refused one warns
        (log.debug if isinstance(exc, MissingInput) else log.warning)("compiled engine not used: %s", exc)
        return None
    log.info("scoring with the compiled library for %s (%s)", found.key, compiled.ENGINE)
    return found


def load(model: Model, store: Store, manifest: dict[str, Any], data: bytes) -> Compiled:
    """The version's compiled library for this platform, after every check; MissingInput if it has none."""
    where = f"{model.name} version {manifest['version']}"
    key, record, rebuild = _record(model, store, manifest)
    if record.get("model_sha256") != hashlib.sha256(data).hexdigest():
        msg = f"{where}: the compiled library for {key} was built from another model file than its own: {rebuild}"
        raise ArtifactRejected(msg)
    header = formats.LightGBMHeader(data)
    try:
        library = compiled.Library(store.read_compiled(manifest, record), header.num_feature())
        compiled.verify(library, record)
    except ArtifactRejected as exc:
        text = str(exc) if str(exc).startswith(where) else f"{where}: {exc}"
        raise ArtifactRejected(f"{text}: {rebuild}") from None
    return Compiled(library, header, key)


def _record(model: Model, store: Store, manifest: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
    """This platform's key, the version's record of a library for it, and how to get one: MissingInput if there
    is none, ArtifactRejected if one is there but unreadable, or says another engine or platform."""
    where = f"{model.name} version {manifest['version']}"
    key = compiled.platform_key()
    records = store.compiled(manifest)
    record = records.get(key)
    rebuild = (
        f"run '{model.name} compile --version={manifest['version']}' where a C compiler is, or score with "
        "--engine=lightgbm"
    )
    if record is None:
        others = sorted(records)
        if others:
            msg = f"{where} has a compiled library for {', '.join(others)}, not for this platform ({key}): {rebuild}"
            raise ArtifactRejected(msg)
        raise MissingInput(f"{where} has no compiled library for this platform ({key}): {rebuild}")
    if "error" in record:
        rejected = Untrusted if record.get("untrusted") else ArtifactRejected
        raise rejected(f"{where}: compiled library for {key}: {record['error']}: {rebuild}")
    if record.get("engine") != compiled.ENGINE or record.get("platform") != compiled.platform():
        msg = (
            f"{where}: the compiled library recorded as {key} says it is {record.get('engine')!r} built for "
            f"{record.get('platform')!r}, not {compiled.ENGINE!r} for {compiled.platform()}: {rebuild}"
        )
        raise ArtifactRejected(msg)
    return key, record, rebuild


def build(model: Model, data: bytes, schema: Schema, rows: pd.DataFrame | None) -> compiled.Built:
    """Build the compiled library of a LightGBM model file (``data``) and check it against LightGBM on ``rows``
    (prepared features, e.g. the held-out ones; at most CHECK_ROWS of them) and on rows on every threshold."""
    import numpy as np

    from shared.estimators.matrix import matrix

    booster = formats.load(data, formats.LIGHTGBM)  # what the store holds, not the object in memory
    base = matrix(rows.iloc[:CHECK_ROWS]) if rows is not None and len(rows) else np.empty((0, len(schema.columns)))
    levels = {i: len(schema.categorical[name]) for i, name in enumerate(schema.columns) if name in schema.categorical}
    try:
        return compiled.build(booster, base, levels, hashlib.sha256(data).hexdigest())
    except ArtifactRejected as exc:
        raise ArtifactRejected(f"{exc}: the library is not used (score with LightGBM)") from None


def attach(model: Model, store: Store, manifest: dict[str, Any], built: compiled.Built) -> dict[str, Any]:
    """Store ``built`` as the committed version's library for this platform; what a result says of it."""
    record = store.add_compiled(manifest, compiled.platform_key(), built.data, built.record)
    log.info(
        "compiled %s version %s for %s in %.1f s: predictions equal LightGBM's bit for bit on %d check rows",
        model.name,
        manifest["version"],
        record.get("key"),
        built.record["seconds"],
        built.record["checked"]["rows"],
    )
    return summary(record)


def present(model: Model, store: Store, manifest: dict[str, Any], engine: str) -> None:
    """For a dry run of ``--engine=compiled``: MissingInput (66) or ArtifactRejected (3) as the real run would give
    for a library that is not there or whose record does not fit (the library itself is not loaded)."""
    if engine == "compiled":
        _record(model, store, manifest)


def summary(record: dict[str, Any]) -> dict[str, Any]:
    """A compiled library's record, in short, for a result."""
    return {
        "platform": record.get("key"),
        "engine": record.get("engine"),
        "size": (record.get("file") or {}).get("size"),
        "checked_rows": (record.get("checked") or {}).get("rows"),
        **({"already_compiled": True} if record.get("already_compiled") else {}),
    }
