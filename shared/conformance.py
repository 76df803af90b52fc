"""The conformance suite: checks that every model class passes, like scikit-learn's ``check_estimator``.

Use it from a model's tests::

    @pytest.mark.parametrize("check", conformance.checks(Churn), ids=conformance.check_id)
    def test_conformance(check, tmp_path):
        check(tmp_path)

or run everything at once with ``check_model(Churn, workdir)``. Each check raises AssertionError
saying what the model got wrong. A check needs only a folder to write its store in.
"""

import functools
import importlib.metadata
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared import params
from shared.base import TRAIN_SEED, Model, _split
from shared.errors import BadData, MissingInput
from shared.results import to_json
from shared.schema import Schema

ROWS = 1500  # small enough to train in about a second, large enough for a learnable signal


def checks(model_cls: type[Model]) -> list[Callable[[Path], None]]:
    """Return every check bound to ``model_cls``; call each with a fresh folder."""
    return [functools.partial(check, model_cls) for check in ALL_CHECKS]


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


def _trained(model_cls: type[Model], workdir: Path) -> tuple[Model, dict[str, Any]]:
    model = model_cls(store=str(Path(workdir) / "store"))
    return model, model.train(_sample(model_cls))


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
    expected = [model_cls.id_column, *model_cls.numeric, *model_cls.categorical]
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
    """Scoring a frame returns one finite prediction per row, keyed by the id column, in input order."""
    model, _ = _trained(model_cls, workdir)
    frame = _unlabelled(model_cls, seed=7, rows=300)
    predictions = model.score(frame)["predictions"]
    assert len(predictions) == len(frame), f"{len(frame)} rows in, {len(predictions)} predictions out"
    assert list(predictions[model_cls.id_column]) == list(frame[model_cls.id_column]), "ids out of order"
    assert predictions[model_cls.prediction].notna().all(), "some predictions are missing"


def check_evaluates(model_cls: type[Model], workdir: Path) -> None:
    """Evaluating a stored version on fresh data reports every declared metric."""
    model, trained = _trained(model_cls, workdir)
    result = model.evaluate(_sample(model_cls, seed=8, rows=500))
    assert result["version"] == trained["version"], "evaluate did not use the latest version"
    assert list(result["metrics"]) == [m.__name__ for m in model_cls.metrics]


def check_artifact_round_trip(model_cls: type[Model], workdir: Path) -> None:
    """The stored model predicts exactly what the freshly fitted model predicts."""
    model, _ = _trained(model_cls, workdir)
    frame = _sample(model_cls)
    schema = Schema.learn(frame, model_cls.numeric, model_cls.categorical)
    features = schema.features(frame)
    target = frame[model_cls.label] if model_cls.label else None
    cfg = model_cls.Params()
    fit_rows, _ = _split(len(frame), 0.2, getattr(cfg, "seed", 0))
    fitted = model._fit(features.iloc[fit_rows], None if target is None else target.iloc[fit_rows], cfg)
    _, _, loaded = model._load("latest")
    fresh, stored = model._predict(fitted, features), model._predict(loaded, features)
    assert (fresh == stored).all(), "the model loaded from the store predicts differently from the fitted one"


def check_deterministic(model_cls: type[Model], workdir: Path) -> None:
    """Two trainings with the same data and seed give identical metrics and predictions."""
    first, a = _trained(model_cls, Path(workdir) / "a")
    second, b = _trained(model_cls, Path(workdir) / "b")
    assert a["metrics"] == b["metrics"], f"same seed, different metrics: {a['metrics']} vs {b['metrics']}"
    frame = _unlabelled(model_cls, seed=9, rows=200)
    p, q = first.score(frame)["predictions"], second.score(frame)["predictions"]
    assert p.equals(q), "same seed, different predictions"


def check_rejects_missing_feature(model_cls: type[Model], workdir: Path) -> None:
    """A frame lacking a feature is refused with BadData naming it, for scoring and for training."""
    model, _ = _trained(model_cls, workdir)
    for feature in model_cls.numeric[:1] + model_cls.categorical[:1]:
        for command, frame in (
            (model.score, _unlabelled(model_cls, 5, 100)),
            (model.train, _sample(model_cls, 5, 100)),
        ):
            _expect(BadData, functools.partial(command, frame.drop(columns=[feature])), feature)


def check_matches_columns_by_name(model_cls: type[Model], workdir: Path) -> None:
    """Column order never matters, extra columns are ignored and reported, the caller's frame is unchanged."""
    model, _ = _trained(model_cls, workdir)
    frame = _unlabelled(model_cls, seed=6, rows=200)
    before = frame.copy()
    expected = model.score(frame)["predictions"]
    shuffled = model.score(frame[list(reversed(frame.columns))].assign(unrelated=1.0))
    assert shuffled["predictions"].equals(expected), "reordered columns changed the predictions"
    assert shuffled["ignored_columns"] == ["unrelated"], f"ignored columns reported: {shuffled['ignored_columns']}"
    assert frame.equals(before), "scoring changed the caller's DataFrame"


def check_scoring_input_contract(model_cls: type[Model], workdir: Path) -> None:
    """The label may not be scored; a renamed or case-changed feature is named; unseen levels are counted."""
    model, _ = _trained(model_cls, workdir)
    frame = _unlabelled(model_cls, seed=4, rows=200)
    if model_cls.label:
        _expect(BadData, lambda: model.score(frame.assign(**{model_cls.label: 0})), model_cls.label)
    feature = (model_cls.numeric + model_cls.categorical)[0]
    _expect(BadData, lambda: model.score(frame.rename(columns={feature: feature.upper()})), feature.upper())
    if model_cls.categorical:
        column = model_cls.categorical[0]
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
    and N shards' partitions, in part order, union to the unsharded output row for row, empty shards too."""
    import pandas as pd

    model, _ = _trained(model_cls, workdir)
    frame = _unlabelled(model_cls, seed=9, rows=1200)
    whole = model.score(frame)["predictions"]
    inputs = {"parquet": Path(workdir) / "in-parquet", "csv": Path(workdir) / "in-csv"}
    for folder in inputs.values():
        folder.mkdir()
    # 5 Parquet units (row groups of 300, 200 and 200 rows, an empty file), 2 CSV units (files)
    for name, part, group in (("a", frame.iloc[:600], 300), ("b", frame.iloc[600:], 200), ("c", frame.iloc[:0], 10)):
        part.to_parquet(inputs["parquet"] / f"{name}.parquet", index=False, row_group_size=group)
    frame.iloc[:500].to_csv(inputs["csv"] / "a.csv", index=False)
    frame.iloc[500:].to_csv(inputs["csv"] / "b.csv", index=False)
    (inputs["parquet"] / "_SUCCESS").write_text("")  # markers and hidden files are not input
    for kind, folder in inputs.items():
        out = Path(workdir) / f"streamed-{kind}.parquet"
        result = model.score(str(folder), output=str(out), batch_rows=64)
        streamed = pd.read_parquet(out)
        assert result["rows"] == len(frame), f"{kind}: {len(frame)} rows in, {result['rows']} scored"
        assert streamed[model_cls.prediction].tolist() == whole[model_cls.prediction].tolist(), (
            f"streaming {kind} in batches predicts differently from scoring the whole frame"
        )
        assert streamed[model_cls.id_column].astype(str).tolist() == whole[model_cls.id_column].astype(str).tolist()
        for count in (1, 2, 3, 7):
            parts = Path(workdir) / f"parts-{kind}-{count}"
            results = [model.score(str(folder), output=str(parts), shard=f"{k}/{count}") for k in range(count)]
            names = sorted(p.name for p in parts.iterdir())
            assert names == [f"part-{k:05d}-of-{count:05d}.parquet" for k in range(count)], names
            union = pd.concat([pd.read_parquet(parts / name) for name in names], ignore_index=True)
            assert union.equals(streamed), f"{kind}: {count} shards do not union to the unsharded output"
            assert sum(r["rows"] for r in results) == len(frame)
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
    registered = {ep.name for ep in importlib.metadata.entry_points(group="modelfleet.models")}
    if model_cls.name not in registered:
        return  # not registered as an entry point: the library checks above are all that apply
    script = Path(sys.executable).with_name("modelfleet")
    env = {**os.environ, "MODELFLEET_STORE": str(Path(workdir) / "store")}
    for run, entry in enumerate(([str(script)], [sys.executable, "-m", "dispatch"])):
        for command in (["train", f"--run_id=conformance-{run}"], ["score"], ["evaluate"], ["describe"]):
            argv = [*entry, model_cls.name, *command]
            done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=workdir, timeout=600)
            assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-500:]}"
            result = json.loads(done.stdout)
            assert result["model"] == model_cls.name, f"{' '.join(argv)} printed {done.stdout[:200]}"


ALL_CHECKS = (
    check_declarations,
    check_sample_is_seeded,
    check_trains_on_own_sample,
    check_scores_every_row,
    check_evaluates,
    check_artifact_round_trip,
    check_deterministic,
    check_rejects_missing_feature,
    check_matches_columns_by_name,
    check_scoring_input_contract,
    check_streams_and_shards_like_whole_file,
    check_describe,
    check_command_line,
)
