"""The base model class. A model declares what is specific to it; the commands are inherited.

A model subclass declares:

- ``label``, ``id_column``, ``numeric``, ``categorical``, ``prediction``: its columns;
- ``metrics``: functions from :mod:`shared.metrics` (or its own) that judge its predictions;
- ``Params``: a dataclass of hyperparameters (usually inherited from its family, see :mod:`shared.boosted`);
- ``_make_sample(rows, rng)``: its own synthetic data set.

Its family (``BoostedTreesModel``, ``ClusteringModel``) supplies ``_fit``, ``_predict`` and the file format.

The commands (``train``, ``score``, ``evaluate``, ``describe``, ``sample``) are written once here. For each
model class they are wrapped so that every call, from the command line or from Python, takes each
parameter from the argument, else ``MODELFLEET_<MODEL>_<PARAM>``, else the config file, else the default,
and validates it against its annotation before any work starts. Fire shows their docstrings as help.
"""

import dataclasses
import datetime as dt
import functools
import inspect
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, NamedTuple

from shared import binding, formats, overlap, params, versions
from shared import shards as sharding
from shared.binding import command_specs
from shared.errors import BadArgument, BadData, ModelDefinitionError, NothingToDo, shown
from shared.inputs import is_frame
from shared.params import Bounds, Check, TablePath
from shared.settings import resolve as resolve_settings

if TYPE_CHECKING:  # the commands import these when they run, so that help and the manifest stay fast
    import numpy as np
    import pandas as pd

    from shared.schema import Schema
    from shared.split import Split
    from shared.store import Store

log = logging.getLogger(__name__)

COMMANDS = ("train", "score", "evaluate", "describe", "sample")
TRAIN_SEED = 0  # the embedded sample that `train` uses without --data
HOLDOUT_SEED = 1  # a fresh draw that `score` and `evaluate` use without --data
WATCH_ROWS = 10_000  # held-out rows that training progress lines measure the metric on
MIN_FIT_ROWS, MIN_HELD_OUT_ROWS = 20, 10  # fewer rows can teach or measure nothing worth committing


class Model:
    """A model of the fleet. Subclasses declare columns, metrics and hyperparameters."""

    label: ClassVar[str | None] = None
    id_column: ClassVar[str] = "customer_id"
    numeric: ClassVar[tuple[str, ...]] = ()
    categorical: ClassVar[tuple[str, ...]] = ()
    prediction: ClassVar[str] = "prediction"
    prediction_dtype: ClassVar[str] = "float64"
    metrics: ClassVar[tuple[Callable[..., Any], ...]] = ()
    Params: ClassVar[type]
    format: ClassVar[str]
    trusted: ClassVar[tuple[str, ...]] = ()
    sample_rows: ClassVar[int] = 5000
    commands: ClassVar[tuple[str, ...]] = COMMANDS
    # Each field of ``Params`` -> the estimator's argument it sets. Every field must be here: a hyperparameter
    # that is validated and shown in help but never reaches the estimator would be a silent wrong result.
    estimator_params: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.__dict__.get("name", cls.__name__.lower())
        if hasattr(cls, "Params"):
            _check_params_reach_estimator(cls)
            for command in cls.commands:
                setattr(cls, command, binding.wrap(cls, command))

    def __init__(self, store: str | None = None, config: str | None = None, dry_run: bool = False) -> None:
        """Args:
        store: Store folder or URL for model versions. Default: $MODELFLEET_STORE or ./modelfleet-store.
        config: YAML, JSON or TOML file of parameter values per command.
        dry_run: Check everything and print the plan, without doing the work.
        """
        for name, value in (("store", store), ("config", config)):
            if value is not None and not isinstance(value, (str, os.PathLike)):
                msg = f"{name} must be a folder, file or URL as text; got {shown(value)}"
                raise BadArgument(msg)
        self._store_url = os.fspath(store) if store is not None else None
        self._config_path = config
        self._config: dict[str, dict[str, Any]] | None = None
        self._dry_run = bool(dry_run)

    # -- commands --------------------------------------------------------------------------------

    def train(
        self,
        data: TablePath | None = None,
        *,
        run_id: Annotated[str, params.Shown("version id"), Check(versions.check_run_id)] | None = None,
        as_of: dt.date | None = None,
        valid_fraction: Annotated[float, Bounds(gt=0, le=0.9)] = 0.2,
        split_seed: Annotated[int, Bounds(ge=0, le=2**31 - 1)] = 0,
        holdout_output: params.TableOutput | None = None,
        **hyperparameters: Any,
    ):
        """Train on DATA and commit a new model version to the store.

        Args:
            data: Table to train on. Default: the model's embedded sample.
            run_id: Version id to commit, e.g. the Airflow run id; retrying the same id changes nothing.
            as_of: Date the training data describes (e.g. Airflow's ds), recorded with the version.
            valid_fraction: Share of rows held out (at random) to measure the metrics.
            split_seed: Seed of the held-out rows' draw; the same data and seed hold out the same rows.
            holdout_output: Also write the held-out rows here, to measure the stored version on them.
        """
        from shared.data import check_output, file_digest, fingerprint, write_table
        from shared.store import Artifact, Store, check_version_id, new_version_id

        cfg = self.Params(**hyperparameters)
        if holdout_output is not None:
            check_output(holdout_output, "--holdout_output")
            overlap.refuse(holdout_output, data, "--holdout_output")
        store = Store(self._store_url)
        version = check_version_id(run_id) if run_id is not None else new_version_id()
        store.check_writable()
        committed = run_id is not None and store.exists(self.name, version)
        if self._dry_run:
            columns = [*self.numeric, *self.categorical, *([self.label] if self.label else [])]
            return self._plan(
                "train",
                store,
                data,
                columns,
                kinds=self._declared_kinds(),
                version=version,
                already_committed=committed,
                split={"method": "random", "seed": split_seed, "valid_fraction": valid_fraction},
                holdout_output=holdout_output,
                params=dataclasses.asdict(cfg),
            )
        if committed:
            log.info("%s version %s is already committed; nothing to do", self.name, version)
            if holdout_output is not None:
                log.warning("--holdout_output not written: the version was committed by an earlier run")
            return self._train_result(store, store.resolve(self.name, version), already_committed=True)

        needed = [*self.numeric, *self.categorical, *([self.label] if self.label else [])]
        frame = self._input(data, TRAIN_SEED, needed, optional=[self.id_column], kinds=self._declared_kinds())
        if holdout_output is not None:
            self._check_csv_keeps_levels(frame, holdout_output)
        trained = self._fit_held_out(frame, cfg, valid_fraction, split_seed)
        if holdout_output is not None:
            kept = [c for c in frame.columns if c in {*needed, self.id_column}]
            write_table(frame.iloc[trained.split.valid][kept], holdout_output)
            log.info("wrote the %d held-out rows to %s", len(trained.split.valid), holdout_output)

        record = {
            "features": trained.schema.to_manifest(),
            "label": self.label,
            "prediction": self.prediction,
            "params": dataclasses.asdict(cfg),
            "metrics": trained.metrics,
            "split": trained.split.to_manifest(),
            "rows": {"train": len(trained.split.fit), "valid": len(trained.split.valid)},
            "as_of": as_of.isoformat() if as_of else None,
            "data": {
                "source": _describe_source(data),
                "rows": len(frame),
                # a file's identity is its bytes (sha256sum of it); a frame's, its content
                **(
                    {"sha256": fingerprint(frame), "of": "table"}
                    if data is None or is_frame(data)
                    else {"sha256": file_digest(data), "of": "file"}
                ),
            },
            "libraries": _libraries(self.format),
        }
        artifact = Artifact(self._model_file, formats.dump(trained.fitted, self.format), self.format)
        manifest = store.commit(self.name, version, [artifact], record)
        result = self._train_result(store, manifest, already_committed=manifest.get("already_committed", False))
        return result | ({"holdout_output": holdout_output} if holdout_output is not None else {})

    def score(
        self,
        data: TablePath | None = None,
        *,
        version: Annotated[str, params.Shown("version id or 'latest'"), Check(versions.check_version)] = "latest",
        as_of: dt.date | None = None,
        output: params.TableOutput | None = None,
        max_unseen: Annotated[float, Bounds(ge=0, le=1)] = 0.05,
        shard: Annotated[str, params.Shown("K/N"), Check(sharding.check)] | None = None,
        shards: Annotated[int, Bounds(ge=1, le=1_000_000)] | None = None,
        batch_rows: Annotated[int, Bounds(ge=1, le=100_000_000)] = 100_000,
    ):
        """Score DATA with a stored model version and write the predictions, batch by batch.

        Args:
            data: Table to score: a Parquet or CSV file, or a folder or glob of them; no label column.
                Default: a fresh draw of the embedded sample.
            version: Model version to use; 'latest' is the newest committed one.
            as_of: Date the scored data describes (e.g. Airflow's ds), added to each prediction.
            output: Where to write the predictions. Default: predictions/<version>.parquet in the store.
                With a shard: a folder, which gets part-K-of-N.parquet.
            max_unseen: Largest share of rows with a category never seen in training; above it, exit 65.
            shard: Score only shard K of N (K from 0): a contiguous slice by file, then row group.
                Default: from JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX, else everything.
            shards: Shard count, for a Kubernetes Indexed Job (JOB_COMPLETION_INDEX gives the index).
            batch_rows: Rows read, scored and written at a time; memory grows with it.
        """
        from shared import scoring
        from shared.data import check_output
        from shared.schema import require_columns
        from shared.store import Store

        part = sharding.resolve(shard, shards)
        if output is not None and part is None:
            check_output(output)
        if output is not None and part is not None and _is_table_name(output):
            msg = f"--output: with a shard, name a folder for the part files, not a table; got {shown(output)}"
            raise BadArgument(msg)
        if self._dry_run:
            store = Store(self._store_url)
            manifest = store.resolve(self.name, _version(version))
            columns = self._stored_schema(manifest).columns
            target = self._output_target(output, part, store, manifest)
            source = None
            if data is not None and not is_frame(data):
                from shared.stream import Input

                source = Input.open(data)  # a file, a folder or a glob, as the real run reads it
                overlap.refuse(target, data, "--output", source.files)
            facts = {"version": manifest["version"], "output": target, "shard": str(part) if part else None}
            kinds = self._stored_schema(manifest).kinds
            return self._plan("score", store, data, columns, source, kinds=kinds, forbidden=self.label, **facts)
        store, manifest, schema, fitted = self._load(version)
        if is_frame(data) and output is None and part is None:  # in Python: a frame in, a frame out
            return self._score_frame(fitted, schema, manifest, data, as_of, max_unseen)
        source = self._source(data, [*schema.columns, self.id_column, *([self.label] if self.label else [])])
        target = self._output_target(output, part, store, manifest)
        overlap.refuse(target, data if not is_frame(data) else None, "--output", source.files)
        source.check(schema.columns, schema.kinds, forbidden=self.label)  # every file, before any row is read
        self._refuse_label(source.columns)
        require_columns(_Columns(source.columns), schema.columns, source.name)
        chosen = [source.units[i] for i in sharding.assign([u.weight for u in source.units], part)]
        log.info(
            "scoring %s%s with %s version %s",
            source.name,
            f" shard {part} ({len(chosen)} of {len(source.units)} units)" if part else "",
            self.name,
            manifest["version"],
        )
        done = scoring.stream(
            functools.partial(self._predict, fitted),
            scoring.Output(self.id_column, self.prediction, self.prediction_dtype),
            schema,
            source,
            chosen,
            target,
            batch_rows=batch_rows,
            as_of=as_of,
            max_unseen=max_unseen,
            empty_ok=part is not None,
        )
        sharded = {"shard": str(part), "shard_source": part.source} if part else {}
        return {"model": self.name, "version": manifest["version"], **done, "output": target, **sharded}

    def evaluate(
        self,
        data: TablePath | None = None,
        *,
        version: Annotated[str, params.Shown("version id or 'latest'"), Check(versions.check_version)] = "latest",
        max_unseen: Annotated[float, Bounds(ge=0, le=1)] = 0.05,
    ):
        """Measure a stored model version's metrics on labelled DATA.

        Args:
            data: Labelled table to evaluate on. Default: a fresh draw of the embedded sample.
            version: Model version to evaluate; 'latest' is the newest committed one.
            max_unseen: Largest share of rows with a category never seen in training; above it, exit 65.
        """
        from shared.store import Store

        if self._dry_run:
            store = Store(self._store_url)
            manifest = store.resolve(self.name, _version(version))
            stored = self._stored_schema(manifest)
            columns = [*stored.columns, *([self.label] if self.label else [])]
            return self._plan("evaluate", store, data, columns, kinds=stored.kinds, version=manifest["version"])
        _, manifest, schema, fitted = self._load(version)
        labelled = [*schema.columns, *([self.label] if self.label else [])]
        frame = self._input(data, HOLDOUT_SEED, kinds=schema.kinds, required=labelled)
        features, unseen = schema.prepare(frame)
        report = self._check_unseen(schema, frame, max_unseen, unseen)
        metrics = self._measure(fitted, features, self._target(frame, "evaluation data"))
        return {"model": self.name, "version": manifest["version"], "rows": len(frame), "metrics": metrics, **report}

    def describe(self):
        """Show the model's features, metrics, stored versions, and each parameter's value and its source."""
        from shared.store import Store

        store = Store(self._store_url)
        versions, unreadable = store.listing(self.name)
        commands = {}
        for command in self.commands:
            specs = command_specs(type(self), command)
            settings = resolve_settings(self, command, specs, {})
            commands[command] = {
                "summary": _summary(getattr(type(self), command)),
                "parameters": {
                    spec.name: {
                        **spec.describe(self.name, command),
                        "value": _shown_value(settings[spec.name][0]),
                        "source": settings[spec.name][1],
                    }
                    for spec in specs
                },
            }
        return {
            "model": self.name,
            "summary": _summary(type(self)),
            "label": self.label,
            "id_column": self.id_column,
            "features": {"numeric": list(self.numeric), "categorical": list(self.categorical)},
            "prediction": self.prediction,
            "metrics": [metric.__name__ for metric in self.metrics],
            "commands": commands,
            "store": store.url,
            "versions": [
                {"version": m["version"], "committed_at": m["committed_at"], "metrics": m.get("metrics", {})}
                for m in versions
            ],
            "latest": versions[-1]["version"] if versions else None,
            "unreadable_versions": [{"version": u["version"], "error": u["error"]} for u in unreadable],
        }

    def sample(
        self,
        *,
        rows: Annotated[int, Bounds(ge=1, le=10_000_000), params.PerCommand()] = 5000,
        seed: Annotated[int, Bounds(ge=0), params.PerCommand()] = 0,
        output: params.TableOutput | None = None,
    ):
        """Write the model's synthetic data set: seeded, realistic, with a learnable signal.

        Args:
            rows: Number of rows.
            seed: Random seed; the same seed gives the same rows.
            output: Where to write it. Default: <model>-sample.parquet in the current folder.
        """
        from shared.data import check_output, write_table

        target = check_output(output if output is not None else f"{self.name}-sample.parquet")
        if self._dry_run:
            return {"dry_run": True, "model": self.name, "command": "sample", "rows": rows, "output": target}
        frame = self._sample_frame(rows, seed)
        write_table(frame, target)
        return {"model": self.name, "output": target, "rows": len(frame), "columns": list(frame.columns)}

    # -- what a model or its family supplies -----------------------------------------------------

    def _make_sample(self, rows: int, rng: "np.random.Generator") -> "pd.DataFrame":
        """Return ``rows`` rows of realistic synthetic data drawn from ``rng``."""
        raise NotImplementedError

    def _fit(self, features: "pd.DataFrame", target: "pd.Series | None", cfg: Any, watch: Any = None) -> Any:
        """Fit on ``features`` (and ``target``); ``watch`` is (features, target) of held-out rows for progress."""
        raise NotImplementedError

    def _predict(self, fitted: Any, features: "pd.DataFrame") -> "np.ndarray":
        raise NotImplementedError

    def _estimator_kwargs(self, cfg: Any) -> dict[str, Any]:
        """The estimator's arguments: each hyperparameter under the name ``estimator_params`` maps it to."""
        return {to: getattr(cfg, field) for field, to in self.estimator_params.items()}

    def _estimator_settings(self, fitted: Any) -> dict[str, Any]:
        """The settings a loaded model file records, by the estimator's names (to check hyperparameters reach it)."""
        raise NotImplementedError

    def _recorded_features(self, fitted: Any) -> tuple[list[str] | None, list[str] | None, dict | None]:
        """What a loaded model file records of its features: their names in its order, those it treats as
        categorical, and their levels in code order (each None if the file does not say). The manifest's
        schema is checked against them at load."""
        raise NotImplementedError

    def _check_csv_keeps_levels(self, frame: "pd.DataFrame", output: str) -> None:
        """BadArgument before training if a CSV output would read a categorical level back as missing."""
        from shared.data import table_format
        from shared.schema import as_levels
        from shared.stream import NULL_TEXT

        if table_format(output) != "csv":
            return
        for name in [c for c in self.categorical if c in frame.columns]:
            clash = sorted(set(as_levels(frame[name]).dropna()) & set(NULL_TEXT))
            if clash:
                msg = (
                    f"--holdout_output={output!r}: a CSV reads the level {clash[0]!r} of {name!r} back as a missing "
                    f"value, so the held-out rows would not measure the same; write Parquet (.parquet) instead"
                )
                raise BadArgument(msg)

    def _stored_schema(self, manifest: dict[str, Any]) -> "Schema":
        """The feature schema a version's manifest records (not yet checked against its model file)."""
        from shared.schema import Schema

        where = f"{self.name} version {manifest['version']}"
        return Schema.from_manifest(manifest.get("features"), where, legacy=manifest["schema_version"] == 1)

    def _metric_inputs(self, fitted: Any, features: "pd.DataFrame", target: Any, predicted: Any) -> tuple:
        """Return the (reference, prediction) pair the model's metrics take; supervised by default."""
        return target.to_numpy(), predicted

    @property
    def _model_file(self) -> str:
        return {formats.LIGHTGBM: "model.txt", formats.SKOPS: "model.skops"}[self.format]

    # -- shared machinery ------------------------------------------------------------------------

    def _check_unseen(self, schema: "Schema", frame: "pd.DataFrame", max_unseen: float, unseen: Any) -> dict[str, Any]:
        """Report ignored columns and unseen levels; BadData if too many rows carry unseen levels."""
        from shared.schema import judge_unseen

        report = schema.report(frame, keep=(self.id_column, *([self.label] if self.label else [])), unseen=unseen)
        judge_unseen(report, len(frame), max_unseen)
        if report["ignored_columns"]:
            log.info("ignoring columns the model does not use: %s", ", ".join(report["ignored_columns"]))
        return report

    def _refuse_label(self, columns: Any) -> None:
        """BadData if an input to score holds the label: scoring labelled data is what 'evaluate' is for."""
        if self.label in columns:
            msg = f"input to score holds the label column {self.label!r}; drop it, or use 'evaluate' to measure"
            raise BadData(msg)

    def _score_frame(
        self, fitted: Any, schema: "Schema", manifest: dict[str, Any], frame: "pd.DataFrame", as_of: Any, limit: float
    ) -> dict[str, Any]:
        """Score a whole in-memory frame and return the predictions as a frame."""
        self._refuse_label(frame.columns)
        if len(frame) == 0:
            raise NothingToDo("in-memory DataFrame has no rows; nothing to do, nothing written")
        features, unseen = schema.prepare(frame)
        report = self._check_unseen(schema, frame, limit, unseen)
        predictions = self._frame_of(frame, self._predict(fitted, features))
        if as_of is not None:
            predictions["as_of"] = as_of
        return {
            "model": self.name,
            "version": manifest["version"],
            "rows": len(predictions),
            **report,
            "predictions": predictions,
        }

    def _source(self, data: Any, needed: list[str]) -> Any:
        """The input to stream: files named by ``data``, a caller's frame, or the embedded sample (no label).

        Of an in-memory frame only the ``needed`` columns are converted (the others are only reported).
        """
        import pyarrow as pa

        from shared.stream import Input

        if data is not None and not is_frame(data):
            return Input.open(data)
        frame = self._sample_frame(self.sample_rows, HOLDOUT_SEED) if data is None else data
        if data is None and self.label:
            frame = frame.drop(columns=[self.label])
        name = "the embedded sample" if data is None else "in-memory DataFrame"
        try:
            table = pa.Table.from_pandas(frame[[c for c in frame.columns if c in needed]], preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            msg = f"{name}: {str(exc).splitlines()[0]}"
            raise BadData(msg) from exc
        return Input.of(table, name, columns=[str(c) for c in frame.columns])

    def _output_target(self, output: str | None, part: Any, store: "Store", manifest: dict[str, Any]) -> str:
        """Where predictions go: ``--output`` or the store; with a shard, its part file in that folder."""
        if part is None:
            return output if output is not None else self._default_output(store, manifest)
        folder = output if output is not None else f"{store.url}/{self.name}/predictions/{manifest['version']}"
        return f"{folder.rstrip('/')}/{part.part_name}"

    def _plan(
        self,
        command: str,
        store: "Store",
        data: Any,
        columns: list[str],
        source: Any = None,
        kinds: dict[str, str] | None = None,
        forbidden: str | None = None,
        **facts: Any,
    ) -> dict[str, Any]:
        """Check what a command would read (``source``: the input, if the caller opened it already) as the real
        run checks it before reading rows, and return what it would do, without doing it.

        Every file's header (missing or duplicate columns, a ``forbidden`` one) and, for Parquet, declared
        types (``kinds``: a date where a feature is expected) are checked; values are not read, so a bad value
        deep in a file (text in a numeric CSV column, too many unseen levels) is found by the real run only.
        """
        from shared.data import read_columns
        from shared.schema import require_columns
        from shared.stream import Input

        if data is not None and not is_frame(data):
            if source is None:  # train and evaluate read one file: the same header check as the real run's first
                require_columns(_Columns(read_columns(data)), columns, _describe_source(data))
                source = Input.open(data)
            source.check(columns, kinds or {}, forbidden=forbidden)
        source = _describe_source(data) if command == "train" else "embedded sample" if data is None else str(data)
        return {"dry_run": True, "model": self.name, "command": command, "store": store.url, "data": source, **facts}

    def _sample_frame(self, rows: int, seed: int) -> "pd.DataFrame":
        import numpy as np

        return self._make_sample(rows, np.random.default_rng(seed))

    def _declared_kinds(self) -> dict[str, str]:
        """Each declared feature's kind, by name."""
        return {**dict.fromkeys(self.numeric, "numeric"), **dict.fromkeys(self.categorical, "categorical")}

    def _input(
        self,
        data: Any,
        seed: int,
        columns: list[str] | None = None,
        optional: list[str] = (),
        kinds: dict[str, str] | None = None,
        required: list[str] = (),
    ) -> "pd.DataFrame":
        """Return the input: the caller's frame (never changed), a file (only ``columns`` of it, and those of
        ``optional`` it has), or the sample. A file's header and declared types (``kinds``) are checked as the
        dry run checks them, before any row is read."""
        if data is None:
            return self._sample_frame(self.sample_rows, seed)
        if is_frame(data):
            frame = data
        elif isinstance(data, str) or hasattr(data, "__fspath__"):
            from shared.data import read_columns, read_table
            from shared.schema import require_columns
            from shared.stream import Input

            header = read_columns(data)  # named against the whole header (duplicates, near misses) before reading
            needed = [*(columns or []), *(c for c in required if c not in (columns or []))]
            require_columns(_Columns(header), needed, _describe_source(data))
            Input.open(data).check(needed, kinds or {})
            if columns is not None:
                columns = [*columns, *[c for c in optional if c in header and c not in columns]]
            frame = read_table(data, columns, text=[*self.categorical, self.id_column])
        else:
            msg = f"--data must be a Parquet or CSV path or URL; got {shown(data)}"
            raise BadArgument(msg)
        if len(frame) == 0:
            raise NothingToDo(f"{_describe_source(data)} has no rows; nothing to do, nothing written")
        return frame

    def _target(self, frame: "pd.DataFrame", what: str) -> "pd.Series | None":
        from shared.schema import require_columns

        if self.label is None:
            return None
        require_columns(frame, [self.label], what)
        target = frame[self.label]
        if target.isna().any():
            msg = f"{what}: label column {self.label!r} has {int(target.isna().sum())} missing value(s)"
            raise BadData(msg)
        self._check_target(target, what)
        return target

    def _check_target(self, target: "pd.Series", what: str) -> None:
        """Raise BadData if the label cannot be what the model learns (finite numbers; 0/1 for a classifier)."""
        import numpy as np

        if target.dtype.kind not in "biuf":
            import pandas as pd

            bad = target[pd.to_numeric(target, errors="coerce").isna()]  # the values that are no number
            problem = f"{len(bad)} value(s) are not, e.g. {shown(bad.iloc[0])}" if len(bad) else "it holds text"
            msg = f"{what}: label column {self.label!r} must be numeric; {problem}"
            if not len(bad):
                msg += f" (e.g. {shown(target.iloc[0])}); store the label as numbers"
            raise BadData(msg)
        infinite = ~np.isfinite(target.to_numpy(dtype="float64"))
        if infinite.any():
            msg = f"{what}: label column {self.label!r} has {int(infinite.sum())} infinite value(s); labels are finite"
            raise BadData(msg)

    def _check_learnable(self, fit_target: "pd.Series | None", held_target: "pd.Series | None") -> None:
        """Raise BadData if the labels can teach nothing (one value) or measure nothing; families add rules."""
        if fit_target is not None and fit_target.nunique() < 2:
            msg = (
                f"training data: label column {self.label!r} has the one value {fit_target.iloc[0]!r} in all "
                f"{len(fit_target)} rows to fit; a model would learn nothing"
            )
            raise BadData(msg)

    def _measure(self, fitted: Any, features: "pd.DataFrame", target: Any, predicted: Any = None) -> dict[str, Any]:
        predicted = self._predict(fitted, features) if predicted is None else predicted
        reference, prediction = self._metric_inputs(fitted, features, target, predicted)
        return {metric.__name__: metric(reference, prediction) for metric in self.metrics}

    def _load(self, version: str) -> tuple["Store", dict[str, Any], "Schema", Any]:
        """Resolve a version and load its model file after integrity and compatibility checks.

        The schema comes back checked against the model file: the features the file itself records, in its
        order, must be the manifest's (ArtifactRejected otherwise), so the model always reads the columns it
        was trained on.
        """
        from shared.store import Store

        store = Store(self._store_url)
        manifest = store.resolve(self.name, _version(version))
        where = f"{self.name} version {manifest['version']}"
        schema = self._stored_schema(manifest)
        data, fmt = store.read(manifest, self._model_file)
        formats.check_compatible(fmt, manifest.get("libraries", {}), where)
        if fmt != self.format:
            msg = f"{where} is stored as {fmt!r}; {self.name} reads only {self.format!r}"
            raise formats.ArtifactRejected(msg)
        fitted = formats.load(data, fmt, trusted=self.trusted)
        recorded, categorical, levels = self._recorded_features(fitted)
        return store, manifest, schema.aligned(recorded, categorical, where, levels), fitted

    def _fit_held_out(self, frame: "pd.DataFrame", cfg: Any, valid_fraction: float, split_seed: int) -> "Trained":
        """Hold rows out, learn the schema and fit on the fit rows only, and measure on the held-out rows.

        Categorical levels come from the fit rows alone, so a held-out level they lack counts as unseen, as
        it will at scoring time.
        """
        from shared.schema import Schema
        from shared.split import random_split

        split = random_split(len(frame), valid_fraction, split_seed)
        schema = Schema.learn(frame.iloc[split.fit], self.numeric, self.categorical)
        features, target = schema.features(frame, "training data"), self._target(frame, "training data")
        if len(split.fit) < MIN_FIT_ROWS or len(split.valid) < MIN_HELD_OUT_ROWS:
            msg = (
                f"training data has {len(frame)} rows: {len(split.fit)} to fit and {len(split.valid)} held out "
                f"(--valid_fraction={valid_fraction:g}); need at least {MIN_FIT_ROWS} to fit and "
                f"{MIN_HELD_OUT_ROWS} held out to measure"
            )
            raise BadData(msg)
        held_out, held_target = features.iloc[split.valid], None if target is None else target.iloc[split.valid]
        fit_target = None if target is None else target.iloc[split.fit]
        self._check_learnable(fit_target, held_target)
        log.info("training %s on %d rows (%d held out)", self.name, len(split.fit), len(split.valid))
        watched = _watched(len(split.valid), split_seed)
        watch = (held_out.iloc[watched], None if held_target is None else held_target.iloc[watched])
        fitted = self._fit(features.iloc[split.fit], fit_target, cfg, watch)
        predicted = self._predict(fitted, held_out)
        metrics = self._measure(fitted, held_out, held_target, predicted)
        _check_useful(self, metrics, predicted)
        return Trained(schema, split, fitted, metrics)

    def _default_output(self, store: "Store", manifest: dict[str, Any]) -> str:
        return f"{store.url}/{self.name}/predictions/{manifest['version']}.parquet"

    def _frame_of(self, frame: "pd.DataFrame", predicted: "np.ndarray") -> "pd.DataFrame":
        import pandas as pd

        columns = {self.id_column: frame[self.id_column].to_numpy()} if self.id_column in frame else {}
        return pd.DataFrame({**columns, self.prediction: predicted}, index=frame.index)  # the caller's index

    def _train_result(self, store: "Store", manifest: dict[str, Any], already_committed: bool) -> dict[str, Any]:
        return {
            "model": self.name,
            "version": manifest["version"],
            "metrics": manifest.get("metrics", {}),
            "rows": manifest.get("rows", {}),
            "store": store.url,
            "split": manifest.get("split"),
            "as_of": manifest.get("as_of"),
            "already_committed": already_committed,
        }


def _check_useful(model: Model, metrics: dict[str, Any], predicted: Any) -> None:
    """BadData before anything is committed if the fitted model is useless: one prediction (one segment) for
    every held-out row, or a metric that is not a finite number."""
    import math

    import numpy as np

    if np.ptp(np.asarray(predicted, dtype="float64")) == 0:
        learned = (
            "it learned nothing from these rows (too few rows, or hyperparameters that allow no split)"
            if model.label is not None
            else "the rows have too few distinct values to segment"
        )
        what = "segment" if model.label is None else "prediction"
        msg = f"the model gives one {what} ({float(predicted[0]):g}) for every held-out row: {learned}"
        msg += "; nothing was committed"
        raise BadData(msg)
    for name, value in metrics.items():
        values = value.values() if isinstance(value, dict) else [value]
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
            msg = f"the metric {name} on the held-out rows is {value!r}, not a finite number; nothing was committed"
            raise BadData(msg)


def _check_params_reach_estimator(cls: type[Model]) -> None:
    """ModelDefinitionError unless every field of ``cls.Params`` is mapped to an estimator argument."""
    fields = [f.name for f in dataclasses.fields(cls.Params)]
    unmapped = [name for name in fields if name not in cls.estimator_params]
    unknown = sorted(set(cls.estimator_params) - set(fields))
    problems = []
    if unmapped:
        problems.append(f"hyperparameter(s) {unmapped} never reach the estimator")
    if unknown:
        problems.append(f"{unknown} are not fields of Params")
    if problems:
        msg = (
            f"model class {cls.__qualname__}: {'; '.join(problems)}; map every field of {cls.Params.__name__} to the "
            f"estimator argument it sets in {cls.__name__}.estimator_params, or drop it from Params"
        )
        raise ModelDefinitionError(msg)


class Trained(NamedTuple):
    """What fitting on a split gives: the schema, the split, the fitted model and its held-out metrics."""

    schema: "Schema"
    split: "Split"
    fitted: Any
    metrics: dict[str, Any]


class _Columns:
    """The column names of a table not yet read, shaped like a frame for ``require_columns``."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns


def _version(version: str) -> str:
    from shared.store import check_version_id

    return "latest" if version == "latest" else check_version_id(version)


def _watched(rows: int, seed: int) -> Any:
    """A random sample of at most WATCH_ROWS held-out positions, in order: what progress lines measure on."""
    import numpy as np

    return np.sort(np.random.default_rng(seed).permutation(rows)[:WATCH_ROWS])


def _is_table_name(path: str) -> bool:
    from shared.data import FORMATS

    return os.path.splitext(path.split("?")[0])[1].lower() in FORMATS


def _shown_value(value: Any) -> Any:
    return "<DataFrame>" if is_frame(value) else params.plain_default(value)


def _describe_source(data: Any) -> str:
    if data is None:
        return f"embedded sample (seed {TRAIN_SEED})"
    from shared.results import redact

    return "in-memory DataFrame" if is_frame(data) else redact(str(data))


def _summary(obj: Any) -> str:
    return inspect.cleandoc(obj.__doc__ or "").split("\n", 1)[0]


def _libraries(fmt: str) -> dict[str, str]:
    import importlib.metadata  # only when a command runs: it is slow to import
    import platform

    versions = {"python": platform.python_version()}
    for package in ("modelfleet", "numpy", "pandas", "pyarrow"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions | formats.libraries(fmt)
