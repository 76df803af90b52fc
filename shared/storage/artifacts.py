"""A version's model file: its name, the provenance recorded with it, and loading it after every check.

:func:`load` resolves a version, reads its model file through the store's integrity checks (size, sha256),
refuses a file its libraries cannot read, and checks the manifest's feature schema against what the file
itself records, so the model always reads the columns it was trained on, in its order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from shared.estimators import formats

if TYPE_CHECKING:
    from shared.families.model import Model
    from shared.storage.store import Store
    from shared.tables.schema import Schema

MODEL_FILES = {formats.LIGHTGBM: "model.txt", formats.SKOPS: "model.skops"}


class Loaded(NamedTuple):
    """A stored version ready to use: its store, manifest, checked schema and fitted model."""

    store: Store
    manifest: dict[str, Any]
    schema: Schema
    fitted: Any
    engine: str = "lightgbm"


def model_file(fmt: str) -> str:
    """The name of a version's model file in format ``fmt``."""
    return MODEL_FILES[fmt]


def resolve_version(version: str) -> str:
    """``latest``, or a version id checked for form (BadArgument otherwise)."""
    from shared.storage.store import check_version_id

    return "latest" if version == "latest" else check_version_id(version)


def resolve(store: Store, model: Model, version: str) -> dict[str, Any]:
    """The manifest ``version`` names: 'latest', a version id, an alias or ALIAS@N (see :mod:`shared.storage.aliases`).
    Resolved through an alias, it carries ``resolved``: the event it was read from (alias, generation, version)."""
    from shared.storage import aliases

    named, event = aliases.resolve(store, model.name, version)
    manifest = store.resolve(model.name, resolve_version(named))
    return {**manifest, "resolved": aliases.summary(event)} if event else manifest


def resolved(manifest: dict[str, Any]) -> dict[str, Any]:
    """For a result: the alias event a version was resolved from (which move of the alias a run used), if any."""
    return {"alias": manifest["resolved"]} if "resolved" in manifest else {}


def stored_schema(model: Model, manifest: dict[str, Any]) -> Schema:
    """The feature schema a version's manifest records (not yet checked against its model file)."""
    from shared.tables.schema import Schema

    where = f"{model.name} version {manifest['version']}"
    return Schema.from_manifest(manifest.get("features"), where, legacy=manifest["schema_version"] == 1)


def load(model: Model, version: str, engine: str = "lightgbm") -> Loaded:
    """Resolve ``version`` in the model's store and load its model file after integrity and compatibility checks.

    The schema comes back checked against the model file: the features the file itself records, in its
    order, must be the manifest's (ArtifactRejected otherwise). ``engine`` (auto, lightgbm, compiled) says what
    predicts: LightGBM, or the version's compiled library (see :mod:`shared.estimators.engines`).
    """
    from shared.storage.store import Store

    store = Store(model._store_url)
    return open_resolved(model, store, resolve(store, model, version), engine)


def open_resolved(model: Model, store: Store, manifest: dict[str, Any], engine: str = "lightgbm") -> Loaded:
    """Load the model file of the version ``manifest`` describes (as :func:`resolve` gave it), after the checks
    :func:`load` makes: what a command that planned with the manifest alone runs with."""
    from shared.estimators import engines

    where = f"{model.name} version {manifest['version']}"
    schema = stored_schema(model, manifest)
    data, fmt = store.read(manifest, model_file(model.format))
    formats.check_compatible(fmt, manifest.get("libraries", {}), where)
    if fmt != model.format:
        msg = f"{where} is stored as {fmt!r}; {model.name} reads only {model.format!r}"
        raise formats.ArtifactRejected(msg)
    served = engines.serve(model, store, manifest, data, engine)
    fitted = served if served is not None else formats.load(data, fmt, trusted=model.trusted)
    model._check_version(fitted, manifest, where)
    recorded, categorical, levels = model._recorded_features(fitted)
    used = "compiled" if served is not None else "lightgbm" if fmt == formats.LIGHTGBM else fmt
    return Loaded(store, manifest, schema.aligned(recorded, categorical, where, levels), fitted, used)


def libraries(fmt: str) -> dict[str, str]:
    """The provenance recorded with a version: Python and the versions of the libraries that wrote it."""
    import importlib.metadata  # only when a command runs: it is slow to import
    import platform

    versions = {"python": platform.python_version()}
    for package in ("modelfleet", "numpy", "pandas", "pyarrow"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions | formats.libraries(fmt)
