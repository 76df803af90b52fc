"""The base model class. A model declares what is specific to it; the commands are inherited.

A model subclass declares:

- ``label``, ``id_column``, ``numeric``, ``categorical``, ``prediction``: its columns;
- ``metrics``: functions from :mod:`shared.metrics` (or its own) that judge its predictions;
- ``Params``: a dataclass of hyperparameters (usually inherited from its family, see :mod:`shared.boosted`);
- ``_make_sample(rows, rng)``: its own synthetic data set.

Its family (``BoostedTreesModel``, ``ClusteringModel``) supplies ``_fit``, ``_predict`` and the file format.
Every public method is a command; Fire shows its docstring as the command's help.
"""

import dataclasses
import importlib.metadata
import inspect
import logging
import platform
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from shared import formats, params
from shared.data import fingerprint, read_table, write_table
from shared.errors import BadArgument, BadData
from shared.schema import Schema, require_columns
from shared.store import Artifact, Store, check_version_id, new_version_id

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

log = logging.getLogger(__name__)

COMMANDS = ("train", "score", "evaluate", "describe", "sample")
TRAIN_SEED = 0  # the embedded sample that `train` uses without --data
HOLDOUT_SEED = 1  # a fresh draw that `score` and `evaluate` use without --data


class Model:
    """A model of the fleet. Subclasses declare columns, metrics and hyperparameters."""

    label: ClassVar[str | None] = None
    id_column: ClassVar[str] = "customer_id"
    numeric: ClassVar[tuple[str, ...]] = ()
    categorical: ClassVar[tuple[str, ...]] = ()
    prediction: ClassVar[str] = "prediction"
    metrics: ClassVar[tuple[Callable[..., Any], ...]] = ()
    Params: ClassVar[type]
    format: ClassVar[str]
    trusted: ClassVar[tuple[str, ...]] = ()
    sample_rows: ClassVar[int] = 5000
    commands: ClassVar[tuple[str, ...]] = COMMANDS

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.__dict__.get("name", cls.__name__.lower())
        if hasattr(cls, "Params") and ("Params" in cls.__dict__ or "train" not in cls.__dict__):
            cls.train = _train_command(cls)

    def __init__(self, store: str | None = None) -> None:
        """Args:
        store: Store folder or URL for model versions. Default: $MODELFLEET_STORE or ./modelfleet-store.
        """
        self._store_url = store

    # -- commands --------------------------------------------------------------------------------

    def train(
        self,
        data: str | None = None,
        *,
        run_id: str | None = None,
        valid_fraction: float = 0.2,
        **hyperparameters,
    ):
        """Train on DATA and commit a new model version to the store.

        Args:
            data: Parquet or CSV path or URL to train on. Default: the model's embedded sample.
            run_id: Version id to commit, e.g. the Airflow run id; retrying the same id changes nothing.
            valid_fraction: Share of rows held out to measure the metrics, in (0, 0.9].
        """
        cfg = params.validate(self.Params, hyperparameters)
        if not isinstance(valid_fraction, (int, float)) or not 0 < valid_fraction <= 0.9:
            msg = f"--valid_fraction must be in (0, 0.9]; got {valid_fraction!r}"
            raise BadArgument(msg)
        store = Store(self._store_url)
        version = check_version_id(str(run_id)) if run_id is not None else new_version_id()
        if run_id is not None and store.exists(self.name, version):
            log.info("%s version %s is already committed; nothing to do", self.name, version)
            return self._train_result(store, store.resolve(self.name, version), already_committed=True)

        frame = self._input(data, TRAIN_SEED)
        schema = Schema.learn(frame, self.numeric, self.categorical)
        features, target = schema.features(frame, "training data"), self._target(frame, "training data")
        fit_rows, valid_rows = _split(len(frame), valid_fraction, getattr(cfg, "seed", 0))
        if len(fit_rows) < 2 or len(valid_rows) < 1:
            msg = f"training data has {len(frame)} rows; need at least 3 to train and measure"
            raise BadData(msg)
        log.info("training %s on %d rows (%d held out)", self.name, len(fit_rows), len(valid_rows))
        fitted = self._fit(features.iloc[fit_rows], None if target is None else target.iloc[fit_rows], cfg)
        held_out = features.iloc[valid_rows]
        metrics = self._measure(fitted, held_out, None if target is None else target.iloc[valid_rows])

        record = {
            "features": schema.to_dict(),
            "label": self.label,
            "prediction": self.prediction,
            "params": dataclasses.asdict(cfg),
            "metrics": metrics,
            "rows": {"train": len(fit_rows), "valid": len(valid_rows)},
            "data": {"source": _describe_source(data), "rows": len(frame), "sha256": fingerprint(frame)},
            "libraries": _libraries(self.format),
        }
        artifact = Artifact(self._model_file, formats.dump(fitted, self.format), self.format)
        manifest = store.commit(self.name, version, [artifact], record)
        return self._train_result(store, manifest, already_committed=manifest.get("already_committed", False))

    def score(self, data: str | None = None, *, version: str = "latest", output: str | None = None):
        """Score DATA with a stored model version and write the predictions.

        Args:
            data: Parquet or CSV path or URL to score. Default: a fresh draw of the embedded sample.
            version: Model version to use; 'latest' is the newest committed one.
            output: Parquet or CSV path or URL for the predictions. Default: predictions/<version>.parquet in the store.
        """
        store, manifest, fitted = self._load(version)
        frame = self._input(data, HOLDOUT_SEED)
        schema = Schema.from_dict(manifest["features"])
        predictions = self._frame_of(frame, self._predict(fitted, schema.features(frame)))
        result = {"model": self.name, "version": manifest["version"], "rows": len(predictions)}
        if output is None and _is_frame(data):
            return {**result, "predictions": predictions}  # in Python: a frame in, a frame out
        target = output or f"{store.url}/{self.name}/predictions/{manifest['version']}.parquet"
        write_table(predictions, target)
        log.info("wrote %d predictions to %s", len(predictions), target)
        return {**result, "output": target}

    def evaluate(self, data: str | None = None, *, version: str = "latest"):
        """Measure a stored model version's metrics on labelled DATA.

        Args:
            data: Parquet or CSV path or URL with the label column. Default: a fresh draw of the embedded sample.
            version: Model version to evaluate; 'latest' is the newest committed one.
        """
        _, manifest, fitted = self._load(version)
        frame = self._input(data, HOLDOUT_SEED)
        features = Schema.from_dict(manifest["features"]).features(frame)
        metrics = self._measure(fitted, features, self._target(frame, "evaluation data"))
        return {"model": self.name, "version": manifest["version"], "rows": len(frame), "metrics": metrics}

    def describe(self):
        """Show the model's parameters, features, metrics and stored versions."""
        store = Store(self._store_url)
        versions = store.versions(self.name)
        return {
            "model": self.name,
            "summary": _summary(type(self)),
            "label": self.label,
            "id_column": self.id_column,
            "features": {"numeric": list(self.numeric), "categorical": list(self.categorical)},
            "prediction": self.prediction,
            "metrics": [metric.__name__ for metric in self.metrics],
            "parameters": {
                field.name: {"default": field.default, "type": str(field.type), "help": decl.help}
                | ({"constraint": decl.bounds()} if decl.bounds() else {})
                for field, decl in params.fields(self.Params)
            },
            "store": store.url,
            "versions": [
                {"version": m["version"], "committed_at": m["committed_at"], "metrics": m.get("metrics", {})}
                for m in versions
            ],
            "latest": versions[-1]["version"] if versions else None,
        }

    def sample(self, *, rows: int = 5000, seed: int = 0, output: str | None = None):
        """Write the model's synthetic data set: seeded, realistic, with a learnable signal.

        Args:
            rows: Number of rows, at least 1.
            seed: Random seed; the same seed gives the same rows.
            output: Parquet or CSV path or URL to write. Default: <model>-sample.parquet in the current folder.
        """
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
            msg = f"--rows must be an integer >= 1; got {rows!r}"
            raise BadArgument(msg)
        if isinstance(seed, bool) or not isinstance(seed, int):
            msg = f"--seed must be an integer; got {seed!r}"
            raise BadArgument(msg)
        frame = self._sample_frame(rows, seed)
        target = write_table(frame, output or f"{self.name}-sample.parquet")
        return {"model": self.name, "output": target, "rows": len(frame), "columns": list(frame.columns)}

    # -- what a model or its family supplies -----------------------------------------------------

    def _make_sample(self, rows: int, rng: "np.random.Generator") -> "pd.DataFrame":
        """Return ``rows`` rows of realistic synthetic data drawn from ``rng``."""
        raise NotImplementedError

    def _fit(self, features: "pd.DataFrame", target: "pd.Series | None", cfg: Any) -> Any:
        raise NotImplementedError

    def _predict(self, fitted: Any, features: "pd.DataFrame") -> "np.ndarray":
        raise NotImplementedError

    def _metric_inputs(self, fitted: Any, features: "pd.DataFrame", target: Any, predicted: Any) -> tuple:
        """Return the (reference, prediction) pair the model's metrics take; supervised by default."""
        return target.to_numpy(), predicted

    @property
    def _model_file(self) -> str:
        return {formats.LIGHTGBM: "model.txt", formats.SKOPS: "model.skops"}[self.format]

    # -- shared machinery ------------------------------------------------------------------------

    def _sample_frame(self, rows: int, seed: int) -> "pd.DataFrame":
        import numpy as np

        return self._make_sample(rows, np.random.default_rng(seed))

    def _input(self, data: Any, seed: int) -> "pd.DataFrame":
        """Return the input table: the caller's frame (never changed), a file, or the embedded sample."""
        if data is None:
            return self._sample_frame(self.sample_rows, seed)
        if _is_frame(data):
            return data
        if isinstance(data, str) or hasattr(data, "__fspath__"):
            return read_table(data)
        msg = f"--data must be a Parquet or CSV path or URL; got {data!r}"
        raise BadArgument(msg)

    def _target(self, frame: "pd.DataFrame", what: str) -> "pd.Series | None":
        if self.label is None:
            return None
        require_columns(frame, [self.label], what)
        target = frame[self.label]
        if target.isna().any():
            msg = f"{what}: label column {self.label!r} has {int(target.isna().sum())} missing value(s)"
            raise BadData(msg)
        return target

    def _measure(self, fitted: Any, features: "pd.DataFrame", target: Any) -> dict[str, Any]:
        predicted = self._predict(fitted, features)
        reference, prediction = self._metric_inputs(fitted, features, target, predicted)
        return {metric.__name__: metric(reference, prediction) for metric in self.metrics}

    def _load(self, version: str) -> tuple[Store, dict[str, Any], Any]:
        """Resolve a version and load its model file after integrity and compatibility checks."""
        store = Store(self._store_url)
        manifest = store.resolve(self.name, "latest" if version == "latest" else check_version_id(str(version)))
        where = f"{self.name} version {manifest['version']}"
        data, fmt = store.read(manifest, self._model_file)
        formats.check_compatible(fmt, manifest.get("libraries", {}), where)
        if fmt != self.format:
            msg = f"{where} is stored as {fmt!r}; {self.name} reads only {self.format!r}"
            raise formats.ArtifactRejected(msg)
        return store, manifest, formats.load(data, fmt, trusted=self.trusted)

    def _frame_of(self, frame: "pd.DataFrame", predicted: "np.ndarray") -> "pd.DataFrame":
        import pandas as pd

        columns = {self.id_column: frame[self.id_column].to_numpy()} if self.id_column in frame else {}
        return pd.DataFrame({**columns, self.prediction: predicted})

    def _train_result(self, store: Store, manifest: dict[str, Any], already_committed: bool) -> dict[str, Any]:
        return {
            "model": self.name,
            "version": manifest["version"],
            "metrics": manifest.get("metrics", {}),
            "rows": manifest.get("rows", {}),
            "store": store.url,
            "already_committed": already_committed,
        }


def _train_command(cls: type[Model]) -> Callable[..., dict[str, Any]]:
    """Build ``cls.train`` whose signature and help list the model's hyperparameters as flags.

    Fire reads ``__signature__`` and the docstring, so ``modelfleet churn train --help`` shows every
    hyperparameter with its type, default and help, while the body stays the one in ``Model.train``.
    """
    base = Model.train

    def train(self, data=None, *, run_id=None, valid_fraction=0.2, **hyperparameters):
        return base(self, data, run_id=run_id, valid_fraction=valid_fraction, **hyperparameters)

    signature = inspect.signature(base)
    fixed = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    extra, lines = [], []
    for field, decl in params.fields(cls.Params):
        annotation = {"int": int, "float": float, "bool": bool, "str": str}.get(str(field.type), field.type)
        extra.append(
            inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=field.default, annotation=annotation)
        )
        bounds = f" Must be {decl.bounds()}." if decl.bounds() else ""
        lines.append(f"    {field.name}: {decl.help}{bounds}")
    train.__signature__ = signature.replace(parameters=fixed + extra)
    train.__doc__ = inspect.cleandoc(base.__doc__) + "\n" + "\n".join(lines)
    train.__name__, train.__qualname__ = "train", f"{cls.__qualname__}.train"
    train.__module__ = cls.__module__
    return train


def _split(rows: int, valid_fraction: float, seed: int) -> tuple[Any, Any]:
    """Split row positions into a fit part and a held-out part, the same way for the same seed."""
    import numpy as np

    order = np.random.default_rng(seed).permutation(rows)
    n_valid = max(1, round(rows * valid_fraction))
    return np.sort(order[n_valid:]), np.sort(order[:n_valid])


def _is_frame(data: Any) -> bool:
    return type(data).__name__ == "DataFrame" and hasattr(data, "columns")


def _describe_source(data: Any) -> str:
    if data is None:
        return f"embedded sample (seed {TRAIN_SEED})"
    return "in-memory DataFrame" if _is_frame(data) else str(data)


def _summary(cls: type) -> str:
    return inspect.cleandoc(cls.__doc__ or "").split("\n", 1)[0]


def _libraries(fmt: str) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("modelfleet", "numpy", "pandas", "pyarrow"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions | formats.libraries(fmt)
