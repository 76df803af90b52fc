"""``compile``: build a stored boosted-trees version into a C library for this platform (score's compiled engine)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any

from shared.contract import params
from shared.contract.params import Check, TablePath
from shared.storage import versions

if TYPE_CHECKING:
    from shared.families.model import Model

log = logging.getLogger(__name__)


def compile(
    model: Model,
    data: TablePath | None = None,
    *,
    version: Annotated[str, params.Shown("version id, alias or 'latest'"), Check(versions.check_version)] = "latest",
) -> dict[str, Any]:
    """Build a stored version into a C library for this platform, checked bit for bit against LightGBM.

    For versions trained where no C compiler was, or on another platform; train builds it itself. A library
    that fails its checks here is replaced; what a killed compile left (a library no record names, a build
    folder) is removed once its process is gone.

    Args:
        data: Rows to check the library on, besides the rows built on every split threshold: a table with
            the model's feature columns (a label is ignored). Default: a fresh draw of the embedded sample.
        version: Model version to build: a version id, an alias (champion) or ALIAS@N; 'latest' is the
            newest committed one.
    """
    from shared.contract import derived
    from shared.errors import ArtifactRejected, ConfigError, MissingInput
    from shared.estimators import compiled, engines
    from shared.pipelines import dryrun
    from shared.storage import artifacts, signing
    from shared.tables import inputs

    engines.check(model, "compiled", "compile")
    if model._dry_run:
        from shared.storage.store import Store

        store = Store(model._store_url)
        manifest = artifacts.resolve(store, model, version)
        schema = artifacts.stored_schema(model, manifest)
        columns = derived.inputs_of(model, schema.columns)
        facts = {"version": manifest["version"], "platform": compiled.platform_key()}
        return dryrun.plan(model, "compile", store, data, columns, kinds=schema.kinds, **facts)
    if compiled.compiler() is None:
        msg = "no C compiler (cc, gcc or $CC) or no tl2cgen in this image: compile in the image that trains"
        raise ConfigError(msg)
    signing.check_writer("compile")
    loaded = artifacts.load(model, version)
    store, manifest, schema = loaded.store, loaded.manifest, loaded.schema
    store.check_writable()
    compiled.sweep_builds()  # what compiles that were killed left: their temporary folders, their libraries
    store.remove_abandoned(model.name, store.abandoned_compiled(model.name, [manifest["version"]]))
    result = {"model": model.name, "version": manifest["version"], **artifacts.resolved(manifest)}
    wanted = derived.inputs_of(model, schema.columns)
    kinds = {k: v for k, v in schema.kinds.items() if k in wanted}
    frame = derived.apply(model, inputs.read_frame(model, data, inputs.HOLDOUT_SEED, wanted, kinds=kinds))
    features, _ = schema.prepare(frame, "--data")
    model_bytes, _ = store.read(manifest, artifacts.model_file(model.format))
    key = compiled.platform_key()
    found = store.compiled(manifest).get(key)
    if found is not None:
        try:
            engines.load(model, store, manifest, model_bytes)
            return result | {"compiled": engines.summary(found | {"already_compiled": True})}
        except (ArtifactRejected, MissingInput) as exc:
            failed = str(exc)
    built = engines.build(model, model_bytes, schema, features)  # before the failed one is removed
    if found is not None:
        log.warning("replacing the compiled library for %s: %s", key, failed)
        store.remove_compiled(manifest, key, found)
    return result | {"compiled": engines.attach(model, store, manifest, built)}
