"""The LightGBM family: gradient-boosted trees for classification and regression.

A model of this family declares its ``objective`` (``binary``, ``multiclass`` or ``regression``) and its
columns; it inherits the hyperparameters below and may override their defaults by subclassing
``BoostingParams``. A multiclass model declares its ``classes`` too, in the order its probability columns take
(:mod:`shared.families.multiclass`). Models are stored in LightGBM's native text format.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from shared.contract import labels
from shared.contract.params import param
from shared.errors import BadArgument, BadData, ModelDefinitionError
from shared.estimators import formats
from shared.estimators.matrix import matrix as _matrix
from shared.families import multiclass
from shared.families.model import Model
from shared.process import cpus, stopping
from shared.process.progress import Throttle

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BoostingParams:
    """LightGBM hyperparameters that every boosted-trees model accepts."""

    n_estimators: int = param(200, "Boosting rounds.", ge=1, le=100_000)
    boosting: Literal["gbdt", "dart"] = param(
        "gbdt", "Boosting algorithm: gbdt, or dart (trees dropped out at random)."
    )
    learning_rate: float = param(0.05, "Shrinkage applied to each tree.", gt=0, le=1)
    num_leaves: int = param(31, "Maximum leaves per tree.", ge=2, le=131_072)
    min_child_samples: int = param(20, "Minimum rows in a leaf.", ge=1, le=1_000_000_000)
    subsample: float = param(0.8, "Share of rows sampled for each tree.", gt=0, le=1)
    colsample_bytree: float = param(0.8, "Share of features sampled for each tree.", gt=0, le=1)
    reg_lambda: float = param(0.0, "L2 regularisation of leaf values.", ge=0)
    seed: int = param(0, "Random seed: the same seed and data give the same model.", ge=0, le=2**31 - 1)
    num_threads: int = param(
        0, "CPU threads to use; 0 uses every CPU this container may use (its CPU limit).", ge=0, le=1024
    )
    early_stopping_rounds: int = param(
        0,
        "Stop boosting when the loss on the stopping rows (--stop_fraction, apart from the held-out rows) has not "
        "improved for this many rounds, and keep the best round; 0 boosts every round.",
        ge=0,
        le=100_000,
    )
    max_depth: int = param(-1, "Deepest a tree may grow; -1 sets no limit (num_leaves still does).", ge=-1, le=256)
    min_split_gain: float = param(0.0, "Least loss reduction a split must bring to be made.", ge=0)
    reg_alpha: float = param(0.0, "L1 regularisation of leaf values.", ge=0)
    max_bin: int = param(255, "Most bins a numeric feature's values are bucketed into.", ge=2, le=65_535)
    min_data_per_group: int = param(
        100, "Fewest rows on each side of a split on a categorical feature.", ge=1, le=1_000_000_000
    )
    cat_smooth: float = param(10.0, "Smoothing of the category statistics that categorical splits use.", ge=0)


@dataclass(frozen=True)
class BinaryParams(BoostingParams):
    """What a binary classifier adds: how to weigh a rare class."""

    scale_pos_weight: float = param(
        1.0, "Weight of the positive class's rows: above 1 counts the rare class more.", gt=0, le=1_000_000
    )
    is_unbalance: bool = param(False, "Weigh the classes by their counts in the fit rows (not with scale_pos_weight).")


@dataclass(frozen=True)
class RegressionParams(BoostingParams):
    """What a regressor adds: its loss."""

    objective: Literal["regression", "regression_l1", "huber", "poisson", "tweedie", "gamma"] = param(
        "regression",
        "Loss: regression (squared), regression_l1 (absolute), huber; or poisson, tweedie, gamma for counts and "
        "amounts that are never negative, whose predictions are then never negative either.",
    )
    tweedie_variance_power: float = param(
        1.5, "Tweedie variance power (objective=tweedie): near 1 like poisson, near 2 like gamma.", ge=1.0, lt=2.0
    )


# Each hyperparameter, by the name LightGBM records it under in the model file.
LIGHTGBM_NAMES = {
    "n_estimators": "num_iterations",
    "boosting": "boosting",
    "learning_rate": "learning_rate",
    "num_leaves": "num_leaves",
    "min_child_samples": "min_data_in_leaf",
    "subsample": "bagging_fraction",
    "colsample_bytree": "feature_fraction",
    "reg_lambda": "lambda_l2",
    "seed": "seed",
    "num_threads": "num_threads",
    "early_stopping_rounds": "early_stopping_round",
    "max_depth": "max_depth",
    "min_split_gain": "min_gain_to_split",
    "reg_alpha": "lambda_l1",
    "max_bin": "max_bin",
    "min_data_per_group": "min_data_per_group",
    "cat_smooth": "cat_smooth",
    "scale_pos_weight": "scale_pos_weight",
    "is_unbalance": "is_unbalance",
    "objective": "objective",
    "tweedie_variance_power": "tweedie_variance_power",
}


@dataclass(frozen=True)
class MulticlassParams(BoostingParams):
    """A classifier of more than two classes takes the common hyperparameters; its class count is its declaration."""


# The losses RegressionParams.objective offers: a model may declare one as its objective (e.g. "tweedie"), fixed.
REGRESSION_LOSSES = ("regression", "regression_l1", "huber", "poisson", "tweedie", "gamma")
PARAMS_BY_OBJECTIVE: dict[str, type[BoostingParams]] = {
    "binary": BinaryParams,
    "multiclass": MulticlassParams,
    "regression": RegressionParams,
}
NON_NEGATIVE = {"poisson": "negative", "tweedie": "negative", "gamma": "zero or negative"}


class BoostedTreesModel(Model):
    """A LightGBM model; subclasses set ``objective`` and their columns."""

    objective: ClassVar[str] = "binary"
    # For a binary label stored as text or numbers other than 0/1 (e.g. "Yes"/"No"): the value that means 1.
    positive_label: ClassVar[str | int | bool | None] = None
    # For objective = "multiclass": ``classes``, the label's values in the order of the probability columns.
    Params = BoostingParams
    estimator_params: ClassVar[dict[str, str]] = {
        name: LIGHTGBM_NAMES[name] for name in (f.name for f in dataclasses.fields(BoostingParams))
    }
    format = formats.LIGHTGBM

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A model declares its objective; its hyperparameters follow from it unless it declares its own.
        if cls.objective not in (*PARAMS_BY_OBJECTIVE, *REGRESSION_LOSSES):
            losses = ", ".join(loss for loss in REGRESSION_LOSSES if loss != "regression")
            msg = (
                f"model class {cls.__qualname__}: objective = {cls.objective!r} is no kind of boosted-trees model; "
                f"declare one of {', '.join(PARAMS_BY_OBJECTIVE)}, or a regressor's loss ({losses})"
            )
            raise ModelDefinitionError(msg)
        multiclass.check_declared(cls)
        if "Params" not in cls.__dict__ and cls.objective in PARAMS_BY_OBJECTIVE:
            cls.Params = PARAMS_BY_OBJECTIVE[cls.objective]
        if "estimator_params" not in cls.__dict__:
            fields = [f.name for f in dataclasses.fields(cls.Params)]
            cls.estimator_params = {name: LIGHTGBM_NAMES[name] for name in fields if name in LIGHTGBM_NAMES}
        super().__init_subclass__(**kwargs)

    def _check_settings(self, cfg: Any) -> None:
        if cfg.early_stopping_rounds and cfg.boosting == "dart":  # LightGBM would only warn, and boost every round
            msg = "--early_stopping_rounds: early stopping is not available with --boosting=dart; use gbdt"
            raise BadArgument(msg)
        if getattr(cfg, "is_unbalance", False) and getattr(cfg, "scale_pos_weight", 1.0) != 1.0:
            msg = "--scale_pos_weight and --is_unbalance both weigh the classes: give one of them"
            raise BadArgument(msg)

    def _estimator_kwargs(self, cfg: Any) -> dict[str, Any]:
        settings = super()._estimator_kwargs(cfg)
        settings["num_threads"] = settings["num_threads"] or cpus.available()
        return settings

    def _fit(
        self, features: pd.DataFrame, target: pd.Series | None, cfg: BoostingParams, watch: Any = None, stop: Any = None
    ) -> Any:
        import lightgbm
        import pandas as pd

        if target is None:
            msg = f"model class {type(self).__qualname__} is a boosted-trees model: it must declare its label"
            raise ModelDefinitionError(msg)
        dataset = lightgbm.Dataset(
            _matrix(features),
            label=target.to_numpy(dtype="float64"),
            feature_name=list(features.columns),
            categorical_feature=list(self.categorical),
            params={"verbose": -1},
            free_raw_data=True,
        )
        booster_params = self._estimator_kwargs(cfg)
        rounds = booster_params.pop("num_iterations")  # given as num_boost_round: LightGBM warns about both
        booster_params.setdefault("objective", self.objective)  # a regressor's loss is a hyperparameter
        if self.objective == "multiclass":
            booster_params["num_class"] = len(self.classes)
        loss = booster_params["objective"]
        labels_seen = target if stop is None else pd.concat([target, stop[1]])  # the stopping rows are fit on too
        if loss in NON_NEGATIVE and (labels_seen < 0).any() | ((labels_seen <= 0).any() and loss == "gamma"):
            found = labels_seen[labels_seen <= 0] if loss == "gamma" else labels_seen[labels_seen < 0]
            msg = (
                f"training data: label column {self.label!r} holds {len(found)} {NON_NEGATIVE[loss]} value(s) "
                f"(e.g. {float(found.iloc[0]):g}), which --objective={loss} cannot learn; choose another objective"
            )
            raise BadData(msg)
        booster_params |= {
            "bagging_freq": 1 if booster_params.get("bagging_fraction", 1) < 1 else 0,
            "deterministic": True,
            "force_col_wise": True,
            "verbose": -1,
        }
        sampled = int(booster_params.get("bagging_fraction", 1.0) * len(features))  # LightGBM rounds down too
        if sampled < 1:
            msg = (
                f"--subsample={cfg.subsample:g} samples no row of the {len(features)} fit rows for a tree; give at "
                f"least {1 / len(features):.2g} (one row), or 1 for every row"
            )
            raise BadArgument(msg)
        progress = self._progress(rounds, watch)
        early: dict[str, Any] = {}
        if cfg.early_stopping_rounds:
            if stop is None or not len(stop[0]):
                msg = "early stopping needs rows to stop on: give a --stop_fraction above 0"
                raise BadArgument(msg)
            matrix, label = _matrix(stop[0]), stop[1].to_numpy(dtype="float64")
            early = {"valid_sets": [lightgbm.Dataset(matrix, label=label, reference=dataset)]}
            early["valid_names"] = ["stopping rows"]
        try:
            booster = lightgbm.train(booster_params, dataset, num_boost_round=rounds, callbacks=[progress], **early)
        except lightgbm.basic.LightGBMError as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            text = re.sub(r" at \S+\.(?:cpp|hpp|h), line \d+ ?\.?", "", text)  # LightGBM's source position
            named = [f"--{field}" for field, to in self.estimator_params.items() if to in text or field in text]
            defaults = type(cfg)()
            changed = {k: v for k, v in dataclasses.asdict(cfg).items() if v != getattr(defaults, k)}
            culprit = f"{', '.join(named)}: " if named else ""
            msg = (
                f"{culprit}LightGBM cannot train with these hyperparameters ({text}); "
                f"hyperparameters set: {changed or 'none, all defaults'}"
            )
            raise BadArgument(msg) from None
        # The model file keeps each categorical's levels in code order (LightGBM's own pandas_categorical line;
        # it never reads it for a matrix), so that a manifest with other levels is refused at load.
        booster.pandas_categorical = [
            list(column.cat.categories) for _, column in features.items() if column.dtype == "category"
        ]
        return booster

    def _recorded_features(self, booster: Any) -> tuple[list[str], list[str] | None, dict | None]:
        names = list(booster.feature_name())
        positions = booster.params.get("categorical_feature", [])
        if isinstance(positions, str):
            positions = [p for p in positions.split(",") if p.strip()]
        try:
            categorical = [names[int(p)] for p in positions]
        except (ValueError, IndexError):
            return names, None, None  # categoricals named in a way we do not read: the names alone decide
        stored = booster.pandas_categorical  # None in files written before it was recorded
        if stored is None or len(stored) != len(categorical):
            return names, categorical, None
        return names, categorical, dict(zip(categorical, stored, strict=True))

    def _report(self, booster: Any) -> dict[str, Any]:
        gains, splits = booster.feature_importance("gain"), booster.feature_importance("split")
        importance = [
            {"feature": name, "gain": float(gain), "split": int(split)}
            for name, gain, split in zip(booster.feature_name(), gains, splits, strict=True)
        ]
        return {"importance": importance, "best_iteration": booster.best_iteration or booster.current_iteration()}

    def _estimator_settings(self, booster: Any) -> dict[str, Any]:
        return dict(booster.params)

    def _progress(self, rounds: int, watch: tuple[pd.DataFrame, pd.Series] | None) -> Callable[[Any], None]:
        """A LightGBM callback logging the round and the first metric on held-out rows, every few seconds."""
        throttle = Throttle()
        matrix = _matrix(watch[0]) if watch is not None and len(watch[0]) else None

        def log_progress(env: Any) -> None:
            stopping.check()  # a signal's stop that a __del__ swallowed is raised here, at the next round
            done = env.iteration + 1
            if not throttle.due() and done < rounds:
                return
            measured = ""
            if matrix is not None and watch is not None and self.metrics:
                metric = self.metrics[0]
                predicted = env.model.predict(matrix, num_iteration=done)
                value = metric(*self._metric_inputs(env.model, watch[0], watch[1], predicted))
                measured = f", {metric.__name__} {value:.4f} on {len(matrix)} held-out rows"
            log.info("round %d/%d (%.1f rounds/s)%s", done, rounds, throttle.rate(done), measured)

        return log_progress

    def _label_values(self, values: pd.Series, what: str) -> pd.Series:
        if self.objective == "multiclass":
            return labels.classes(values, self.label, self.classes, what)
        if self.objective != "binary":
            return values
        return labels.binary(values, self.label, self.positive_label, what)

    def _check_target(self, target: pd.Series, what: str) -> None:
        super()._check_target(target, what)
        if self.objective == "binary" and not target.isin([0, 1]).all():
            found = sorted(map(str, target.unique()[:5]))
            msg = f"{what}: label column {self.label!r} must hold 0 or 1 for a binary model; found {found}"
            raise BadData(msg)

    def _check_learnable(self, fit_target: pd.Series | None, held_target: pd.Series | None) -> None:
        super()._check_learnable(fit_target, held_target)
        if self.objective == "multiclass":
            multiclass.check_learnable(self, fit_target, held_target)
        if self.objective == "binary" and held_target is not None and held_target.nunique() < 2:
            msg = (
                f"the {len(held_target)} held-out rows all have {self.label!r} = {held_target.iloc[0]!r}; a binary "
                f"model cannot be measured on one class: give more rows or a larger --valid_fraction"
            )
            raise BadData(msg)

    def _outputs(self) -> list[tuple[str, str]]:
        return multiclass.outputs(self) if self.objective == "multiclass" else super()._outputs()

    def _output_values(self, predicted: Any) -> dict[str, Any]:
        if self.objective == "multiclass":
            return multiclass.output_values(self, predicted)
        return super()._output_values(predicted)

    def _drift_values(self, predicted: Any) -> Any:
        return multiclass.predicted_codes(predicted) if self.objective == "multiclass" else predicted

    def _drift_segments(self, fitted: Any) -> Any:
        return list(range(len(self.classes))) if self.objective == "multiclass" else False

    def _check_version(self, booster: Any, manifest: dict[str, Any], where: str) -> None:
        if self.objective == "multiclass" or "classes" in manifest:
            multiclass.check_version(self, booster, manifest, where)

    def _predict(self, booster: Any, features: pd.DataFrame) -> np.ndarray:
        return booster.predict(_matrix(features), num_threads=cpus.available())

    def _contributions(self, booster: Any, features: pd.DataFrame) -> np.ndarray:
        return booster.predict(_matrix(features), pred_contrib=True, num_threads=cpus.available())
