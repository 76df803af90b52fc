"""The report page's text, without a browser: feature charts as horizontal bars that grow with the features,
long names cut with an ellipsis and whole in their title, a title on every mark, nested values as readable
lines (never JSON), and the alias history with its reason, who moved it and each alias's current target."""

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from shared.monitoring import report as pages
from shared.monitoring import svg

SVG = "{http://www.w3.org/2000/svg}"


def _parsed(drawn: str) -> ET.Element:
    return ET.fromstring(drawn.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def _marks(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter() if e.tag in (f"{SVG}rect", f"{SVG}circle", f"{SVG}path")]


def _untitled(root: ET.Element) -> list[str]:
    """Marks that are no axis or legend swatch and have no non-empty title."""
    found = []
    for mark in _marks(root):
        if mark.get("class") in ("axis", "legend"):
            continue
        title = mark.find(f"{SVG}title")
        if mark.get("class") != "mark" or title is None or not (title.text or "").strip():
            found.append(ET.tostring(mark, encoding="unicode")[:80])
    return found


def test_horizontal_bars_grow_with_the_rows_and_cut_only_names_wider_than_their_column():
    names = [f"feature_{k:02d}_".ljust(40, "x") for k in range(50)]
    names[3] = "a_name_far_too_long_for_the_column_of_names_on_the_left_of_this_chart_" * 2
    drawn = svg.hbars("importance", "Feature importance", names, [("gain", [float(k) for k in range(50)])], "gain")
    few = svg.hbars("importance", "Feature importance", names[:5], [("gain", [1.0] * 5)], "gain")
    root = _parsed(drawn)
    assert float(root.get("height")) > 50 * svg.ROW > float(_parsed(few).get("height"))
    labels = [t for t in root.iter(f"{SVG}text") if t.get("class") == "name"]
    assert len(labels) == 50
    assert {t.get("text-anchor") for t in labels} == {"end"}
    shown = ["".join(t.itertext()).replace(t.findtext(f"{SVG}title") or "", "") for t in labels]
    assert shown[:3] == names[:3]  # 40 characters fit whole
    assert shown[3].endswith("…")
    assert names[3].startswith(shown[3][:-1])
    assert labels[3].findtext(f"{SVG}title") == names[3]
    assert svg.text_width(shown[3], svg.NAME_SIZE) <= svg.NAMES - 12
    assert _untitled(root) == []
    titles = [m.findtext(f"{SVG}title") for m in _marks(root) if m.get("class") == "mark"]
    assert titles[0] == f"{names[0]}: 0 (gain)"


@pytest.mark.parametrize(
    "drawn",
    [
        svg.lines("roc", "ROC", [("v1", [0.0, 0.5, 1.0], [0.0, 0.7, 1.0]), ("v2", [0, 1], [0, 1])], "x", "y", True),
        svg.bars("lift", "Lift", ["10%", "20%"], [("v1", [2.0, 1.5]), ("v2", [1.8, 1.4])]),
        svg.heatmap("pva", "Predicted vs actual", [[1, 0], [3, 4]], [0.0, 1.0, 2.0], "actual", "predicted"),
        svg.hbars("shares-0", "plan: share", ["basic", "premium"], [("training", [0.6, 0.4]), ("run", [0.5, 0.5])]),
    ],
    ids=["lines", "bars", "heatmap", "grouped-hbars"],
)
def test_every_mark_has_a_title_naming_what_it_shows(drawn):
    root = _parsed(drawn)
    assert [m for m in _marks(root) if m.get("class") == "mark"]
    assert _untitled(root) == []


def test_vertical_bar_labels_are_thinned_until_they_cannot_touch():
    labels = [f"{-1.2345 + k * 0.0617:.3g}" for k in range(40)]
    root = _parsed(svg.bars("residuals", "Residuals", labels, [("rows", list(range(40)))]))
    xs = [float(t.get("x")) for t in root.iter(f"{SVG}text") if t.get("class") == "name"]
    widest = max(svg.text_width(label, 9) for label in labels)
    assert 1 < len(xs) < 40
    assert min(b - a for a, b in itertools.pairwise(xs)) >= widest


def test_nested_values_read_as_key_value_lines_never_json():
    value = {
        "metrics": {"auc": 0.812345678, "log_loss": 0.5},
        "split": {"method": "random", "rows": {"fit": 2400, "valid": 600}},
        "columns": ["a", "b"],
        "folds": [{"k": 1, "auc": 0.8}],
        "early": True,
        "none": None,
    }
    assert pages._cell(value).split("\n") == [
        "metrics:",
        "  auc: 0.812346",
        "  log_loss: 0.5",
        "split:",
        "  method: random",
        "  rows:",
        "    fit: 2400",
        "    valid: 600",
        "columns: a, b",
        "folds:",
        "  - k: 1",
        "    auc: 0.8",
        "early: yes",
        "none: ",
    ]
    assert pages._cell({f"k{i}": i for i in range(100)}).split("\n")[-1] == "… (40 more lines in report.json)"


def _report(**extra):
    return {
        "model": "churn",
        "version": "v1",
        "kind": "regressor",
        "rows": 10,
        "data": "t.parquet",
        "at": "2026-01-01T00:00:00+00:00",
        "metrics": {"rmse": 1.5},
        "curves": {
            "predicted_vs_actual": {"edges": [0.0, 1.0, 2.0], "counts": [[1, 0], [0, 2]]},
            "residuals": {"edges": [-1.0, 0.0, 1.0], "counts": [2, 1]},
            "lorenz": {"share_of_rows": [0.0, 1.0], "model": [0.0, 1.0], "perfect": [0.0, 1.0]},
        },
        "against": [],
        "importance": [],
        "training": {"metrics (held-out rows)": {"rmse": 1.4}, "libraries": {"lightgbm": "4.7.0"}},
        "params": {"num_leaves": 31},
        **extra,
    }


def test_the_alias_history_shows_reason_and_who_and_marks_each_aliass_current_target():
    by = {"host": "runner-1", "user": "ana", "dag_id": "churn_daily", "task_id": "promote"}
    history = [
        {"alias": "champion", "generation": 1, "version": "v1", "replaces": None, "action": "promote",
         "reason": "first one", "at": "2026-01-01", "by": {"host": "laptop", "user": "bo"}, "current": False},
        {"alias": "champion", "generation": 2, "version": "v2", "replaces": "v1", "action": "promote",
         "reason": "beats v1 on October", "at": "2026-02-01", "by": by, "current": True},
        {"alias": "staging", "generation": 1, "version": "v1", "replaces": None, "action": "promote",
         "reason": None, "at": "2026-01-02", "by": by, "current": True},
    ]  # fmt: skip
    drawn = pages.page(_report(aliases=history, alias_targets={"champion": "v2", "staging": "v1"}))
    table = drawn[drawn.index("<h2>Alias history</h2>") :]
    rows = re.findall(r"<tr( class=\"current\")?>(.*?)</tr>", table, re.S)
    assert [bool(css) for css, _ in rows[1:]] == [False, True, True]
    assert "<td>current champion</td>" in rows[2][1]
    assert "<td>beats v1 on October</td>" in rows[2][1]
    assert "<td>ana@runner-1\ndag_id: churn_daily\ntask_id: promote</td>" in rows[2][1]
    assert "<td>bo@laptop</td>" in rows[1][1]
    assert 'This version is the <b class="alias-now">current staging</b>. Now: champion → v2.' in drawn
    assert "{" not in drawn[drawn.index("<h2>Training</h2>") :].replace("{background", "")


def test_a_report_without_aliases_says_so_and_labels_no_version():
    drawn = pages.page(_report())
    assert "No alias points at any version of this model." in drawn
    assert "Alias history" not in drawn
