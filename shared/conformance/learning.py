"""Checks of training and of what it learns: every declared metric reported, something learned on the
held-out rows, hyperparameters that reach the estimator, useless training refused, the same seed the same
model."""

import json
import math
from pathlib import Path
from typing import Any

from shared.conformance.helpers import EXAMPLES, MARGIN, PERMUTATIONS, _expect, _sample, _train, _trained, _unlabelled
from shared.contract import derived, params
from shared.errors import BadArgument, BadData
from shared.families.model import Model
from shared.storage import artifacts
from shared.tables.inputs import TRAIN_SEED
from shared.tables.results import to_json
from shared.training import fitting


def check_trains_on_own_sample(model_cls: type[Model], workdir: Path) -> None:
    """Training on the model's own sample commits a version and reports every declared metric."""
    _, result = _trained(model_cls, workdir)
    assert result["version"], "train returned no version"
    names = [m.__name__ for m in model_cls.metrics]
    assert list(result["metrics"]) == names, f"train reported metrics {list(result['metrics'])}, declared {names}"
    for name, value in result["metrics"].items():
        values = value.values() if isinstance(value, dict) else [value]
        assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in values), f"metric {name}={value!r}"
    json.loads(to_json(result))


def check_evaluates(model_cls: type[Model], workdir: Path) -> None:
    """Evaluating a stored version on fresh data reports every declared metric."""
    model, trained = _trained(model_cls, workdir)
    result = model.evaluate(_sample(model_cls, seed=8, rows=500))
    assert result["version"] == trained["version"], "evaluate did not use the latest version"
    assert list(result["metrics"]) == [m.__name__ for m in model_cls.metrics]


def check_learns_its_sample(model_cls: type[Model], workdir: Path) -> None:
    """Trained on its sample (as many rows as `train` draws from it), the model learns something: on the rows
    train holds out, its predictions score clearly better than the same predictions shuffled across those rows,
    a baseline that learned nothing measured on the same rows (for an AUC, 0.5 with the spread the number of
    held-out rows gives). The metric is the first declared one that says which way is better (the gate judges by
    the first declared metric)."""
    import numpy as np

    judged = [m for m in model_cls.metrics if getattr(m, "better", None) in ("higher", "lower")]
    assert judged, f"{model_cls.__name__} declares no metric that says which way is better"
    metric, sign = judged[0], 1.0 if getattr(judged[0], "better", None) == "higher" else -1.0
    rows = getattr(model_cls, "_conformance_rows", None)
    model = model_cls(store=str(Path(workdir) / "store"))
    frame = _sample(model_cls, rows=model_cls.sample_rows if rows is None else len(rows))
    fitted = fitting.fit_held_out(model, derived.apply(model, frame), model.Params(), 0.2, 0)  # as train does
    features, target, predicted = fitted.held_out or (None, None, None)
    reference, prediction = model._metric_inputs(fitted.fitted, features, target, predicted)
    prediction = np.asarray(prediction)
    score = float(metric(reference, prediction))
    rng = np.random.default_rng(TRAIN_SEED)
    shuffled = np.array([metric(reference, rng.permutation(prediction)) for _ in range(PERMUTATIONS)], dtype=float)
    spread, mean, best = float(np.std(shuffled)), float(np.mean(shuffled)), sign * float(np.max(sign * shuffled))
    assert math.isfinite(score) and sign * (score - mean) > MARGIN * spread and sign * (score - best) > 0, (
        f"{model_cls.__name__} learned nothing its held-out rows show: {metric.__name__} {score:.4g} on "
        f"{len(prediction)} rows, against {mean:.4g} (spread {spread:.2g}, best {best:.4g}) for its predictions "
        f"shuffled across those rows; it must be better by more than {MARGIN:g} spreads"
    )


def check_hyperparameters_reach_estimator(model_cls: type[Model], workdir: Path) -> None:
    """Every hyperparameter, at generated values within its bounds, is what the stored model file records."""
    from hypothesis import HealthCheck, given, reject, settings
    from hypothesis import strategies as st

    specs = params.hyperparameters(model_cls.Params)
    runs = iter(range(10**6))

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.fixed_dictionaries({spec.name: _values(spec) for spec in specs}))
    def reaches(values: dict[str, Any]) -> None:
        model = model_cls(store=str(Path(workdir) / f"store-{next(runs)}"))
        try:
            model.train(_sample(model_cls, rows=400), **values)
        except (BadArgument, BadData):
            # values the estimator cannot train with (64), or that give a model that learned nothing (65), are
            # refused, which is right; draw others
            reject()
        loaded = artifacts.load(model, "latest").fitted
        recorded = model._estimator_settings(loaded)
        for name, expected in model._estimator_kwargs(model.Params(**values)).items():
            assert name in recorded, f"the stored model records no {name!r}; hyperparameters {values}"
            got = recorded[name]
            same = math.isclose(got, expected, rel_tol=1e-5) if isinstance(expected, float) else got == expected
            assert same, f"hyperparameter for {name!r} was {expected!r}, the stored model records {got!r}"

    reaches()


def _values(spec: params.Spec) -> Any:
    """A hypothesis strategy of valid values of a hyperparameter, kept small enough to train fast."""
    from hypothesis import strategies as st

    if spec.choices():
        return st.sampled_from(spec.choices())
    bounds = spec.constraints()
    if spec.base is int:
        low = int(bounds.get("ge", bounds.get("gt", 0) + 1))
        high = int(bounds.get("le", bounds.get("lt", 10**9) - 1))
        return st.integers(low, min(high, low + 50))
    if spec.base is float:
        least, most = bounds.get("ge", bounds.get("gt", 0.0)), min(bounds.get("le", bounds.get("lt", 10.0)), 10.0)
        return st.floats(
            least, most, exclude_min="gt" in bounds, exclude_max="lt" in bounds, allow_nan=False, allow_subnormal=False
        )
    return st.just(spec.default)


def check_refuses_useless_training(model_cls: type[Model], workdir: Path) -> None:
    """Training that could only commit a useless model is refused with BadData and commits nothing (generated
    cases): too few rows to fit or to measure, features that each hold one value (nothing to learn, one segment),
    and for a supervised model a label with one value or an infinite label."""
    import numpy as np
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from shared.training.fitting import MIN_FIT_ROWS, MIN_HELD_OUT_ROWS

    store = Path(workdir) / "store"
    model = model_cls(store=str(store))
    kinds = ["few-rows", "few-held-out", "constant-features"]
    kinds += ["one-label-value", "infinite-label"] if model_cls.label else []

    @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(kind=st.sampled_from(kinds), seed=st.integers(0, 2**16), share=st.floats(0.001, 1.0))
    def refused(kind: str, seed: int, share: float) -> None:
        label = str(model_cls.label)  # the label kinds are drawn only for a model with one
        frame, fraction = _sample(model_cls, seed, 300), 0.2
        if kind == "few-rows":
            frame = frame.iloc[: 1 + int(share * (MIN_FIT_ROWS + MIN_HELD_OUT_ROWS) * 1.25)]
        elif kind == "few-held-out":
            fraction = max(1e-9, share * (MIN_HELD_OUT_ROWS - 1) / len(frame))
        elif kind == "constant-features":
            row = frame.iloc[int(share * 299)]
            columns = derived.inputs_of(model_cls, [*model_cls.numeric, *model_cls.categorical])
            frame = frame.assign(**{name: row[name] for name in columns})
        elif kind == "one-label-value":
            frame = frame.assign(**{label: frame[label].iloc[int(share * 299)]})
        else:
            rows = np.random.default_rng(seed).random(len(frame)) < share
            frame = frame.assign(**{label: np.where(rows | (np.arange(300) == 0), np.inf, 1.0)})
        _expect(BadData, lambda: model.train(frame, valid_fraction=fraction), "")
        assert model.describe()["versions"] == [], f"a useless model was committed ({kind})"

    refused()


def check_deterministic(model_cls: type[Model], workdir: Path) -> None:
    """Two trainings with the same data and seed give identical metrics and predictions."""
    first, a = _trained(model_cls, Path(workdir) / "a")  # trained once for the suite, earlier in this process
    second, b = _train(model_cls, Path(workdir) / "b")
    assert a["metrics"] == b["metrics"], f"same seed, different metrics: {a['metrics']} vs {b['metrics']}"
    frame = _unlabelled(model_cls, seed=9, rows=200)
    p, q = first.score(frame)["predictions"], second.score(frame)["predictions"]
    assert p.equals(q), "same seed, different predictions"
