"""Checks of the store's round trips: a stored version predicts what the fitted model predicts, whatever
the column order, its held-out rows reproduce its train metrics, and versions of the previous release still
score as before."""

import json
import logging
from pathlib import Path
from typing import Any

from shared.conformance.helpers import EXAMPLES, _outputs, _same_metrics, _sample, _trained, _unlabelled
from shared.contract import derived
from shared.families.model import Model
from shared.training import fitting


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
    predicted = model._predict(in_memory.fitted, in_memory.schema.features(derived.apply(model, scoring)))
    expected = np.column_stack(list(model._output_values(predicted).values()))
    columns = _outputs(model_cls)
    order = np.random.default_rng(len(workdir.name)).permutation(len(scoring.columns))
    shuffled = scoring[[scoring.columns[i] for i in order]]
    shuffled.to_parquet(workdir / "shuffled.parquet", index=False)
    shuffled.to_csv(workdir / "shuffled.csv", index=False)
    got = {"a frame": model.score(shuffled)["predictions"][columns].to_numpy()}
    for kind in ("parquet", "csv"):
        out = workdir / f"scored-{kind}.parquet"
        model.score(str(workdir / f"shuffled.{kind}"), output=str(out))
        got[kind] = pd.read_parquet(out)[columns].to_numpy()
    for how, predicted in got.items():
        assert np.array_equal(predicted, expected), (
            f"the stored version scoring {how} with columns {list(shuffled.columns)} predicts differently from "
            f"the fitted model; first differences at rows {np.flatnonzero((predicted != expected).any(axis=1))[:5]}"
        )
    return trained


class _Collect(logging.Handler):
    """A log handler that keeps the messages of warnings and above."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


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
