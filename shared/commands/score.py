"""``score``: predict with a stored version, batch by batch, and write the predictions (or return a frame)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import TYPE_CHECKING, Annotated, Any, Literal

from shared.contract import derived, params
from shared.contract.params import Bounds, Check, TablePath
from shared.errors import ArtifactRejected, BadArgument, BadData, MissingInput, NothingToDo, shown
from shared.pipelines import dryrun
from shared.storage import artifacts, versions
from shared.tables import inputs, overlap
from shared.tables import shards as sharding

if TYPE_CHECKING:
    import pandas as pd

    from shared.families.model import Model
    from shared.storage.store import Store
    from shared.tables.schema import Schema

log = logging.getLogger(__name__)


def score(
    model: Model,
    data: TablePath | None = None,
    *,
    version: Annotated[str, params.Shown("version id, alias or 'latest'"), Check(versions.check_version)] = "latest",
    as_of: dt.date | None = None,
    output: params.TableOutput | None = None,
    max_unseen: Annotated[float, Bounds(ge=0, le=1)] = 0.05,
    shard: Annotated[str, params.Shown("K/N"), Check(sharding.check)] | None = None,
    shards: Annotated[int, Bounds(ge=1, le=sharding.MAX_SHARDS)] | None = None,
    batch_rows: Annotated[int, Bounds(ge=1, le=100_000_000)] = 100_000,
    keep: Annotated[list[str], params.Shown("columns")] | None = None,
    on_drift: Literal["warn", "fail", "off"] = "warn",
    max_missing_rise: Annotated[float, Bounds(ge=0, le=1)] = 0.3,
    max_out_of_range: Annotated[float, Bounds(ge=0, le=1)] = 0.3,
    engine: Literal["auto", "lightgbm", "compiled"] = "auto",
) -> dict[str, Any]:
    """Score DATA with a stored model version and write the predictions, batch by batch.

    Args:
        data: Table to score: a Parquet or CSV file, or a folder or glob of them. A label column (a daily
            snapshot's, null for recent rows) is ignored like any column the model does not use, and listed
            in the result's ignored_columns. Default: a fresh draw of the embedded sample.
        version: Model version to use: a version id, an alias (champion) or ALIAS@N (one event of it);
            'latest' is the newest committed one.
        as_of: Date the scored data describes (e.g. Airflow's ds), added to each prediction.
        output: Where to write the predictions. Default: predictions/<version>.parquet in the store.
            With a shard: a folder, which gets part-K-of-N.parquet.
        max_unseen: Largest share of rows with a category never seen in training; above it, exit 65.
        shard: Score only shard K of N (K from 0): a contiguous slice by file, then row group.
            Default: from JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX, else everything.
        shards: Shard count, for a Kubernetes Indexed Job (JOB_COMPLETION_INDEX gives the index).
        batch_rows: Rows read, scored and written at a time; memory grows with it.
        keep: Input columns to carry into each prediction row unchanged, e.g. a date or a partition key
            (comma-separated); the label too, for a backtest. A CSV's kept columns stay text (NA, null: missing).
        on_drift: When the input no longer looks like the training rows (a 1% false-alarm rate at any row
            count): warn (in the result and the log, exit 0), fail (exit 101, predictions written), or off
            (no counts, no verdict, no limits).
        max_missing_rise: Largest rise of a feature's missing share over its training share; above it, exit 65
            and nothing is written.
        max_out_of_range: Largest share of a feature's values outside its training min and max; above it,
            exit 65 and nothing is written.
        engine: What predicts a boosted-trees model: compiled (the version's C library for this platform,
            bit-identical to LightGBM, several times faster; exit 66 if it has none, 3 if it fails a check),
            lightgbm, or auto: the library when it passes every check, else LightGBM (the log says why).
    """
    from shared.pipelines import scoring  # pins opens backends: imported when a command runs, never for --help
    from shared.storage import pins
    from shared.storage.store import Store
    from shared.tables.data import check_output
    from shared.tables.schema import require_columns

    kept = _check_keep(model, keep or [])
    from shared.estimators import engines

    engines.check(model, engine)
    part = sharding.resolve(shard, shards)
    if output is not None and part is None:
        check_output(output)
    if output is not None and part is not None and inputs.is_table_name(output):
        msg = f"--output: with a shard, name a folder for the part files, not a table; got {shown(output)}"
        raise BadArgument(msg)
    if model._dry_run:
        store = Store(model._store_url)
        if part is not None:
            _refuse_floating_default(model, store, version, output)
        manifest = artifacts.resolve(store, model, version)
        target = _target(model, output, part, store, manifest)
        found = pins.existing(target.rsplit("/", 1)[0]) if part is not None else None
        if found is not None and found["version"] != manifest["version"]:  # the run's pin decides, as it will
            manifest = artifacts.resolve(store, model, found["version"]) | (
                {"resolved": found["alias"]} if found.get("alias") else {}
            )
        stored = artifacts.stored_schema(model, manifest)
        _Watch(model, manifest, stored, on_drift, (max_missing_rise, max_out_of_range))  # as the run would refuse
        engines.present(model, store, manifest, engine)
        source = None
        if data is not None and not inputs.is_frame(data):
            from shared.tables.stream import Input

            source = Input.open(data)  # a file, a folder or a glob, as the real run reads it
            overlap.refuse(target, data, "--output", source.files)
        facts = {
            "version": manifest["version"],
            **artifacts.resolved(manifest),
            "output": target,
            "shard": str(part) if part else None,
            **({"pin": f"{target.rsplit('/', 1)[0]}/{pins.PIN}"} if found is not None else {}),
        }
        columns = derived.inputs_of(model, dict.fromkeys([*stored.columns, *kept, *_ids(model)]))
        if source is not None:
            _check_kept_types(source, kept)
        kinds = {k: v for k, v in stored.kinds.items() if k in columns}
        return dryrun.plan(model, "score", store, data, columns, source, kinds=kinds, hints=_id_hint(model), **facts)
    if part is not None:
        _refuse_floating_default(model, Store(model._store_url), version, output)
    named, pin = version, None
    for _ in range(2):  # a shard that finds another shard's pin checks its input against that version
        store, manifest, schema, fitted, used = _load(model, named, pin, engine)
        if inputs.is_frame(data) and output is None and part is None:  # in Python: a frame in, a frame out
            watch = _Watch(model, manifest, schema, on_drift, (max_missing_rise, max_out_of_range))
            found = _score_frame(model, fitted, schema, manifest, data, as_of, max_unseen, kept, watch)
            return _with_engine(found, model, used)
        wanted = [*schema.columns, *_ids(model), *kept]
        source = inputs.source(model, data, derived.inputs_of(model, wanted))
        target = _target(model, output, part, store, manifest)
        overlap.refuse(target, data if not inputs.is_frame(data) else None, "--output", source.files)
        needed = derived.inputs_of(model, dict.fromkeys([*schema.columns, *kept, *_ids(model)]))
        kinds = {k: v for k, v in schema.kinds.items() if k in needed}
        source.check(needed, kinds, hints=_id_hint(model))  # every file, before any row is read
        _note_label(model, source.columns, kept)
        require_columns(inputs.Columns(source.columns), needed, source.name, _id_hint(model))
        _check_kept_types(source, kept)
        watch = _Watch(model, manifest, schema, on_drift, (max_missing_rise, max_out_of_range))  # a bad profile: 3
        if part is None:
            if output is not None:
                pins.refuse_inside_run(target)
            break
        if pin is None:  # the input is fine: now pin the run's version (or find the pin of its first shard)
            if watch.tally is not None:
                from shared.monitoring import tallies

                tallies.check_folder(target.rsplit("/", 1)[0])
            pin = pins.pinned(model, target.rsplit("/", 1)[0], version, manifest, part.count, as_of)
        if pin["version"] == manifest["version"]:
            manifest = manifest | {key: pin[key] for key in ("resolved", "pin") if key in pin}
            break
        named = pin["version"]
    else:
        msg = f"{pin and pin['pin']} names {named}, but the store gives {manifest['version']} for it: remove the pin"
        raise ArtifactRejected(msg)
    span = sharding.assign([u.weight for u in source.units], part)
    chosen = [source.units[i] for i in span]
    if part is not None and watch.tally is not None:
        from shared.monitoring import tallies

        assert pin is not None  # a shard's run is pinned above
        watch.proof, watch.source = tallies.provenance(source, part, span, pin["run"]), source  # rows it counts
        tallies.check_input(target.rsplit("/", 1)[0], watch.proof)
    log.info(
        "scoring %s%s with %s version %s",
        source.name,
        f" shard {part} ({len(chosen)} of {len(source.units)} units)" if part else "",
        model.name,
        manifest["version"],
    )
    done = scoring.stream(
        functools.partial(model._predict, fitted),
        _output(model, kept),
        schema,
        source,
        chosen,
        target,
        batch_rows=batch_rows,
        as_of=as_of,
        max_unseen=max_unseen,
        empty_ok=part is not None,
        derive=functools.partial(derived.apply, model, what=source.name),
        reads=derived.inputs_of(model, schema.columns),
        tally=watch.tally,
        limits=functools.partial(watch.limits, what=source.name),
    )
    sharded = {"shard": str(part), "shard_source": part.source, "pin": manifest["pin"]} if part else {}
    result = {
        "model": model.name,
        "version": manifest["version"],
        **artifacts.resolved(manifest),
        **done,
        "output": target,
        **sharded,
    }
    result = _with_engine(result, model, used)
    return watch.verdict(result, target.rsplit("/", 1)[0] if part else None, part)


def _with_engine(result: dict[str, Any], model: Model, used: str) -> dict[str, Any]:
    """``result`` saying which engine predicted, for a boosted-trees model (which has more than one)."""
    from shared.estimators import formats

    return result | {"engine": used} if model.format == formats.LIGHTGBM else result


class _Watch:
    """Drift for one scoring run: the tally its batches feed, its hard limits, and its verdict."""

    def __init__(self, model: Model, manifest: dict[str, Any], schema: Schema, on_drift: str, limits: Any) -> None:
        from shared.monitoring import drift

        self.reference = manifest.get("profile") if on_drift != "off" else None
        self.on_drift, self.version, self.bounds = on_drift, manifest["version"], limits
        self.proof: dict[str, Any] = {}  # a shard's: which run, shard and rows its drift part counts
        self.source: Any = None  # a shard's input, which the parts it merges must cover once
        self.tally = drift.Tally(self.reference, schema) if self.reference is not None else None
        if on_drift != "off" and self.reference is None:
            msg = (
                f"{model.name} version {manifest['version']} has no reference profile (trained by an older "
                f"modelfleet), so its input cannot be checked for drift"
            )
            if on_drift == "fail":
                raise BadArgument(f"{msg}: retrain it, or score with --on_drift=warn or off")
            log.warning("%s", msg)

    def limits(self, counts: dict[str, Any], what: str) -> None:
        from shared.monitoring import drift

        rise, outside = self.bounds
        drift.check_limits(self.reference or {}, counts, rise, outside, what)

    def verdict(self, result: dict[str, Any], folder: str | None, part: Any) -> dict[str, Any]:
        """``result`` with the run's drift verdict (``pending`` for a shard whose run has others to come);
        Drifted (101) carrying it under --on_drift=fail."""
        from shared.monitoring import drift, tallies

        if self.on_drift == "off":
            return result
        if self.tally is None or self.reference is None:
            return result | {"drift": {"status": "unavailable"}}
        counts = self.tally.counts(self.version)
        if part is None or folder is None:
            found = drift.judge(self.reference, counts)
        else:
            tallies.write_part(folder, counts, self.proof)
            run = tallies.gather(folder, part.count, self.version, self.proof["run"], self.source)
            if run.missing:
                done = part.count - run.missing
                return result | {"drift": {"status": "pending", "shards_counted": done, "shards": part.count}}
            found = drift.judge(self.reference, drift.merge(run.parts, self.reference))
            found["path"] = tallies.write_verdict(folder, found)
        return drift.judged(result | {"drift": found}, self.on_drift)


def _load(model: Model, named: str, pin: dict[str, Any] | None, engine: str) -> Any:
    """The version to score with; a pinned one the store no longer holds is MissingInput naming the pin."""
    try:
        return artifacts.load(model, named, engine)
    except MissingInput:
        if pin is None:
            raise
        msg = (
            f"this run's pin {pin['pin']} names {model.name} version {named}, which the store no longer holds "
            "(gc removed it?): the run cannot finish with one version; score it anew into another folder"
        )
        raise MissingInput(msg) from None


def _refuse_floating_default(model: Model, store: Store, version: str, output: str | None) -> None:
    """BadArgument for shards that would each pick their own folder by a version that can move mid-run."""
    from shared.storage import pins

    if output is None and pins.floats(store, model, version):
        msg = (
            f"--shard with --version={version}, which can name another version before the last shard starts, "
            f"needs --output: a folder every shard of this run shares (the first shard pins the version there); "
            f"or give a version id or {version if version != 'latest' else 'ALIAS'}@N"
        )
        raise BadArgument(msg)


def _output(model: Model, kept: list[str]) -> Any:
    from shared.pipelines import scoring

    return scoring.Output(model.id_column, model.prediction, model.prediction_dtype, tuple(kept))


def _id_hint(model: Model) -> dict[str, str]:
    """What to do when an input lacks the id column: the model class attribute that names it."""
    if not model.id_column:
        return {}
    return {
        model.id_column: (
            f"{model.id_column!r} is the model's id column: set id_column = \"<your table's id column>\" on the model "
            f"class {type(model).__name__} (id_column = None: rows have no id)"
        )
    }


def _ids(model: Model) -> list[str]:
    """The id column, if the model's rows have one."""
    return [model.id_column] if model.id_column else []


def _check_keep(model: Model, keep: list[str]) -> list[str]:
    """The ``--keep`` columns; BadArgument for an empty name, one given twice, or one the output has already."""
    taken = {model.prediction: "the prediction", "as_of": "where --as_of goes"}
    if model.id_column:
        taken[model.id_column] = "the id column, which every prediction row has"
    for position, name in enumerate(keep):
        if not isinstance(name, str) or not name.strip():
            msg = f"--keep: column names must be text; got {shown(name)}"
            raise BadArgument(msg)
        if name in keep[:position]:
            msg = f"--keep names {name!r} twice; name each column once"
            raise BadArgument(msg)
        if name in taken:
            msg = f"--keep={name!r}: {name!r} is {taken[name]}; keep other columns"
            raise BadArgument(msg)
    return list(keep)


def _note_label(model: Model, columns: Any, kept: list[str]) -> None:
    """Log that the input holds the label: never a feature, never in drift; only ``--keep`` carries it."""
    if model.label and model.label in columns:
        how = "kept (--keep)" if model.label in kept else "ignored (--keep it for a backtest)"
        log.info("input holds the label column %r: scoring does not read it; %s", model.label, how)


def _check_kept_types(source: Any, kept: list[str]) -> None:
    """BadData if the files of a Parquet input declare a kept column with different types: the output has one."""
    for name in kept:
        declared = {str(t).removeprefix("large_") for t in source.declared_types(name)}  # large_string is text
        if len(declared) > 1:
            msg = (
                f"{source.name}: its files declare --keep column {name!r} as {', '.join(sorted(declared))}; "
                f"the output has one type per column: write the files with one type"
            )
            raise BadData(msg)


def _target(model: Model, output: str | None, part: Any, store: Store, manifest: dict[str, Any]) -> str:
    """Where predictions go: ``--output`` or the store; with a shard, its part file in that folder."""
    if part is None:
        return output if output is not None else f"{store.url}/{model.name}/predictions/{manifest['version']}.parquet"
    folder = output if output is not None else f"{store.url}/{model.name}/predictions/{manifest['version']}"
    return f"{folder.rstrip('/')}/{part.part_name}"


def _score_frame(
    model: Model,
    fitted: Any,
    schema: Schema,
    manifest: dict[str, Any],
    frame: pd.DataFrame,
    as_of: Any,
    limit: float,
    kept: list[str],
    watch: _Watch,
) -> dict[str, Any]:
    """Score a whole in-memory frame and return the predictions as a frame."""
    from shared.pipelines import scoring
    from shared.tables.schema import require_columns

    _note_label(model, frame.columns, kept)
    require_columns(frame, kept, "in-memory DataFrame")
    if model.id_column and model.id_column not in frame.columns and model.id_column not in frame.index.names:
        msg = (
            f"in-memory DataFrame has no id column {model.id_column!r} (as a column or the index), so no prediction "
            f"could be joined back to its row; add it; {_id_hint(model)[model.id_column]}"
        )
        raise BadData(msg)
    if len(frame) == 0:
        raise NothingToDo("in-memory DataFrame has no rows; nothing to do, nothing written")
    require_columns(frame, derived.inputs_of(model, schema.columns), "in-memory DataFrame")
    frame = derived.apply(model, frame, "in-memory DataFrame")
    features, unseen = schema.prepare(frame)
    reported = (*_ids(model), *kept)
    report = scoring.check_unseen(schema, frame, reported, limit, unseen)
    predicted = model._predict(fitted, features)
    if watch.tally is not None:
        watch.tally.add(features, unseen, predicted)
        watch.limits(watch.tally.counts(), "in-memory DataFrame")
    predictions = scoring.predictions_frame(_output(model, kept), frame, predicted, as_of)
    result = {
        "model": model.name,
        "version": manifest["version"],
        **artifacts.resolved(manifest),
        "rows": len(predictions),
        **report,
        "predictions": predictions,
    }
    return watch.verdict(result, None, None)
