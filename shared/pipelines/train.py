"""``train`` as a pipeline: one plan, built once, that the dry run reports and the real run executes.

:func:`plan` makes every check that can be made before a row is read: the hyperparameters, the split, the
outputs, the store and the version id, what ``--promote`` asks (and the version ``--against`` names, loaded),
and each input file's header and declared types. :func:`run` then reads, derives, splits, fits and measures
(:mod:`shared.training.fitting`), judges (:mod:`shared.training.promotion`), commits the version with its
compiled library, and promotes it. A retry of a committed ``--run_id`` reads nothing: it reports the version.

One cohesive thing: the plan and the stages that execute it share its fields, and a reader follows one run
top to bottom in one file (the gate's own work is :mod:`shared.training.promotion`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
from typing import TYPE_CHECKING, Any

from shared.contract import derived
from shared.errors import ArtifactRejected, BadArgument, BadData, ConfigError, NothingToDo
from shared.pipelines import dryrun
from shared.storage import signing
from shared.tables import inputs, overlap
from shared.training import fitting, promotion
from shared.training import split as splitting

if TYPE_CHECKING:
    import pandas as pd

    from shared.families.model import Model
    from shared.storage.artifacts import Loaded
    from shared.storage.store import Store
    from shared.training.fitting import Trained
    from shared.training.split import Split

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Flags:
    """What the command was asked, as given."""

    run_id: str | None
    as_of: dt.date | None
    valid_fraction: float
    split_seed: int
    stop_fraction: float
    split: str
    split_column: str | None
    valid_from: dt.date | None
    valid_data: Any
    holdout_output: str | None
    max_unseen: float
    promote: str | None
    gate: str | None
    against: str | None
    tolerance: float
    against_metric: str | None
    confidence: float
    resamples: int
    compile: str


@dataclasses.dataclass
class Plan:
    """A training run, decided and checked before any row is read."""

    model: Model
    data: Any
    flags: Flags
    cfg: Any  # the model's Params, validated
    column: str | None  # the split's column: the time or group column, if the split has one
    store: Store
    version: str  # the id the new version is committed as
    committed: bool  # a retry of a --run_id already committed: nothing to read, nothing to fit
    promotion: dict[str, Any] | None  # what --promote asks (promotion.config)
    holder: tuple[Loaded, dict[str, Any]] | None  # the version --against names, loaded, and its record
    needed: list[str]  # the features' inputs and the label
    kinds: dict[str, str]
    wanted: list[str]  # what is read: ``needed`` and the split's column
    opened: dict[str, inputs.Opened]  # --data and --valid_data, as files opened and checked

    @property
    def stopping(self) -> bool:
        """Whether boosting stops early on rows set apart for it."""
        return bool(getattr(self.cfg, "early_stopping_rounds", 0))

    def report(self) -> dict[str, Any]:
        """The dry run's result: the version it would commit, how it would split, what it would promote."""
        flags = self.flags
        planned = (
            {} if self.promotion is None else {"promote": {**self.promotion, "holder": self.holder and self.holder[1]}}
        )
        split = {
            "method": "file" if flags.valid_data is not None else flags.split,
            "seed": flags.split_seed,
            "valid_fraction": flags.valid_fraction,
            **({"stop_fraction": flags.stop_fraction} if self.stopping else {}),
            **({"column": self.column} if self.column else {}),
            **({"valid_from": flags.valid_from.isoformat()} if flags.valid_from else {}),
            **({"valid_data": inputs.describe_source(flags.valid_data)} if flags.valid_data is not None else {}),
        }
        return dryrun.report(
            self.model,
            "train",
            self.store,
            self.data,
            version=self.version,
            already_committed=self.committed,
            split=split,
            holdout_output=flags.holdout_output,
            params=dataclasses.asdict(self.cfg),
            **planned,
        )


def plan(model: Model, data: Any, flags: Flags, hyperparameters: dict[str, Any]) -> Plan:
    """Every check of a training run that reads no row, made once; BadArgument, ConfigError, MissingInput or
    BadData for the first that fails."""
    from shared.storage.store import Store, check_version_id, new_version_id
    from shared.tables.data import check_output

    cfg = model.Params(**hyperparameters)
    model._check_settings(cfg)
    _check_compile(model, flags.compile)
    splitting.check_choice(flags.split, flags.split_column, flags.valid_from, flags.valid_data)
    column = flags.split_column
    if column is None and flags.split == "group":
        column = model.id_column
        if column is None:
            msg = "--split=group needs --split_column: this model's rows have no id column"
            raise BadArgument(msg)
    if getattr(cfg, "early_stopping_rounds", 0) and not flags.stop_fraction:
        msg = "--early_stopping_rounds needs rows to stop on: give a --stop_fraction above 0"
        raise BadArgument(msg)
    if flags.holdout_output is not None:
        check_output(flags.holdout_output, "--holdout_output")
        overlap.refuse(flags.holdout_output, data, "--holdout_output")
        overlap.refuse(flags.holdout_output, flags.valid_data, "--holdout_output")
    store = Store(model._store_url)
    run_id = flags.run_id
    version = check_version_id(run_id) if run_id is not None else new_version_id()
    store.check_writable()
    signing.check_writer("train")
    committed = run_id is not None and store.exists(model.name, version)
    if run_id is not None and not committed and run_id in store.alias_names(model.name):
        msg = f"--run_id={run_id} is an alias of {model.name}; a version by that name would be mistaken for it"
        raise BadArgument(msg)
    asked = promotion.config(
        model, store, version, flags.promote, flags.gate, flags.against,
        tolerance=flags.tolerance, against_metric=flags.against_metric, confidence=flags.confidence,
        resamples=flags.resamples,
    )  # fmt: skip
    holder = None
    if asked and flags.against is not None and not committed:
        holder = promotion.holder(model, store, flags.against, flags.promote)
    label = [model.label] if model.label else []
    needed = derived.inputs_of(model, [*model.numeric, *model.categorical, *label])
    kinds = {**dict.fromkeys(model.numeric, "numeric"), **dict.fromkeys(model.categorical, "categorical")}
    kinds = {name: kind for name, kind in kinds.items() if name in derived.raw(model, kinds)}
    split_by = [column] if flags.split != "random" and column and column not in needed else []
    wanted = [*needed, *split_by]
    if flags.valid_data is not None and not committed:  # a committed retry reads nothing: its files may be gone
        _refuse_shared_rows(data, flags.valid_data)
    opened = {} if committed else _open(model, {"data": data, "valid_data": flags.valid_data}, wanted, kinds)
    return Plan(
        model, data, flags, cfg, column, store, version, committed, asked, holder, needed, kinds, wanted, opened
    )


def run(chosen: Plan) -> dict[str, Any]:
    """Execute the plan: read, derive, split, fit and measure, judge, commit (with the compiled library), and
    promote; a committed --run_id only reports its version (and promotes it as it recorded)."""
    from shared.estimators import formats
    from shared.storage import artifacts
    from shared.storage.store import Artifact
    from shared.tables.data import write_table

    model, flags, store = chosen.model, chosen.flags, chosen.store
    if chosen.committed:
        log.info("%s version %s is already committed; nothing to do", model.name, chosen.version)
        if flags.holdout_output is not None:
            log.warning("--holdout_output not written: the version was committed by an earlier run")
        manifest = store.resolve(model.name, chosen.version)
        return promotion.promote(model, store, manifest, chosen.promotion, _result(chosen, manifest, True))
    raw, fit_rows = _read(chosen)
    frame = derived.apply(model, raw, "training data")
    if flags.holdout_output is not None:
        _check_csv_keeps_levels(model, frame, flags.holdout_output)
    chosen_split = _split(chosen, frame, fit_rows)
    trained, identity = _fit(chosen, frame, chosen_split)
    verdict = None
    if chosen.promotion is not None:
        verdict = promotion.judge(model, trained, frame, chosen.holder, chosen.promotion, flags.split_seed)
    if flags.holdout_output is not None:
        kept = [c for c in raw.columns if c in {*chosen.needed, model.id_column}]
        write_table(raw.iloc[trained.split.valid][kept], flags.holdout_output)
        log.info("wrote the %d held-out rows to %s", len(trained.split.valid), flags.holdout_output)
    record = _record(chosen, trained, frame, identity, verdict)
    if chosen.data is None:
        log.warning("%s trained on its embedded sample: a demonstration version, not for real rows", model.name)
    artifact = Artifact(artifacts.model_file(model.format), formats.dump(trained.fitted, model.format), model.format)
    built, failed = _build(model, flags.compile, artifact.data, trained)
    manifest = store.commit(model.name, chosen.version, [artifact], record)
    result = _result(chosen, manifest, manifest.get("already_committed", False))
    result |= _attach(model, store, manifest, built, failed)
    result |= {"holdout_output": flags.holdout_output} if flags.holdout_output is not None else {}
    return promotion.promote(model, store, manifest, chosen.promotion, result)


# -- the stages --------------------------------------------------------------------------------------------


def _open(model: Model, given: dict[str, Any], wanted: list[str], kinds: dict[str, str]) -> dict[str, Any]:
    """Each file input opened and its header and declared types checked (--data, then --valid_data, in the
    order the run reads them); the embedded sample drawn for one row."""
    opened = {}
    for name, data in given.items():
        if data is None:
            if name == "data":
                model._sample_frame(1, 0)  # a model without an embedded sample needs --data: say so now
        elif not inputs.is_frame(data):
            opened[name] = inputs.open_checked(os.fspath(data), wanted, kinds)
    return opened


def _read(chosen: Plan) -> tuple[pd.DataFrame, int]:
    """The rows to train on (with --valid_data's after them) and how many are --data's."""
    model, flags = chosen.model, chosen.flags
    ids = [name for name in dict.fromkeys([model.id_column, chosen.column if flags.split == "group" else None]) if name]

    def read(data: Any, seed: int, which: str) -> pd.DataFrame:
        opened = chosen.opened.get(which)
        return inputs.read_frame(model, data, seed, chosen.wanted, optional=ids, kinds=chosen.kinds, opened=opened)

    frame = read(chosen.data, inputs.TRAIN_SEED, "data")
    fit_rows = len(frame)
    if flags.valid_data is not None:
        import pandas as pd

        try:
            held = read(flags.valid_data, inputs.HOLDOUT_SEED, "valid_data")
        except NothingToDo as exc:  # no rows to measure on is bad data, never a task to skip
            raise BadData(f"--valid_data: {exc}".replace("; nothing to do, nothing written", "")) from None
        frame = pd.concat([frame, held], ignore_index=True)
    return frame, fit_rows


def _split(chosen: Plan, frame: pd.DataFrame, fit_rows: int) -> Split:
    """The rows to fit on, to stop on and to hold out, by the chosen method (see shared.training.split)."""
    flags, column = chosen.flags, chosen.column
    stops = flags.stop_fraction if chosen.stopping else 0.0
    if flags.valid_data is not None:
        source = inputs.describe_source(flags.valid_data)
        return splitting.file_split(fit_rows, len(frame) - fit_rows, flags.split_seed, stops, source)
    if flags.split in ("time", "group") and column not in frame.columns:
        msg = f"training data lacks the --split={flags.split} column {column!r}"
        raise BadData(msg)
    if flags.split == "time":
        return splitting.time_split(frame[column], flags.valid_fraction, flags.valid_from, stops, str(column))
    if flags.split == "group":
        return splitting.group_split(frame[column], flags.valid_fraction, flags.split_seed, stops, str(column))
    return splitting.random_split(len(frame), flags.valid_fraction, flags.split_seed, stops)


def _fit(chosen: Plan, frame: pd.DataFrame, split: Split) -> tuple[Trained, dict[str, Any]]:
    """Fit and measure on the split's rows; the input's identity, checked against the holder's split: whether
    the holder saw these rows with another split is decided before fitting for a file (its identity is its
    bytes), after it for a frame (whose identity hashes cells fitting checks to be features)."""
    model, flags, holder, data = chosen.model, chosen.flags, chosen.holder, chosen.data
    against = str(flags.against)
    early = holder is not None and data is not None and not inputs.is_frame(data)
    identity = None
    if holder is not None:
        promotion.check_measurable(model, holder[0], frame, against)
        if early:
            identity = inputs.identity(data, frame)
            promotion.check_unseen_by_holder(holder[0].manifest, identity, split.to_manifest(), against)
    trained = fitting.fit_held_out(
        model, frame, chosen.cfg, flags.valid_fraction, flags.split_seed, flags.stop_fraction, split=split,
        max_unseen=flags.max_unseen,
    )  # fmt: skip
    if identity is None:
        identity = inputs.identity(data, frame)  # after fitting: the features are checked to be features by then
    if holder is not None and not early:
        promotion.check_unseen_by_holder(holder[0].manifest, identity, trained.split.to_manifest(), against)
    return trained, identity


def _record(
    chosen: Plan, trained: Trained, frame: pd.DataFrame, identity: dict[str, Any], verdict: dict[str, Any] | None
) -> dict[str, Any]:
    """What the version's manifest records beside its files."""
    from shared.storage import artifacts

    model, flags = chosen.model, chosen.flags
    positive = getattr(model, "positive_label", None)
    return {
        "features": trained.schema.to_manifest(),
        "label": model.label,
        **({"positive_label": getattr(positive, "item", lambda: positive)()} if positive is not None else {}),
        "prediction": model.prediction,
        **({"classes": list(model.classes)} if model.classes else {}),
        "params": dataclasses.asdict(chosen.cfg),
        "metrics": trained.metrics,
        **model._report(trained.fitted),
        "split": trained.split.to_manifest(),
        "rows": {
            "train": len(trained.split.fit),
            **({"stop": len(trained.split.stop)} if len(trained.split.stop) else {}),
            "valid": len(trained.split.valid),
        },
        "as_of": flags.as_of.isoformat() if flags.as_of else None,
        "data": {"source": inputs.describe_source(chosen.data), "rows": len(frame), **identity},
        "libraries": artifacts.libraries(model.format),
        **({"trained_on_sample": True} if chosen.data is None else {}),
        **({"gate": verdict} if verdict is not None else {}),
        "profile": trained.profile,
    }


def _result(chosen: Plan, manifest: dict[str, Any], already_committed: bool) -> dict[str, Any]:
    return {
        "model": chosen.model.name,
        "version": manifest["version"],
        "metrics": manifest.get("metrics", {}),
        "rows": manifest.get("rows", {}),
        "store": chosen.store.url,
        "split": manifest.get("split"),
        "as_of": manifest.get("as_of"),
        "already_committed": already_committed,
        **({"trained_on_sample": True} if manifest.get("trained_on_sample") else {}),
    }


# -- the compiled library ------------------------------------------------------------------------------------


def _check_compile(model: Model, mode: str) -> None:
    """Under --compile=on, before any work: BadArgument for a model with nothing to compile, ConfigError (78)
    where there is no C compiler."""
    from shared.estimators import compiled, engines

    if mode != "on":
        return
    engines.check(model, "compiled", "--compile=on")
    if compiled.compiler() is None:
        raise ConfigError("--compile=on: no C compiler (cc, gcc or $CC) or no tl2cgen here; nothing was trained")


def _build(model: Model, mode: str, data: bytes, trained: Trained) -> tuple[Any, str | None]:
    """The compiled library of the model file ``data``, checked on the held-out rows, or None (and why not);
    under ``on`` a failure is raised before anything is committed."""
    from shared.estimators import compiled, engines, formats

    if mode == "off" or model.format != formats.LIGHTGBM:
        return None, None
    if compiled.compiler() is None:
        log.info("no C compiler (or no tl2cgen) here: the version is stored without a compiled library")
        return None, "no C compiler or tl2cgen in this image"
    try:
        return engines.build(model, data, trained.schema, trained.held_out[0] if trained.held_out else None), None
    except (ArtifactRejected, ConfigError) as exc:
        if mode == "on":
            raise type(exc)(f"--compile=on: {exc}; nothing committed") from None
        log.warning("the version is stored without a compiled library: %s", exc)
        return None, str(exc)


def _attach(model: Model, store: Store, manifest: dict[str, Any], built: Any, failed: str | None) -> dict:
    """The ``compiled`` entry of a result: the library stored with the new version, or why there is none."""
    from shared.estimators import engines
    from shared.storage import artifacts

    if built is None:
        return {"compiled": {"status": "not built", "reason": failed}} if failed else {}
    entry = next(f for f in manifest["files"] if f["name"] == artifacts.model_file(model.format))
    if entry["sha256"] != built.record["model_sha256"]:
        return {"compiled": {"status": "not built", "reason": "another attempt committed this version first"}}
    return {"compiled": engines.attach(model, store, manifest, built)}


# -- input checks --------------------------------------------------------------------------------------------


def _refuse_shared_rows(data: Any, valid_data: Any) -> None:
    """BadArgument if --valid_data is, holds or shares a file with --data: its rows would be fit rows too, and the
    metrics measured on them would be no measure at all."""
    if not isinstance(valid_data, (str, os.PathLike)) or data is None or not isinstance(data, (str, os.PathLike)):
        return
    from shared.tables.stream import Input

    overlap.refuse(os.fspath(valid_data), data, "--valid_data")
    overlap.refuse(os.fspath(data), valid_data, "--data")
    mine = {os.path.realpath(url) if "://" not in url else url for url, _ in Input.open(os.fspath(data)).urls()}
    for url, shown_as in Input.open(os.fspath(valid_data)).urls():
        if (os.path.realpath(url) if "://" not in url else url) in mine:
            msg = f"--valid_data: {shown_as} is also a file of --data; the held-out rows must be rows train never fits"
            raise BadArgument(msg)


def _check_csv_keeps_levels(model: Model, frame: pd.DataFrame, output: str) -> None:
    """BadArgument before training if a CSV output would read a categorical level back as missing."""
    from shared.tables.data import table_format
    from shared.tables.schema import as_levels
    from shared.tables.stream import NULL_TEXT

    if table_format(output) != "csv":
        return
    for name in [c for c in model.categorical if c in frame.columns]:
        clash = sorted(set(as_levels(frame[name]).dropna()) & set(NULL_TEXT))
        if clash:
            msg = (
                f"--holdout_output={output!r}: a CSV reads the level {clash[0]!r} of {name!r} back as a missing "
                f"value, so the held-out rows would not measure the same; write Parquet (.parquet) instead"
            )
            raise BadArgument(msg)
