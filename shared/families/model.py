"""The model author's contract: what a model class declares, and the hooks its family supplies.

A model subclass declares:

- ``label``, ``id_column``, ``numeric``, ``categorical``, ``prediction``: its columns;
- ``metrics``: functions from :mod:`shared.contract.metrics` (or its own) that judge its predictions;
- ``Params``: a dataclass of hyperparameters (usually inherited from its family, see :mod:`shared.families.boosted`),
  and ``estimator_params``, the estimator argument each of them sets;
- ``_make_sample(rows, rng)``: its own synthetic data set.

Its family (``BoostedTreesModel``, ``ClusteringModel``) supplies ``_fit``, ``_predict``, the file format and
the other hooks below. The commands (``train``, ``score``, ...) are not written here: each is a module of
:mod:`shared.commands`, and every class with ``Params`` gets them as methods (:mod:`shared.plumbing.binding`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from shared.commands import BUILT_IN
from shared.contract import labels, params
from shared.errors import BadArgument, MissingInput, ModelDefinitionError, shown
from shared.plumbing import binding

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class Model:
    """A model of the fleet. Subclasses declare columns, metrics and hyperparameters."""

    name: ClassVar[str]  # the registered name; the lowercased class name unless the class sets it
    label: ClassVar[str | None] = None  # the column to learn; None for an unsupervised model
    id_column: ClassVar[str | None] = "customer_id"  # in every input and prediction row; None: rows have no id
    numeric: ClassVar[tuple[str, ...]] = ()
    categorical: ClassVar[tuple[str, ...]] = ()
    prediction: ClassVar[str] = "prediction"  # the output column
    prediction_dtype: ClassVar[str] = "float64"
    classes: ClassVar[tuple[str | int, ...]] = ()  # a classifier's classes, if its family has them (multiclass)
    metrics: ClassVar[tuple[Callable[..., Any], ...]] = ()
    Params: ClassVar[type]
    format: ClassVar[str]  # the model file's format (shared.estimators.formats)
    trusted: ClassVar[tuple[str, ...]] = ()  # types beyond the format's own that loading a model file may build
    sample_rows: ClassVar[int] = 5000
    # features ``_derive`` computes from ``derived_from`` (shared.contract.derived)
    derived: ClassVar[tuple[str, ...]] = ()
    derived_from: ClassVar[tuple[str, ...]] = ()
    # Each field of ``Params`` -> the estimator's argument it sets. Every field must be here: a hyperparameter
    # that is validated and shown in help but never reaches the estimator would be a silent wrong result.
    estimator_params: ClassVar[dict[str, str]] = {}
    # (command, module holding its function), in help order; a model may add its own (see shared.commands).
    command_modules: ClassVar[tuple[tuple[str, str], ...]] = BUILT_IN
    commands: ClassVar[tuple[str, ...]] = tuple(name for name, _ in BUILT_IN)
    if TYPE_CHECKING:  # every class with Params gets these from shared.plumbing.binding; declared for type checkers
        train: Callable[..., dict[str, Any]]
        score: Callable[..., dict[str, Any]]
        evaluate: Callable[..., dict[str, Any]]
        report: Callable[..., dict[str, Any]]
        describe: Callable[..., dict[str, Any]]
        sample: Callable[..., dict[str, Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.__dict__.get("name", cls.__name__.lower())
        if cls.classes and getattr(cls, "objective", None) is None:
            msg = f"model class {cls.__qualname__} declares classes, which only a multiclass boosted-trees model has"
            raise ModelDefinitionError(msg)
        cls.command_modules, cls.commands = binding.registered(cls)
        binding.refuse_overrides(cls)
        if hasattr(cls, "Params"):  # a family without Params is no model yet: it gets no commands
            params.check_reach_estimator(cls)
            binding.install(cls)

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

    # -- what a model or its family supplies -----------------------------------------------------

    def _derive(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The ``derived`` features of a batch of input rows (their ``derived_from`` columns), row for row."""
        raise NotImplementedError

    def _make_sample(self, rows: int, rng: np.random.Generator) -> pd.DataFrame:
        """Return ``rows`` rows of realistic synthetic data drawn from ``rng``."""
        raise NotImplementedError

    def _fit(
        self, features: pd.DataFrame, target: pd.Series | None, cfg: Any, watch: Any = None, stop: Any = None
    ) -> Any:
        """Fit on ``features`` (and ``target``); ``watch`` is (features, target) of held-out rows to show progress
        on, ``stop`` those of the rows to stop early on (only when ``cfg.early_stopping_rounds`` is set)."""
        raise NotImplementedError

    def _predict(self, fitted: Any, features: pd.DataFrame) -> np.ndarray:
        """Predict prepared ``features`` (the schema's columns, in its order) with the fitted model."""
        raise NotImplementedError

    def _segment_ids(self, fitted: Any) -> list[int] | None:
        """The segment ids a fitted clustering model can give, if it can say (the profile counts each)."""
        return None

    def _contributions(self, fitted: Any, features: pd.DataFrame) -> np.ndarray | None:
        """Per row, each feature's additive contribution to the raw prediction (then the bias), if the model
        can say; None otherwise."""
        return None

    def _recorded_features(self, fitted: Any) -> tuple[list[str] | None, list[str] | None, dict | None]:
        """What a loaded model file records of its features: their names in its order, those it treats as
        categorical, and their levels in code order (each None if the file does not say). The manifest's
        schema is checked against them at load."""
        raise NotImplementedError

    def _estimator_settings(self, fitted: Any) -> dict[str, Any]:
        """The settings a loaded model file records, by the estimator's names (to check hyperparameters reach it)."""
        raise NotImplementedError

    def _report(self, fitted: Any) -> dict[str, Any]:
        """What the fitted model says of itself, recorded in the manifest: ``importance`` (each feature's
        ``{"feature", "gain", "split"}``, in the schema's order), ``best_iteration``; families add them."""
        return {}

    def _check_settings(self, cfg: Any) -> None:
        """BadArgument, before any work (in a dry run too), for hyperparameters that cannot go together."""

    def _estimator_kwargs(self, cfg: Any) -> dict[str, Any]:
        """The estimator's arguments: each hyperparameter under the name ``estimator_params`` maps it to."""
        return {to: getattr(cfg, field) for field, to in self.estimator_params.items()}

    def _label_values(self, values: pd.Series, what: str) -> pd.Series:
        """The label as the model learns it, from the label as the data stores it; families map (e.g. "Yes" -> 1)."""
        return values

    def _check_target(self, target: pd.Series, what: str) -> None:
        """Raise BadData if the label cannot be what the model learns (finite numbers; families add rules)."""
        labels.check_numeric(self.label, target, what)

    def _check_learnable(self, fit_target: pd.Series | None, held_target: pd.Series | None) -> None:
        """Raise BadData if the labels can teach nothing (one value) or measure nothing; families add rules."""
        labels.check_varied(self.label, fit_target)

    def _outputs(self) -> list[tuple[str, str]]:
        """The prediction columns a scored row gets, in order, each with its type: ``prediction`` by default."""
        return [(self.prediction, self.prediction_dtype)]

    def _output_values(self, predicted: Any) -> dict[str, Any]:
        """Each column of :meth:`_outputs`, by name, from what :meth:`_predict` returned for a batch."""
        return {self.prediction: predicted}

    def _drift_values(self, predicted: Any) -> Any:
        """What the reference profile and drift count of a batch's predictions: one value per row."""
        return predicted

    def _drift_segments(self, fitted: Any) -> Any:
        """How the profile counts :meth:`_drift_values`: False as numbers in bins; as ids (a list of those the
        model can give, or True for those seen) for a model whose prediction is a segment or a class."""
        return False if self.label is not None else (self._segment_ids(fitted) or True)

    def _check_version(self, fitted: Any, manifest: dict[str, Any], where: str) -> None:
        """ArtifactRejected if a loaded version was made for another declaration of this model (families add
        rules: a classifier's classes)."""

    def _metric_inputs(self, fitted: Any, features: pd.DataFrame, target: Any, predicted: Any) -> tuple:
        """Return the (reference, prediction) pair the model's metrics take; supervised by default."""
        return target.to_numpy(), predicted

    def _sample_frame(self, rows: int, seed: int) -> pd.DataFrame:
        """The embedded sample: ``rows`` rows drawn with ``seed``; MissingInput if the model has none."""
        import numpy as np

        if type(self)._make_sample is Model._make_sample:
            raise MissingInput(f"model {self.name!r} has no embedded sample: give --data (a table, folder or glob)")
        return self._make_sample(rows, np.random.default_rng(seed))
