"""``score`` as a pipeline: one plan, built once, that the dry run reports and the real run executes.

:func:`plan` makes every check that can be made before a row is read, in the order a run meets them: the
flags, the version (through the run's pin, for a shard), the output, the drift settings, the compiled
library, and each input file's header and declared types. :func:`run` then pins a shard's version, loads the
model file, and streams the input through the stages of :mod:`shared.pipelines.scoring` (read, prepare,
predict, count, write), to the run's drift verdict.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
from typing import TYPE_CHECKING, Any

from shared.contract import derived
from shared.errors import ArtifactRejected, BadArgument, BadData, MissingInput, NothingToDo, shown
from shared.pipelines import dryrun
from shared.storage import artifacts
from shared.tables import inputs, overlap
from shared.tables import shards as sharding

if TYPE_CHECKING:
    import pandas as pd

    from shared.families.model import Model
    from shared.monitoring.watch import Watch
    from shared.storage.artifacts import Loaded
    from shared.storage.store import Store
    from shared.tables.schema import Schema
    from shared.tables.shards import Shard
    from shared.tables.stream import Input

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Flags:
    """What the command was asked, as given (the plan is rebuilt from these when a shard's pin changes)."""

    version: str
    as_of: dt.date | None
    output: str | None
    max_unseen: float
    shard: str | None
    shards: int | None
    batch_rows: int
    keep: tuple[str, ...]
    on_drift: str
    max_missing_rise: float
    max_out_of_range: float
    engine: str


@dataclasses.dataclass
class Plan:
    """A scoring run, decided and checked before any row is read."""

    model: Model
    data: Any
    flags: Flags
    store: Store
    manifest: dict[str, Any]  # the version scored with (``resolved``: its alias event; ``pin``: the run's pin)
    loaded: Loaded  # its model file, loaded after every check, and its schema checked against that file
    target: str  # where the predictions go
    part: Shard | None
    kept: list[str]
    needed: list[str]  # the input columns read: the features' inputs, the kept columns and the id
    kinds: dict[str, str]
    watch: Watch
    source: Input | None  # a file input, opened and checked; a frame or the sample becomes one in the run
    pinned: bool  # a shard whose run already has a pin (the plan's version is the pin's)

    @property
    def alias(self) -> dict[str, Any]:
        """For the result: the alias event the version was read through, if any."""
        return artifacts.resolved(self.manifest)

    @property
    def frame_out(self) -> bool:
        """In Python, a frame in and no output: the predictions come back as a frame."""
        return inputs.is_frame(self.data) and self.flags.output is None and self.part is None

    @property
    def folder(self) -> str:
        """A shard's run folder: its pin, parts and drift counts."""
        return self.target.rsplit("/", 1)[0]

    def report(self) -> dict[str, Any]:
        """The dry run's result: what the run would read, use and write."""
        facts = {
            "version": self.manifest["version"],
            **self.alias,
            "output": self.target,
            "shard": str(self.part) if self.part else None,
            **({"pin": self.manifest["pin"]} if self.pinned else {}),
        }
        return dryrun.report(self.model, "score", self.store, self.data, **facts)


def plan(model: Model, data: Any, flags: Flags) -> Plan:
    """Every check of a scoring run that reads no row, made once, stage by stage: the flags, the version (and
    where its predictions go), its library, its drift watch, the input's columns. BadArgument, MissingInput,
    BadData or ArtifactRejected for the first that fails."""
    from shared.monitoring.watch import Watch
    from shared.storage import pins
    from shared.storage.store import Store

    kept, part = _check_flags(model, flags)
    store = Store(model._store_url)
    manifest, target, pinned = pins.plan_version(model, store, flags.version, flags.output, part, flags.as_of)
    loaded = _load(model, store, manifest, flags.engine, part)
    schema = loaded.schema
    limits = (flags.max_missing_rise, flags.max_out_of_range)
    watch = Watch(model, manifest, schema, flags.on_drift, limits, target.rsplit("/", 1)[0] if part else None)
    columns, kinds = schema.columns, schema.kinds
    needed = derived.inputs_of(model, dict.fromkeys([*columns, *kept, *_ids(model)]))
    kinds = {k: v for k, v in kinds.items() if k in needed}
    source = None
    if data is None:
        model._sample_frame(1, 0)  # a model without an embedded sample needs --data: say so now
    elif inputs.is_frame(data):  # in Python: its columns and rows are known without reading
        _check_frame(model, data, derived.inputs_of(model, columns), kept, empty_ok=part is not None)
    else:
        source = inputs.source(model, data, needed)  # a file, a folder or a glob, opened: no row read
        _note_label(model, source.columns, kept)
        overlap.refuse(target, data, "--output", source.files)
        inputs.check_source(source, needed, kinds, kept, _id_hint(model))
    return Plan(model, data, flags, store, manifest, loaded, target, part, kept, needed, kinds, watch, source, pinned)


def _check_flags(model: Model, flags: Flags) -> tuple[list[str], Shard | None]:
    """The kept columns and the shard, after the checks of the flags alone (the engine, the output)."""
    from shared.estimators import engines
    from shared.tables.data import check_output, is_table_name

    kept = _check_keep(model, list(flags.keep))
    engines.check(model, flags.engine)
    part = sharding.resolve(flags.shard, flags.shards)
    output = flags.output
    if output is not None and part is None:
        check_output(output)
    if output is not None and part is not None and is_table_name(output):
        msg = f"--output: with a shard, name a folder for the part files, not a table; got {shown(output)}"
        raise BadArgument(msg)
    return kept, part


def run(chosen: Plan) -> dict[str, Any]:
    """Execute the plan: pin a shard's version, load the model file, then read, prepare, predict, count and
    write batch by batch; the result carries the run's drift verdict."""
    from shared.pipelines import scoring

    chosen = _pin(chosen)
    model, flags, part, manifest, loaded = chosen.model, chosen.flags, chosen.part, chosen.manifest, chosen.loaded
    if chosen.frame_out:  # in Python: a frame in, a frame out
        return _with_engine(_score_frame(chosen, loaded.schema, loaded.fitted), model, loaded.engine)
    source = chosen.source or _as_source(chosen)
    done = scoring.score_input(
        functools.partial(model._predict, loaded.fitted),
        _output(model, chosen.kept),
        loaded.schema,
        source,
        chosen.target,
        part=part,
        watch=chosen.watch,
        run=manifest.get("run"),
        what=f"{model.name} version {manifest['version']}",
        batch_rows=flags.batch_rows,
        as_of=flags.as_of,
        max_unseen=flags.max_unseen,
        empty_ok=part is not None,
        derive=functools.partial(derived.apply, model, what=source.name),
        reads=derived.inputs_of(model, loaded.schema.columns),
    )
    sharded = {"shard": str(part), "shard_source": part.source, "pin": manifest["pin"]} if part else {}
    result = {"model": model.name, "version": manifest["version"], **chosen.alias, **done, "output": chosen.target}
    result = _with_engine(result | sharded, model, loaded.engine)
    return chosen.watch.verdict(result, chosen.folder if part else None, part)


def _as_source(chosen: Plan) -> Input:
    """A frame or the embedded sample as an input to stream, checked as a file's would be."""
    model = chosen.model
    source = inputs.source(model, chosen.data, chosen.needed)
    _note_label(model, source.columns, chosen.kept)
    overlap.refuse(chosen.target, None, "--output", source.files)
    inputs.check_source(source, chosen.needed, chosen.kinds, chosen.kept, _id_hint(model))
    return source


# -- the version: through a shard's pin, then its model file -----------------------------------------------


def _pin(chosen: Plan) -> Plan:
    """A shard's plan once its run is pinned: the first shard pins the plan's version; a shard that finds
    another's pin (written since it planned) plans again with it, once."""
    if chosen.part is None or chosen.pinned:
        return chosen
    from shared.storage import pins

    for _ in range(2):
        manifest, part, flags = chosen.manifest, chosen.part, chosen.flags
        assert part is not None  # a shard's plan
        pin = pins.pinned(chosen.model, chosen.folder, flags.version, manifest, part.count, flags.as_of)
        if pin["version"] == manifest["version"]:
            keys = ("resolved", "pin", "run")
            return dataclasses.replace(chosen, manifest=manifest | {k: pin[k] for k in keys if k in pin}, pinned=True)
        chosen = plan(chosen.model, chosen.data, flags)  # another shard pinned first: check against its version
        if chosen.pinned:
            return chosen
    msg = f"{chosen.folder}: its pin names a version the store does not give for it: remove the pin"
    raise ArtifactRejected(msg)


def _load(model: Model, store: Store, manifest: dict[str, Any], engine: str, part: Shard | None) -> Loaded:
    """The version's model file, loaded after every check (its sha256, its libraries, its features against the
    manifest's, the engine's library); MissingInput naming the pin if a pinned version is gone."""
    try:
        return artifacts.open_resolved(model, store, manifest, engine)
    except MissingInput:
        if part is None or "pin" not in manifest:
            raise
        from shared.storage import pins

        raise MissingInput(pins.gone(model, manifest["pin"], manifest["version"])) from None


def _with_engine(result: dict[str, Any], model: Model, used: str) -> dict[str, Any]:
    """``result`` saying which engine predicted, for a boosted-trees model (which has more than one)."""
    from shared.estimators import formats

    return result | {"engine": used} if model.format == formats.LIGHTGBM else result


# -- the input -------------------------------------------------------------------------------------------------


def _output(model: Model, kept: list[str]) -> Any:
    from shared.pipelines import scoring

    return scoring.Output(model.id_column, tuple(model._outputs()), model._output_values, tuple(kept))


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
    taken = {
        name: "a prediction column" if name != model.prediction else "the prediction" for name, _ in model._outputs()
    } | {"as_of": "where --as_of goes"}
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


def _check_frame(model: Model, frame: pd.DataFrame, reads: list[str], kept: list[str], empty_ok: bool) -> None:
    """An in-memory frame's checks, before scoring: the kept columns, the id (a column or the index), some rows
    (unless ``empty_ok``: a shard's part may be empty), the columns the features are made of."""
    from shared.tables.schema import require_columns

    require_columns(frame, kept, "in-memory DataFrame")
    if model.id_column and model.id_column not in frame.columns and model.id_column not in frame.index.names:
        msg = (
            f"in-memory DataFrame has no id column {model.id_column!r} (as a column or the index), so no prediction "
            f"could be joined back to its row; add it; {_id_hint(model)[model.id_column]}"
        )
        raise BadData(msg)
    if len(frame) == 0 and not empty_ok:
        raise NothingToDo("in-memory DataFrame has no rows; nothing to do, nothing written")
    require_columns(frame, reads, "in-memory DataFrame")


def _score_frame(chosen: Plan, schema: Schema, fitted: Any) -> dict[str, Any]:
    """Score a whole in-memory frame and return the predictions as a frame."""
    from shared.pipelines import scoring

    model, frame, kept, watch = chosen.model, chosen.data, chosen.kept, chosen.watch
    _note_label(model, frame.columns, kept)
    frame = derived.apply(model, frame, "in-memory DataFrame")  # its columns were checked by the plan
    features, unseen = schema.prepare(frame)
    reported = (*_ids(model), *kept)
    report = scoring.check_unseen(schema, frame, reported, chosen.flags.max_unseen, unseen)
    predicted = model._predict(fitted, features)
    if watch.tally is not None:
        watch.tally.add(features, unseen, predicted)
        watch.limits(watch.tally.counts(), "in-memory DataFrame")
    predictions: pd.DataFrame = scoring.predictions_frame(_output(model, kept), frame, predicted, chosen.flags.as_of)
    result = {
        "model": model.name,
        "version": chosen.manifest["version"],
        **chosen.alias,
        "rows": len(predictions),
        **report,
        "predictions": predictions,
    }
    return watch.verdict(result, None, None)
