"""A multiclass model's report: its page draws every chart it lists (ROC per class, per-class scores and rows),
with the confusion table as an HTML table, class names escaped, no script and nothing fetched; the report
command calls it a multiclass report and leaves out per-class contributions; a real model's report agrees with
what evaluate measures (the conformance check)."""

import html
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from shared.commands import report as command
from shared.conformance import agreement
from shared.contract import metrics
from shared.families.boosted import BoostedTreesModel
from shared.monitoring import curves
from shared.monitoring import report as pages

pytest.importorskip("lightgbm", reason="multiclass models are LightGBM's: these run in the offer env (tox.ini)")

CHARTS = ["roc", "per-class", "per-class-rows"]


def _document(classes: tuple, against: bool, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(classes), 400)
    p = rng.dirichlet(np.ones(len(classes)), 400)
    drawn = curves.multiclass(y, p, classes)
    measured = {m.__name__: m(y, p) for m in (metrics.accuracy, metrics.macro_f1, metrics.auc_ovr)}
    others = [{"version": "v1", "metrics": measured, "curves": curves.multiclass(y, p[:, ::-1], classes)}]
    return {
        "schema": pages.REPORT_SCHEMA,
        "model": "tiers",
        "version": "v2",
        "kind": "multiclass",
        "data": "held-out.parquet",
        "rows": 400,
        "at": "2026-01-01T00:00:00+00:00",
        "metrics": measured,
        "curves": drawn,
        "against": others if against else [],
        "importance": [{"feature": "usage", "gain": 3.0}, {"feature": "seats", "gain": 1.0}],
        "contributions": None,
        "training": {"rows": {"train": 1000}},
        "params": {"n_estimators": 10},
        "aliases": [],
        "alias_targets": {"champion": "v1"},
    }


def _confusion_cells(page: str) -> list[list[str]]:
    table = re.search(r'<table class="confusion">(.*?)</table>', page, re.S)
    assert table, "no confusion table on the page"
    body = table.group(1).split("<tbody>")[1]
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


@pytest.mark.parametrize("against", [False, True], ids=["alone", "beside-the-champion"])
@pytest.mark.parametrize(
    "classes",
    [("basic", "standard", "premium"), (3, 1, 2), ('<b class="x">&amp;', "plain"), tuple(f"c{k}" for k in range(9))],
    ids=["text", "whole-numbers", "markup-in-names", "nine-classes"],
)
def test_the_page_draws_every_chart_it_lists_and_the_confusion_table_with_no_script(classes, against):
    document = _document(classes, against)
    page = pages.page(document)
    listed = re.findall(r'<svg id="([^"]+)"', "".join(pages.charts(document)))
    assert listed == [*CHARTS, "importance"]
    assert re.findall(r'<svg id="([^"]+)"', page) == listed
    assert "<script" not in page.lower()
    assert "http" not in page.lower().replace("http-equiv", ""), "the page names something to fetch"
    assert "<b " not in page, "a class name was written as markup"
    names = [html.escape(str(c)) for c in classes]
    cells = _confusion_cells(page)
    assert [row[0] for row in cells] == names
    counts = [[int(c) for c in row[1:]] for row in cells]
    assert [row[:-1] for row in counts] == document["curves"]["confusion"]
    assert [row[-1] for row in counts] == [e["actual"] for e in document["curves"]["per_class"]]
    assert "Confusion at threshold" not in page  # the binary table is a binary classifier's


@pytest.mark.parametrize(
    ("objective", "label", "kind"),
    [("multiclass", "tier", "multiclass"), ("binary", "churned", "classifier"), ("regression", "ltv", "regressor")],
)
def test_the_report_kind_follows_the_objective(objective, label, kind):
    assert command._kind(SimpleNamespace(objective=objective, label=label)) == kind


def test_a_multiclass_report_leaves_contributions_out_without_computing_them():
    model = SimpleNamespace(objective="multiclass", label="tier")  # no _contributions: calling it would fail
    assert command._contributions(model, None, pd.DataFrame({"usage": [1.0, 2.0]})) is None


class Tiers(BoostedTreesModel):
    """Which plan an account is on, from its usage and seats: three classes declared out of numeric order,
    with noise enough that no class is told apart perfectly."""

    name = "tiers"
    objective = "multiclass"
    classes = (3, 1, 2)
    label = "tier"
    id_column = "account_id"
    numeric = ("usage", "seats")
    categorical = ()
    prediction = "tier_predicted"
    metrics = (metrics.multi_log_loss, metrics.accuracy, metrics.macro_f1, metrics.auc_ovr)

    def _make_sample(self, rows, rng):
        usage, seats = rng.normal(size=rows), rng.normal(size=rows)
        score = usage + 0.5 * seats + rng.normal(0, 0.8, rows)
        tier = np.select([score < -0.5, score < 0.5], [1, 2], 3)
        frame = pd.DataFrame({"usage": usage.round(3), "seats": seats.round(3), "tier": tier})
        frame.insert(0, "account_id", [f"A{i:06d}" for i in range(rows)])
        return frame


def test_a_multiclass_models_report_plots_what_evaluate_measures(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    agreement.check_report_plots_what_evaluate_measures(Tiers, tmp_path)
