"""The scikit-learn clustering family: unsupervised segmentation pipelines stored with skops.

A model of this family declares its columns, its ``Params`` and ``_estimator(cfg)``, the clusterer. The
family puts standard preprocessing in front (impute and scale numbers, one-hot encode categories over
the training levels), fits the pipeline, and stores it with skops, trusting only the types listed in
``trusted``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from shared.errors import BadData
from shared.estimators import formats
from shared.families.model import Model

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class ClusteringModel(Model):
    """A scikit-learn clustering pipeline; subclasses declare ``_estimator`` and their columns."""

    format = formats.SKOPS
    prediction: ClassVar[str] = "segment"
    prediction_dtype: ClassVar[str] = "int32"  # cluster numbers, as scikit-learn returns them
    # skops loads plain scikit-learn estimators without being told; anything beyond them must be named
    # here, by the model's code, never taken from the file. numpy.dtype is data: the encoder's dtype.
    trusted: ClassVar[tuple[str, ...]] = ("numpy.dtype",)

    # The scikit-learn clusterer, as "module:Class"; it gets each hyperparameter by the name ``estimator_params``
    # maps it to, so that every declared hyperparameter reaches it.
    estimator: ClassVar[str]

    def _estimator(self, cfg: Any) -> Any:
        """Return the unfitted scikit-learn clusterer, built from the hyperparameters."""
        import importlib

        module, _, name = self.estimator.partition(":")
        return getattr(importlib.import_module(module), name)(**self._estimator_kwargs(cfg))

    def _fit(self, features: pd.DataFrame, target: Any, cfg: Any, watch: Any = None, stop: Any = None) -> Any:
        import numpy as np
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import Pipeline, make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        levels = [list(features[name].cat.categories) for name in self.categorical]
        prepare = ColumnTransformer(
            [
                (
                    "numeric",
                    make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                    list(self.numeric),
                ),
                (
                    "categorical",
                    OneHotEncoder(categories=levels, handle_unknown="ignore", sparse_output=False),
                    list(self.categorical),
                ),
            ]
        )
        clusterer = self._estimator(cfg)
        wanted = getattr(clusterer, "n_clusters", None)
        if isinstance(wanted, int) and wanted > len(features):
            msg = f"training data has {len(features)} rows to fit, fewer than the {wanted} segments asked for"
            raise BadData(msg)
        empty = [name for name in self.numeric if features[name].isna().all()]
        if empty:
            msg = f"training data: numeric feature {empty[0]!r} has no values in the rows to fit; nothing to segment on"
            raise BadData(msg)
        encoded = _for_encoder(features)
        try:
            prepared = prepare.fit_transform(encoded)
        except ValueError as exc:  # e.g. a numeric feature with no values at all
            msg = f"training data cannot be segmented: {str(exc).splitlines()[0][:200]}"
            raise BadData(msg) from None
        if not np.isfinite(prepared).all():  # values so large that scaling overflows (1e308)
            msg = "training data cannot be segmented: a numeric feature is too large to scale (overflow)"
            raise BadData(msg)
        distinct = len(np.unique(prepared.round(12), axis=0)) if isinstance(wanted, int) else None
        if distinct is not None and isinstance(wanted, int) and distinct < wanted:
            msg = (
                f"training data has {distinct} distinct feature row(s), fewer than the {wanted} segments asked for: "
                f"the segments would be duplicates; ask for fewer segments or give more varied rows"
            )
            raise BadData(msg)
        clusterer.fit(prepared)  # the features are prepared once: a Pipeline.fit would prepare them again
        return Pipeline([("prepare", prepare), ("cluster", clusterer)])

    def _predict(self, pipeline: Any, features: pd.DataFrame) -> np.ndarray:
        return pipeline.predict(_for_encoder(features))

    def _recorded_features(self, pipeline: Any) -> tuple[list[str] | None, list[str] | None, dict | None]:
        names = getattr(pipeline, "feature_names_in_", None)
        columns = {name: list(cols) for name, _, cols in getattr(pipeline[0], "transformers_", [])}
        categorical = columns.get("categorical")
        encoder = getattr(pipeline[0], "named_transformers_", {}).get("categorical")
        found = getattr(encoder, "categories_", None)
        levels = (
            None if found is None or categorical is None else dict(zip(categorical, map(list, found), strict=False))
        )
        return (None if names is None else list(names)), categorical, levels

    def _segment_ids(self, pipeline: Any) -> list[int] | None:
        centres = getattr(pipeline[-1], "cluster_centers_", None)  # KMeans and its kin: one id per centre
        return None if centres is None else list(range(len(centres)))

    def _estimator_settings(self, pipeline: Any) -> dict[str, Any]:
        return pipeline[-1].get_params()

    def _metric_inputs(self, pipeline: Any, features: pd.DataFrame, target: Any, predicted: Any) -> tuple:
        return pipeline[:-1].transform(_for_encoder(features)), predicted


def _for_encoder(features: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as plain objects, unseen levels as None: what the one-hot encoder expects."""
    out = features.copy()
    for name in out.columns:
        if out[name].dtype == "category":
            out[name] = out[name].astype(object).where(out[name].notna(), None)
    return out
