"""Checks that the numbers other commands report agree with ``evaluate`` and with the stored version: the
gate of ``train --promote``, the reference profile, and ``report``'s metrics and curves."""

import json
from pathlib import Path

from shared.conformance.helpers import _same_metrics, _sample
from shared.families.model import Model
from shared.tables.inputs import TRAIN_SEED


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
    scored = model.score(frame, version="profiled")["predictions"]
    predicted = scored[model_cls.prediction].to_numpy()
    if model_cls.classes:  # a classifier's profile counts its predicted classes by position
        predicted = pd.Index(list(model_cls.classes)).get_indexer(scored[model_cls.prediction])
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
    elif document["kind"] == "multiclass":  # the table covers every row; each class's ROC area is its AUC
        import numpy as np
        import pandas as pd

        from shared.contract import metrics
        from shared.families import multiclass

        table = np.asarray(curves["confusion"])
        assert table.shape == (len(model.classes),) * 2, f"the confusion table is {table.shape}, not classes x classes"
        assert int(table.sum()) == rows, f"the confusion table counts {int(table.sum())} of {rows} rows"
        assert [e["actual"] for e in curves["per_class"]] == table.sum(axis=1).tolist(), "per-class rows differ"
        if measured.get("accuracy") is not None:
            assert abs(np.trace(table) / rows - measured["accuracy"]) < 1e-9, "the table's diagonal is not the accuracy"
        frame = pd.read_parquet(held)
        codes = pd.Index(list(model.classes)).get_indexer(frame[model.label])
        scored = model.score(frame.drop(columns=[model.label]), version="second")["predictions"]
        probabilities = scored[[multiclass.probability_column(c) for c in model.classes]].to_numpy(dtype="float64")
        areas = []
        for k, entry in enumerate(curves["roc"]):
            assert entry["class"] == str(model.classes[k]), f"ROC {k} is of class {entry['class']}"
            if not 0 < (codes == k).sum() < rows:  # no row, or every row, of the class: no ranking to measure
                assert entry["auc"] is None, f"class {entry['class']}: an ROC area with nothing to rank"
                continue
            expected = metrics.auc(codes == k, probabilities[:, k])
            assert abs(entry["auc"] - expected) < 1e-5, f"class {entry['class']}: ROC area is not its one-vs-rest AUC"
            areas.append(entry["auc"])
        if measured.get("auc_ovr") is not None:
            assert abs(np.mean(areas) - measured["auc_ovr"]) < 1e-5, "the ROC areas do not average to auc_ovr"
    else:
        sizes = dict(zip(map(str, curves["segments"]), curves["rows"], strict=True))
        assert sizes == measured["segment_sizes"], "the plotted segment sizes are not the measured ones"
    drawn = re.findall(r'<svg id="([^"]+)"', page)
    from shared.monitoring import report as pages

    expected = re.findall(r'<svg id="([^"]+)"', "".join(pages.charts(document)))
    assert drawn == expected and len(drawn) >= 3, f"charts missing from the page: {drawn}"
    assert "<script" not in page.lower() and "http" not in page.lower().replace("http-equiv", ""), "the page fetches"
