"""The conformance suite: checks that every model class passes, like scikit-learn's ``check_estimator``.

Use it from a model's tests::

    @pytest.mark.parametrize("check", conformance.checks(Churn), ids=conformance.check_id)
    def test_conformance(check, tmp_path):
        check(tmp_path)

or run everything at once with ``check_model(Churn, workdir)``. Each check raises AssertionError
saying what the model got wrong. A check needs only a folder to write its store in.
"""

import atexit
import copy
import functools
import importlib.metadata
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.contract import derived, params
from shared.errors import BadArgument, BadData, MissingInput
from shared.families.model import Model
from shared.storage import artifacts
from shared.tables.inputs import TRAIN_SEED
from shared.tables.results import to_json
from shared.training import fitting

ROWS = 1500  # small enough to train in about a second, large enough for a learnable signal
EXAMPLES = 4  # generated cases per property check: each one trains a model
PERMUTATIONS = 100  # shuffles of the held-out predictions that measure what a model that learned nothing scores
MARGIN = 3.0  # how many standard deviations of those shuffled scores a model that learned must beat them by


def checks(model_cls: type[Model], data: Any = None) -> list[Callable[[Path], None]]:
    """Return every check bound to ``model_cls``; call each with a fresh folder.

    ``data``: a labelled DataFrame of the model's own, for a model without an embedded sample (or to check it
    on real rows): each check then draws its rows from it, seeded, instead of from the sample.
    """
    bound = model_cls if data is None else drawing_from(model_cls, data)
    return [functools.partial(check, bound) for check in ALL_CHECKS]


def drawing_from(model_cls: type[Model], data: Any) -> type[Model]:
    """``model_cls`` with ``data`` as its sample: ``rows`` rows drawn from it by a seeded permutation (with
    replacement only when it has fewer rows)."""
    import numpy as np

    def draw(self: Any, rows: int, rng: Any) -> Any:
        positions = rng.permutation(len(data))[:rows] if rows <= len(data) else rng.integers(0, len(data), rows)
        return data.iloc[np.asarray(positions)].reset_index(drop=True)

    body = {"name": model_cls.name, "__doc__": model_cls.__doc__, "__module__": model_cls.__module__}
    return type(model_cls.__name__, (model_cls,), {**body, "_make_sample": draw, "_conformance_rows": data})


def check_id(check: Any) -> str:
    """A readable pytest id for a bound check."""
    return check.func.__name__.removeprefix("check_")


def check_model(model_cls: type[Model], workdir: Path) -> None:
    """Run every check on ``model_cls``, each in its own sub-folder of ``workdir``."""
    for check in checks(model_cls):
        folder = Path(workdir) / check_id(check)
        folder.mkdir(parents=True, exist_ok=True)
        check(folder)


def _sample(model_cls: type[Model], seed: int = TRAIN_SEED, rows: int = ROWS):
    return model_cls()._sample_frame(rows, seed)


def _unlabelled(model_cls: type[Model], seed: int, rows: int):
    """A sample as scoring sees it: without the label column."""
    frame = _sample(model_cls, seed, rows)
    return frame.drop(columns=[model_cls.label]) if model_cls.label else frame


def _train(model_cls: type[Model], workdir: Path) -> tuple[Model, dict[str, Any]]:
    """A fresh training on the sample with default hyperparameters, in ``workdir``'s store."""
    model = model_cls(store=str(Path(workdir) / "store"))
    return model, model.train(_sample(model_cls))


# (model class, MODELFLEET_* settings) -> the store of one version trained on the sample, and train's result
_VERSIONS: dict[tuple[type[Model], tuple[tuple[str, str], ...]], tuple[Path, dict[str, Any]]] = {}


def _trained(model_cls: type[Model], workdir: Path) -> tuple[Model, dict[str, Any]]:
    """``workdir``'s store holding a version trained on the sample with default hyperparameters, as ``_train``.

    The version is trained once per model class (and MODELFLEET_* settings) in this process, and each check
    gets a copy of that store: training is deterministic (check_deterministic trains twice to prove it), so a
    copy is what training again would commit, and no check sees what another did to its store. The checks that
    prove what training writes (round trips, held-out rows, determinism, the gate) train fresh.
    """
    settings = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("MODELFLEET_")))
    key = (model_cls, settings)
    if key not in _VERSIONS:
        folder = Path(tempfile.mkdtemp(prefix="modelfleet-conformance-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _, result = _train(model_cls, folder)
        _VERSIONS[key] = (folder / "store", result)
    store, result = _VERSIONS[key]
    target = Path(workdir) / "store"
    shutil.copytree(store, target, dirs_exist_ok=True)
    return model_cls(store=str(target)), {**copy.deepcopy(result), "store": str(target)}


def check_declarations(model_cls: type[Model], workdir: Path) -> None:
    """The class declares its columns, metrics and documented hyperparameters."""
    assert model_cls.__doc__, f"{model_cls.__name__} needs a docstring: it is the model's help line"
    assert model_cls.numeric or model_cls.categorical, f"{model_cls.__name__} declares no feature columns"
    assert model_cls.metrics, f"{model_cls.__name__} declares no metrics"
    overlap = {model_cls.label, model_cls.id_column} & {*model_cls.numeric, *model_cls.categorical}
    assert not overlap, f"{model_cls.__name__} lists {overlap} both as features and as label or id"
    for spec in params.hyperparameters(model_cls.Params):
        assert spec.help, f"hyperparameter {spec.name!r} of {model_cls.__name__} has no help text"


def check_sample_is_seeded(model_cls: type[Model], workdir: Path) -> None:
    """The embedded sample has the declared columns, the asked-for rows, and depends only on the seed."""
    first, again, other = _sample(model_cls, 3, 200), _sample(model_cls, 3, 200), _sample(model_cls, 4, 200)
    assert len(first) == 200, f"sample(rows=200) gave {len(first)} rows"
    expected = [model_cls.id_column, *derived.inputs_of(model_cls, [*model_cls.numeric, *model_cls.categorical])]
    expected += [model_cls.label] if model_cls.label else []
    missing = [c for c in expected if c not in first.columns]
    assert not missing, f"the sample lacks declared columns {missing}"
    assert first.equals(again), "the same seed gave different samples"
    assert not first.equals(other), "different seeds gave the same sample"


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


def check_scores_every_row(model_cls: type[Model], workdir: Path) -> None:
    """Scoring a frame returns one finite prediction per row, keyed by the id column, in input order, indexed
    like the input frame (an id kept as the index stays the index)."""
    import numpy as np

    model, _ = _trained(model_cls, workdir)
    frame = _unlabelled(model_cls, seed=7, rows=300)
    frame.index = np.random.default_rng(7).permutation(len(frame)) * 3 + 1000  # not 0..n-1
    predictions = model.score(frame)["predictions"]
    assert len(predictions) == len(frame), f"{len(frame)} rows in, {len(predictions)} predictions out"
    assert list(predictions[model_cls.id_column]) == list(frame[model_cls.id_column]), "ids out of order"
    assert predictions[model_cls.prediction].notna().all(), "some predictions are missing"
    assert predictions.index.equals(frame.index), "predictions are not indexed like the input frame"
    by_id = model.score(frame.set_index(model_cls.id_column))["predictions"]
    assert by_id.index.equals(frame.set_index(model_cls.id_column).index), "an id kept as the index was lost"
    assert by_id[model_cls.prediction].tolist() == predictions[model_cls.prediction].tolist()


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


def check_artifact_round_trip(model_cls: type[Model], workdir: Path) -> None:
    """The stored version, scored through `score` on inputs with shuffled columns (a frame, Parquet and CSV),
    predicts exactly what the in-memory fitted model predicts on its own training-order features."""
    _round_trips(model_cls, Path(workdir), {})


def check_held_out_rows_reproduce_train_metrics(model_cls: type[Model], workdir: Path) -> None:
    """`evaluate` of the stored version on the rows `train --holdout_output` wrote (Parquet or CSV) gives
    exactly the metrics `train` reported, on as many rows as it reported held out."""
    model = model_cls(store=str(Path(workdir) / "store"))
    for kind in ("parquet", "csv"):
        held = Path(workdir) / f"held-out.{kind}"
        trained = model.train(_sample(model_cls), run_id=f"held-out-{kind}", holdout_output=str(held))
        evaluated = model.evaluate(str(held), version=trained["version"])
        assert evaluated["rows"] == trained["rows"]["valid"], (
            f"train held out {trained['rows']['valid']} rows, --holdout_output holds {evaluated['rows']}"
        )
        _same_metrics(trained["metrics"], evaluated["metrics"], f"evaluate on the held-out rows ({kind})")


def check_declaration_order_never_matters(model_cls: type[Model], workdir: Path) -> None:
    """A subclass that declares the same columns in another order (generated) round-trips exactly: stored
    predictions equal the fitted model's, and its held-out rows (Parquet or CSV) reproduce its train metrics."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    runs = iter(range(10**6))

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.permutations(model_cls.numeric), st.permutations(model_cls.categorical))
    def round_trips(numeric: list[str], categorical: list[str]) -> None:
        body = {"numeric": tuple(numeric), "categorical": tuple(categorical), "name": model_cls.name}
        reordered = type(model_cls.__name__, (model_cls,), {**body, "__doc__": model_cls.__doc__})
        run = next(runs)
        folder = Path(workdir) / f"order-{run}"
        folder.mkdir()
        held = folder / f"held-out.{('parquet', 'csv')[run % 2]}"
        trained = _round_trips(reordered, folder, {}, holdout_output=held)
        evaluated = reordered(store=str(folder / "store")).evaluate(str(held), version=trained["version"])
        assert evaluated["rows"] == trained["rows"]["valid"], "the held-out rows are not the ones train measured"
        _same_metrics(trained["metrics"], evaluated["metrics"], f"evaluate on the held-out rows ({held.suffix})")

    round_trips()


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


def _round_trips(
    model_cls: type[Model], workdir: Path, hyperparameters: dict[str, Any], **train: Any
) -> dict[str, Any]:
    """Train (with ``train``'s arguments too), then score the stored version three ways with shuffled columns;
    each must equal the fitted model. Returns what train returned."""
    import numpy as np
    import pandas as pd

    model = model_cls(store=str(workdir / "store"))
    frame = _sample(model_cls)
    trained = model.train(frame, **hyperparameters, **train)
    in_memory = fitting.fit_held_out(model, derived.apply(model, frame), model.Params(**hyperparameters), 0.2, 0)
    scoring = _unlabelled(model_cls, seed=11, rows=400)
    expected = model._predict(in_memory.fitted, in_memory.schema.features(derived.apply(model, scoring)))
    order = np.random.default_rng(len(workdir.name)).permutation(len(scoring.columns))
    shuffled = scoring[[scoring.columns[i] for i in order]]
    shuffled.to_parquet(workdir / "shuffled.parquet", index=False)
    shuffled.to_csv(workdir / "shuffled.csv", index=False)
    got = {"a frame": model.score(shuffled)["predictions"][model_cls.prediction].to_numpy()}
    for kind in ("parquet", "csv"):
        out = workdir / f"scored-{kind}.parquet"
        model.score(str(workdir / f"shuffled.{kind}"), output=str(out))
        got[kind] = pd.read_parquet(out)[model_cls.prediction].to_numpy()
    for how, predicted in got.items():
        assert np.array_equal(predicted, expected), (
            f"the stored version scoring {how} with columns {list(shuffled.columns)} predicts differently from "
            f"the fitted model; first differences at rows {np.flatnonzero(predicted != expected)[:5].tolist()}"
        )
    return trained


def _same_metrics(expected: dict[str, Any], got: dict[str, Any], what: str, tol: float = 1e-9) -> None:
    """Assert two metric results are equal (numbers to ``tol``, nested dicts key by key)."""
    assert list(got) == list(expected), f"{what}: metrics {list(got)}, train reported {list(expected)}"
    for name, value in expected.items():
        if isinstance(value, dict):
            assert got[name] == value, f"{what}: {name} is {got[name]}, train reported {value}"
        else:
            assert math.isclose(got[name], value, rel_tol=tol, abs_tol=tol), (
                f"{what}: {name} is {got[name]!r}, train reported {value!r}"
            )


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


def check_reads_versions_of_the_previous_release(model_cls: type[Model], workdir: Path) -> None:
    """A version whose manifest predates ordered feature lists (schema 1: features as a mapping, written with
    sorted keys) scores exactly as before, in its model file's order, with a notice; no retraining needed."""

    model, trained = _trained(model_cls, workdir)
    frame = _unlabelled(model_cls, seed=12, rows=300)
    before = model.score(frame)["predictions"]
    path = Path(workdir) / "store" / model.name / "versions" / trained["version"] / "manifest.json"
    manifest = json.loads(path.read_text())
    features = manifest.pop("features")
    manifest.pop("split")
    manifest["schema_version"] = 1
    manifest["features"] = {
        "numeric": [f["name"] for f in features if f["kind"] == "numeric"],
        "categorical": {f["name"]: f["levels"] for f in features if f["kind"] == "categorical"},
    }
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True))  # as the previous release wrote it
    notices: list[str] = []
    handler = _Collect(notices)
    logging.getLogger("shared").addHandler(handler)
    try:
        after = model.score(frame)["predictions"]
    finally:
        logging.getLogger("shared").removeHandler(handler)
    assert after.equals(before), "a version of the previous release scores differently once its manifest is old"
    assert any("predates" in notice for notice in notices), f"no notice that the manifest is old: {notices}"


def check_deterministic(model_cls: type[Model], workdir: Path) -> None:
    """Two trainings with the same data and seed give identical metrics and predictions."""
    first, a = _trained(model_cls, Path(workdir) / "a")  # trained once for the suite, earlier in this process
    second, b = _train(model_cls, Path(workdir) / "b")
    assert a["metrics"] == b["metrics"], f"same seed, different metrics: {a['metrics']} vs {b['metrics']}"
    frame = _unlabelled(model_cls, seed=9, rows=200)
    p, q = first.score(frame)["predictions"], second.score(frame)["predictions"]
    assert p.equals(q), "same seed, different predictions"


def check_rejects_missing_feature(model_cls: type[Model], workdir: Path) -> None:
    """A frame lacking a feature is refused with BadData naming it, for scoring and for training."""
    model, _ = _trained(model_cls, workdir)
    for feature in [*derived.raw(model_cls, model_cls.numeric)[:1], *derived.raw(model_cls, model_cls.categorical)[:1]]:
        for command, frame in (
            (model.score, _unlabelled(model_cls, 5, 100)),
            (model.train, _sample(model_cls, 5, 100)),
        ):
            _expect(BadData, functools.partial(command, frame.drop(columns=[feature])), feature)


def check_matches_columns_by_name(model_cls: type[Model], workdir: Path) -> None:
    """Column order never matters, extra columns (the sample's own, such as a date or a note, and one added)
    are ignored and reported in input order, the caller's frame is unchanged."""
    model, _ = _trained(model_cls, workdir)
    frame = _unlabelled(model_cls, seed=6, rows=200)
    before = frame.copy()
    expected = model.score(frame)["predictions"]
    reordered = frame[list(reversed(frame.columns))].assign(unrelated=1.0)
    used = {model_cls.id_column, *derived.inputs_of(model_cls, [*model_cls.numeric, *model_cls.categorical])}
    extra = [column for column in reordered.columns if column not in used]
    shuffled = model.score(reordered)
    assert shuffled["predictions"].equals(expected), "reordered columns changed the predictions"
    assert shuffled["ignored_columns"] == extra, f"ignored columns reported: {shuffled['ignored_columns']}, not {extra}"
    assert frame.equals(before), "scoring changed the caller's DataFrame"


def check_scoring_input_contract(model_cls: type[Model], workdir: Path) -> None:
    """The label, if the input holds it, is ignored like any other column (never read: the predictions stay the
    same) and reported; a renamed or case-changed feature is named; unseen levels are counted."""
    model, _ = _trained(model_cls, workdir)
    frame = _unlabelled(model_cls, seed=4, rows=200)
    label = model_cls.label
    if label:
        labelled = model.score(frame.assign(**{label: 0}))
        assert label in labelled["ignored_columns"], f"the label is not reported ignored: {labelled['ignored_columns']}"
        assert labelled["predictions"].equals(model.score(frame)["predictions"]), "the label changed the predictions"
    feature = derived.raw(model_cls, model_cls.numeric + model_cls.categorical)[0]
    _expect(BadData, lambda: model.score(frame.rename(columns={feature: feature.upper()})), feature.upper())
    if derived.raw(model_cls, model_cls.categorical):
        column = derived.raw(model_cls, model_cls.categorical)[0]
        novel = frame.copy()
        novel.loc[novel.index[:5], column] = "never-seen-level"
        scored = model.score(novel, max_unseen=0.1)
        assert scored["unseen_levels"] == {column: 5}, f"unseen levels reported: {scored['unseen_levels']}"
        assert scored["predictions"][model_cls.prediction].notna().all(), "unseen levels must score as missing"
        _expect(BadData, lambda: model.score(novel, max_unseen=0.01), "never seen in training")


def _expect(error: type[Exception], call: Callable[[], Any], text: str) -> None:
    """Assert that ``call`` raises ``error`` with ``text`` in its message."""
    try:
        call()
    except error as exc:
        assert text in str(exc), f"the {error.__name__} does not mention {text!r}: {exc}"
    else:
        raise AssertionError(f"expected {error.__name__} mentioning {text!r}")


def check_streams_and_shards_like_whole_file(model_cls: type[Model], workdir: Path) -> None:
    """Streaming a folder of files (Parquet or CSV) in small batches gives exactly the whole-frame predictions,
    and N shards' partitions, in part order, union to the unsharded output row for row, empty shards too; the
    drift verdict is the same for the frame, either format, and the last shard of every shard count. A
    boosted-trees model does all of it with each engine (LightGBM, and its compiled library built at train),
    every one giving LightGBM's whole-frame predictions bit for bit."""
    import pandas as pd

    from shared.estimators import formats

    boosted = model_cls.format == formats.LIGHTGBM
    model = model_cls(store=str(Path(workdir) / "store"))
    # A small model: what streaming must keep (every row, its order, each engine's exact predictions) does not
    # depend on how many trees there are, and the compiled library of fewer trees builds many times faster.
    model.train(_sample(model_cls), **({"compile": "on", "n_estimators": 20} if boosted else {}))
    frame = _unlabelled(model_cls, seed=9, rows=1200)
    scored = model.score(frame, **({"engine": "lightgbm"} if boosted else {}))
    whole, verdict = scored["predictions"], scored["drift"]
    inputs = {"parquet": Path(workdir) / "in-parquet", "csv": Path(workdir) / "in-csv"}
    for folder in inputs.values():
        folder.mkdir()
    # 5 Parquet units (row groups of 300, 200 and 200 rows, an empty file), 2 CSV units (files)
    for name, part, group in (("a", frame.iloc[:600], 300), ("b", frame.iloc[600:], 200), ("c", frame.iloc[:0], 10)):
        part.to_parquet(inputs["parquet"] / f"{name}.parquet", index=False, row_group_size=group)
    frame.iloc[:500].to_csv(inputs["csv"] / "a.csv", index=False)
    frame.iloc[500:].to_csv(inputs["csv"] / "b.csv", index=False)
    (inputs["parquet"] / "_SUCCESS").write_text("")  # markers and hidden files are not input
    for engine in ("lightgbm", "compiled") if boosted else (None,):
        chosen = {"engine": engine} if engine else {}
        framed = model.score(frame, **chosen)
        assert framed.get("engine") == engine, f"asked for the {engine} engine, {framed.get('engine')} predicted"
        assert framed["predictions"].equals(whole), f"the {engine} engine predicts the frame differently"
        for kind, folder in inputs.items():
            what = f"{kind}{f' with the {engine} engine' if engine else ''}"
            out = Path(workdir) / f"streamed-{kind}-{engine}.parquet"
            result = model.score(str(folder), output=str(out), batch_rows=64, **chosen)
            streamed = pd.read_parquet(out)
            assert result.get("engine") == engine, f"{what}: {result.get('engine')} predicted"
            assert result["rows"] == len(frame), f"{what}: {len(frame)} rows in, {result['rows']} scored"
            assert streamed[model_cls.prediction].tolist() == whole[model_cls.prediction].tolist(), (
                f"streaming {what} in batches predicts differently from scoring the whole frame"
            )
            assert streamed[model_cls.id_column].astype(str).tolist() == whole[model_cls.id_column].astype(str).tolist()
            assert result["drift"] == verdict, f"streaming {what} in batches gives another drift verdict"
            for count in (1, 2, 3, 7):
                parts = Path(workdir) / f"parts-{kind}-{engine}-{count}"
                results = [
                    model.score(str(folder), output=str(parts), shard=f"{k}/{count}", **chosen) for k in range(count)
                ]
                names = sorted(p.name for p in parts.iterdir() if p.name[0] != "_")  # the run's pin and drift counts
                assert names == [f"part-{k:05d}-of-{count:05d}.parquet" for k in range(count)], names
                assert {r["version"] for r in results} == {result["version"]}, "the shards scored other versions"
                assert {r.get("engine") for r in results} == {engine}, f"{what}: shards used other engines"
                union = pd.concat([pd.read_parquet(parts / name) for name in names], ignore_index=True)
                assert union.equals(streamed), f"{what}: {count} shards do not union to the unsharded output"
                assert sum(r["rows"] for r in results) == len(frame)
                assert [r["drift"]["status"] for r in results[:-1]] == ["pending"] * (count - 1)
                last = dict(results[-1]["drift"])
                assert last.pop("path") == f"{parts}/_drift/run.json"
                assert last == verdict, f"{what}: the verdict of {count} shards differs from one pass's"
                if count == 7:
                    assert any(r["rows"] == 0 for r in results), "7 shards over fewer units: some must be empty"


def check_describe(model_cls: type[Model], workdir: Path) -> None:
    """describe lists parameters and stored versions, and says which version is latest."""
    model = model_cls(store=str(Path(workdir) / "store"))
    empty = model.describe()
    assert empty["versions"] == [] and empty["latest"] is None, "a new store should hold no versions"
    _expect(MissingInput, lambda: model.score(_unlabelled(model_cls, 0, 10)), "train' first")
    _, trained = _trained(model_cls, workdir)
    described = model.describe()
    assert described["latest"] == trained["version"], "describe does not show the new version as latest"
    train = described["commands"]["train"]["parameters"]
    missing = {spec.name for spec in params.hyperparameters(model_cls.Params)} - set(train)
    assert not missing, f"describe does not list the hyperparameters {missing}"
    json.loads(to_json(described))


def check_command_line(model_cls: type[Model], workdir: Path) -> None:
    """train, score, evaluate and describe run through `modelfleet` and `python -m dispatch` (if registered)."""
    registered = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="modelfleet.models")}
    target = f"{model_cls.__module__.removesuffix('.model')}:{model_cls.__qualname__}"
    assert model_cls.name in registered, (
        f"{model_cls.__name__} (name {model_cls.name!r}) is not registered under its name; registered: "
        f'{registered}. Add `{model_cls.name} = "{target}"` under [project.entry-points."modelfleet.models"]'
    )
    script = Path(sys.executable).with_name("modelfleet")
    python_m = [sys.executable, "-m", "dispatch"]
    env = dict(os.environ)
    rows = getattr(model_cls, "_conformance_rows", None)  # a model checked on rows of its own: pass them
    given: dict[str, list[str]] = {"train": [], "score": [], "evaluate": []}
    if rows is not None:
        rows.to_parquet(Path(workdir) / "labelled.parquet", index=False)
        unlabelled = rows.drop(columns=[model_cls.label]) if model_cls.label else rows
        unlabelled.to_parquet(Path(workdir) / "unlabelled.parquet", index=False)
        given = {"train": ["--data=labelled.parquet"], "score": ["--data=unlabelled.parquet"]}
        given["evaluate"] = ["--data=labelled.parquet"]

    def commands(run: int, entry: list[str]) -> None:
        """Each command in turn through one entry point, in a store of its own."""
        store = {**env, "MODELFLEET_STORE": str(Path(workdir) / f"store-{run}")}
        for command in (["train", f"--run_id=conformance-{run}"], ["score"], ["evaluate"], ["describe"]):
            argv = [*entry, model_cls.name, *command, *given.get(command[0], [])]
            done = subprocess.run(argv, capture_output=True, text=True, env=store, cwd=workdir, timeout=600)
            assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-500:]}"
            result = json.loads(done.stdout)
            assert result["model"] == model_cls.name, f"{' '.join(argv)} printed {done.stdout[:200]}"

    # The two entry points side by side: each process spends most of its time starting (imports) on one CPU.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(commands, run, entry) for run, entry in enumerate(([str(script)], python_m))]
        for run in runs:
            run.result()  # a failed command's AssertionError, raised here


class _Collect(logging.Handler):
    """A log handler that keeps the messages of warnings and above."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def check_gate_measures_what_evaluate_measures(model_cls: type[Model], workdir: Path) -> None:
    """`train --promote --against` measures both versions on its held-out rows as `evaluate` does on them; a
    refused version is committed but not promoted; a retried run gives the same verdict and moves nothing again."""
    from shared.errors import NotPromoted
    from shared.storage import aliases
    from shared.storage.store import Store

    model, store = model_cls(store=str(Path(workdir) / "store")), Store(str(Path(workdir) / "store"))
    first = model.train(_sample(model_cls), run_id="first", promote="champion")
    assert first["promoted"]["version"] == "first", f"an ungated --promote did not promote: {first.get('promoted')}"
    held = Path(workdir) / "held-out.parquet"
    # A tolerance no difference reaches: this check is of what is measured, not of the verdict (rows of your
    # own may overlap between the two draws, so the holder may have seen some of these held-out rows).
    gated = {"run_id": "second", "promote": "champion", "against": "champion", "tolerance": 1e12}
    second = model.train(_sample(model_cls, seed=TRAIN_SEED + 1), **gated, holdout_output=str(held))
    against = second["gate"]["against"]
    metric = against["metric"]
    assert against["version"] == "first", f"--against=champion measured {against['version']}, not the holder"
    _same_metrics({metric: second["metrics"][metric]}, {metric: against["new"]}, "the gate's new version")
    holder = model.evaluate(str(held), version="first")["metrics"]
    _same_metrics({metric: holder[metric]}, {metric: against["holder"]}, "the gate's holder on the held-out rows")
    events = len(aliases.history(store, model.name, "champion"))
    better = against["better"]
    impossible = f"{metric}>=1e300" if better == "higher" else f"{metric}<=-1e300"
    verdicts = []
    for _ in range(2):  # the retry reads the recorded verdict
        try:
            model.train(_sample(model_cls), run_id="third", promote="champion", gate=impossible)
        except NotPromoted as exc:
            verdicts.append(exc.result["gate"])
        else:
            raise AssertionError(f"--gate={impossible} promoted a version")
    assert verdicts[0] == verdicts[1], "a retried run gave another verdict"
    assert store.exists(model.name, "third"), "a version its gate refused was not committed"
    now = aliases.current(store, model.name, "champion") or {}
    assert now.get("version") == second["version"], "a refused version moved the alias"
    again = model.train(_sample(model_cls, seed=TRAIN_SEED + 1), **gated)
    assert again["promoted"].get("already_recorded"), f"a retried promotion was not found: {again['promoted']}"
    assert len(aliases.history(store, model.name, "champion")) == events, "a retry appended an alias event"


def check_profile_counts_what_the_stored_version_predicts(model_cls: type[Model], workdir: Path) -> None:
    """The reference profile train stores: one entry per feature in the stored order, each counting every fit
    row; its prediction counts are what the stored version predicts on the held-out rows, in the same bins."""
    import pandas as pd

    from shared.monitoring import profile
    from shared.storage.store import Store

    model, held = model_cls(store=str(Path(workdir) / "store")), Path(workdir) / "held-out.parquet"
    trained = model.train(_sample(model_cls), run_id="profiled", holdout_output=str(held))
    manifest = Store(str(Path(workdir) / "store")).resolve(model.name, "profiled")
    reference = manifest["profile"]
    stored = [feature["name"] for feature in manifest["features"]]
    assert [entry["name"] for entry in reference["features"]] == stored, "the profile's features are out of order"
    for entry in reference["features"]:
        assert sum(entry["counts"]) + entry["missing"] == entry["rows"] == trained["rows"]["train"], entry["name"]
    frame = pd.read_parquet(held)
    frame = frame.drop(columns=[model_cls.label]) if model_cls.label else frame
    predicted = model.score(frame, version="profiled")["predictions"][model_cls.prediction].to_numpy()
    expected = reference["prediction"]
    if expected["kind"] == "segments":
        got = [int((predicted == segment).sum()) for segment in expected["segments"]]
    else:
        got = profile.count(expected, predicted)["counts"]
    assert got == expected["counts"], "the stored prediction profile is not what the stored version predicts"


def check_report_plots_what_evaluate_measures(model_cls: type[Model], workdir: Path) -> None:
    """``report`` on the held-out rows: its metrics are evaluate's on those rows, its curves agree with them
    (the ROC's area is the AUC, the Lorenz curve's Gini the normalized Gini, segment sizes the sizes), every
    count covers every row, and the page draws every chart with no script and nothing to fetch."""
    import re

    model, held = model_cls(store=str(Path(workdir) / "store")), Path(workdir) / "held-out.parquet"
    first = model.train(_sample(model_cls), run_id="first", holdout_output=str(held), promote="champion")
    model.train(_sample(model_cls, seed=TRAIN_SEED + 1), run_id="second")
    done = model.report(str(held), version="second", output=str(Path(workdir) / "report"))
    assert done["against"] == first["version"], "the champion was not overlaid"
    document = json.loads(Path(done["output"]["json"]).read_text())
    page = Path(done["output"]["html"]).read_text()
    measured = model.evaluate(str(held), version="second")["metrics"]
    assert document["metrics"] == measured, "the report's metrics differ from evaluate's on the same rows"
    assert [other["version"] for other in document["against"]] == [first["version"]]
    assert document["against"][0]["metrics"] == model.evaluate(str(held), version="first")["metrics"]
    curves, rows = document["curves"], document["rows"]
    if document["kind"] == "classifier":
        if "auc" in measured:  # a model that declares no AUC still gets its ROC curve
            assert abs(curves["roc"]["auc"] - measured["auc"]) < 1e-5, "the ROC's area is not the AUC"
        assert (
            sum(curves["confusion"][k] for k in ("true_positive", "false_positive", "false_negative", "true_negative"))
            == rows
        )
        assert sum(b["rows"] for b in curves["calibration"]) == rows
        assert curves["gains"]["share_of_positives"][-1] == 1.0
    elif document["kind"] == "regressor":
        if "normalized_gini" in measured:  # a model that declares no Gini (rmse, mae only) still gets its Lorenz curve
            gini = curves["lorenz"]["normalized_gini"]
            assert abs(gini - measured["normalized_gini"]) < 1e-5, "Lorenz is not the Gini"
        assert sum(map(sum, curves["predicted_vs_actual"]["counts"])) == sum(curves["residuals"]["counts"]) == rows
        lorenz = curves["lorenz"]  # highest predictions first: no ranking gathers more than the perfect one
        assert all(b >= m - 1e-9 for b, m in zip(lorenz["perfect"], lorenz["model"], strict=True)), "Lorenz upside down"
        assert all(b >= x - 1e-9 for b, x in zip(lorenz["perfect"], lorenz["share_of_rows"], strict=True))
    else:
        sizes = dict(zip(map(str, curves["segments"]), curves["rows"], strict=True))
        assert sizes == measured["segment_sizes"], "the plotted segment sizes are not the measured ones"
    drawn = re.findall(r'<svg id="([^"]+)"', page)
    from shared.monitoring import report as pages

    expected = re.findall(r'<svg id="([^"]+)"', "".join(pages.charts(document)))
    assert drawn == expected and len(drawn) >= 3, f"charts missing from the page: {drawn}"
    assert "<script" not in page.lower() and "http" not in page.lower().replace("http-equiv", ""), "the page fetches"


ALL_CHECKS = (
    check_declarations,
    check_sample_is_seeded,
    check_trains_on_own_sample,
    check_scores_every_row,
    check_evaluates,
    check_learns_its_sample,
    check_artifact_round_trip,
    check_held_out_rows_reproduce_train_metrics,
    check_declaration_order_never_matters,
    check_hyperparameters_reach_estimator,
    check_reads_versions_of_the_previous_release,
    check_refuses_useless_training,
    check_deterministic,
    check_rejects_missing_feature,
    check_matches_columns_by_name,
    check_scoring_input_contract,
    check_streams_and_shards_like_whole_file,
    check_describe,
    check_command_line,
    check_gate_measures_what_evaluate_measures,
    check_profile_counts_what_the_stored_version_predicts,
    check_report_plots_what_evaluate_measures,
)
