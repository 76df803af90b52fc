"""A version's report: one JSON document with every plotted number, and one self-contained HTML page drawn from
it (inline SVG and CSS; no JavaScript, no fonts, images or scripts to fetch; a Content-Security-Policy that
forbids any request). The JSON is the truth; the page only draws it.

One cohesive thing: the pages of a version's report and of a run's drift, each drawn from its document alone,
and the page shell, tables and cells they share; a kind of model adds its charts and tables here beside the
others', so that every page reads alike."""

from __future__ import annotations

import html
import itertools
import json
import math
from collections.abc import Callable
from typing import Any

from shared.monitoring import svg

REPORT_SCHEMA = 1
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def charts(report: dict[str, Any]) -> list[str]:
    """The SVG charts of ``report``, in page order (each with its id, which names it in report.json)."""
    kind, found = report["kind"], []
    ours, others = report["curves"], report.get("against") or []
    named = [report["version"], *[other["version"] for other in others]]

    def both(pick: Any) -> list[Any]:
        return [pick(ours), *[pick(other["curves"]) for other in others]]

    if kind == "classifier":
        roc = both(lambda c: (c["roc"]["fpr"], c["roc"]["tpr"]))
        found.append(svg.lines("roc", "ROC", _named(named, roc), "false positive rate", "true positive rate", True))
        pr = both(lambda c: (c["precision_recall"]["recall"], c["precision_recall"]["precision"]))
        found.append(svg.lines("precision-recall", "Precision-recall", _named(named, pr), "recall", "precision"))
        cal = both(lambda c: ([b["predicted"] for b in c["calibration"]], [b["observed"] for b in c["calibration"]]))
        found.append(svg.lines("calibration", "Calibration", _named(named, cal), "predicted", "observed", True))
        gains = both(lambda c: ([0.0, *c["gains"]["share_of_rows"]], [0.0, *c["gains"]["share_of_positives"]]))
        found.append(
            svg.lines("gains", "Cumulative gains", _named(named, gains), "share of rows", "share of positives", True)
        )
        lift = both(lambda c: c["gains"]["lift"])
        labels = [f"{round(s * 100)}%" for s in ours["gains"]["share_of_rows"]]
        found.append(svg.bars("lift", "Lift per top share of rows", labels, list(zip(named, lift, strict=True))))
    elif kind == "multiclass":  # the confusion table is the page's, as an HTML table (see page)
        roc = [(entry["class"], entry["fpr"], entry["tpr"]) for entry in ours["roc"]]
        found.append(
            svg.lines(
                "roc", "ROC of each class against the rest", roc, "false positive rate", "true positive rate", True
            )
        )
        classes, per_class = ours["classes"], ours["per_class"]
        scores = [(name, [e[name] for e in per_class]) for name in ("precision", "recall", "f1")]
        found.append(svg.bars("per-class", "Precision, recall and F1 per class", classes, scores))
        counts = [(f"{name} rows", [e[name] for e in per_class]) for name in ("actual", "predicted")]
        found.append(svg.bars("per-class-rows", "Rows per class: actual and predicted", classes, counts))
    elif kind == "regressor":
        grid = ours["predicted_vs_actual"]
        found.append(
            svg.heatmap(
                "predicted-vs-actual", "Predicted vs actual", grid["counts"], grid["edges"], "actual", "predicted"
            )
        )
        residuals = ours["residuals"]
        centres = [f"{(a + b) / 2:.3g}" for a, b in zip(residuals["edges"], residuals["edges"][1:], strict=False)]
        found.append(svg.bars("residuals", "Residuals (predicted - actual)", centres, [("rows", residuals["counts"])]))
        lorenz = both(lambda c: (c["lorenz"]["share_of_rows"], c["lorenz"]["model"]))
        series = [*_named(named, lorenz), ("perfect", ours["lorenz"]["share_of_rows"], ours["lorenz"]["perfect"])]
        found.append(
            svg.lines("lorenz", "Lorenz curve", series, "share of rows, by prediction", "share of total", True)
        )
    else:
        sizes = ours
        labels = [f"segment {s}" for s in sizes["segments"]]
        found.append(svg.hbars("segment-sizes", "Segment sizes", labels, [("rows", sizes["rows"])], "rows"))
        for name, means in sizes["means"].items():
            found.append(
                svg.hbars(f"segment-mean-{name}", f"Mean {name} per segment", labels, [(name, means)], f"mean {name}")
            )
    importance = report.get("importance") or []
    if importance:
        found.append(
            svg.hbars(
                "importance",
                "Feature importance (gain)",
                [e["feature"] for e in importance],
                [("gain", [e["gain"] for e in importance])],
                "gain",
            )
        )
    contributions = report.get("contributions")
    if contributions:
        found.append(
            svg.hbars(
                "contributions",
                "Mean |contribution| (pred_contrib)",
                [e["feature"] for e in contributions["features"]],
                [("mean |contribution|", [e["mean_abs"] for e in contributions["features"]])],
                "mean |contribution|",
            )
        )
    return found


def page(report: dict[str, Any]) -> str:
    """The HTML page of ``report``."""
    title = f"{report['model']} version {report['version']}"
    others = report.get("against") or []
    targets = report.get("alias_targets") or {}
    metrics = _table(
        ["metric", _labelled(report["version"], targets), *[_labelled(o["version"], targets) for o in others]],
        [
            [name, _cell(value), *[_cell(other["metrics"].get(name)) for other in others]]
            for name, value in report["metrics"].items()
        ],
    )
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{report['rows']:,} rows of {html.escape(str(report['data']))}; written {html.escape(report['at'])}.</p>",
        _aliases_now(report["version"], targets),
        "<h2>Metrics</h2>",
        metrics,
    ]
    confusion = report["curves"].get("confusion")
    if report["kind"] == "multiclass":
        sections += _multiclass_tables(report["curves"])
    elif confusion:
        sections += [
            f"<h2>Confusion at threshold {confusion['threshold']:g}</h2>",
            _table(
                ["", "predicted positive", "predicted negative"],
                [
                    ["actual positive", confusion["true_positive"], confusion["false_negative"]],
                    ["actual negative", confusion["false_positive"], confusion["true_negative"]],
                ],
            ),
        ]
    sections += ["<h2>Charts</h2>", '<div class="charts">', *charts(report), "</div>"]
    sections += [
        "<h2>Training</h2>",
        _table(["", ""], [[k, _cell(v)] for k, v in report["training"].items()], css="values"),
    ]
    sections += [
        "<h2>Parameters</h2>",
        _table(["parameter", "value"], [[k, _cell(v)] for k, v in report["params"].items()], css="values"),
    ]
    history = report.get("aliases") or []
    if history:
        rows, marked = [], []
        for e in history:
            now = f"current {e['alias']}" if e.get("current") else ""
            replaces = e.get("replaces") or ""
            reason, at = e.get("reason") or "", e.get("at") or ""
            action = e.get("action") or ""
            rows.append(
                [e["alias"], e["generation"], action, e["version"], replaces, now, reason, at, who(e.get("by"))]
            )
            marked.append("current" if now else "")
        header = ["alias", "event", "action", "version", "replaces", "now", "reason", "at", "by"]
        sections += ["<h2>Alias history</h2>", _table(header, rows, marked=marked, css="history")]
    return _html(title, sections)


def _multiclass_tables(curves: dict[str, Any]) -> list[str]:
    """A multiclass report's confusion table (a row per actual class, a column per predicted class) and each
    class's counts, precision, recall, F1 and one-vs-rest AUC."""
    classes = curves["classes"]
    areas = [entry["auc"] for entry in curves["roc"]]
    return [
        "<h2>Confusion: actual class (rows) against predicted class (columns)</h2>",
        _table(
            ["actual \\ predicted", *classes, "rows"],
            [[name, *counts, sum(counts)] for name, counts in zip(classes, curves["confusion"], strict=True)],
            css="confusion",
        ),
        "<h2>Per class</h2>",
        _table(
            ["class", "actual rows", "predicted rows", "correct", "precision", "recall", "F1", "AUC (one vs rest)"],
            [
                [
                    e["class"],
                    e["actual"],
                    e["predicted"],
                    e["correct"],
                    *map(_cell, (e["precision"], e["recall"], e["f1"], area)),
                ]
                for e, area in zip(curves["per_class"], areas, strict=True)
            ],
        ),
    ]


def who(by: Any) -> str:
    """An alias event's ``by`` as text: user@host, then what the orchestrator said (DAG, run, task, image)."""
    if not isinstance(by, dict):
        return "" if by is None else str(by)
    person = "@".join(str(by[key]) for key in ("user", "host") if by.get(key) not in (None, ""))
    rest = [f"{key}: {value}" for key, value in by.items() if key not in ("user", "host") and value not in (None, "")]
    return "\n".join([person, *rest]) if person else "\n".join(rest)


def _labelled(version: str, targets: dict[str, str]) -> str:
    """A version with the aliases that point at it now: ``v2 (champion)``."""
    names = [alias for alias, target in targets.items() if target == version]
    return f"{version} ({', '.join(names)})" if names else version


def _aliases_now(version: str, targets: dict[str, str]) -> str:
    """A line naming where each alias points now, this version's aliases first and in bold."""
    if not targets:
        return "<p>No alias points at any version of this model.</p>"
    ours = [alias for alias, target in targets.items() if target == version]
    parts = [f'<b class="alias-now">current {html.escape(alias)}</b>' for alias in ours]
    text = f"<p>This version is the {', '.join(parts)}." if ours else "<p>No alias points at this version."
    elsewhere = [f"{html.escape(a)} → {html.escape(t)}" for a, t in targets.items() if t != version]
    return text + (f" Now: {'; '.join(elsewhere)}.</p>" if elsewhere else "</p>")


def drift_document(
    model: str, verdict: dict[str, Any], reference: dict[str, Any], counts: dict[str, Any], levels: dict[str, Any]
) -> dict[str, Any]:
    """A scoring run's drift report: the verdict, and per feature (and the prediction) the share of the
    training rows and of the run's rows in each cell (bins or levels, missing, unseen)."""
    entries = [*zip(reference["features"], counts["features"], strict=True)]
    entries.append(({"name": "prediction", **reference["prediction"]}, counts["prediction"]))
    shares = []
    for ref, run in entries:
        cells = _cell_names(ref, levels.get(ref["name"]))
        train = [*ref["counts"], *([ref["missing"]] if "missing" in ref else []), *([0] if "unseen" in run else [])]
        seen = [
            *run["counts"],
            *([run["missing"]] if "missing" in ref else []),
            *([run["unseen"]] if "unseen" in run else []),
        ]
        shares.append({"name": ref["name"], "cells": cells, "train": _shares(train), "run": _shares(seen)})
    return {"schema": REPORT_SCHEMA, "model": model, "version": counts["version"], "drift": verdict, "shares": shares}


def drift_page(document: dict[str, Any]) -> str:
    """The HTML page of a drift report (:func:`drift_document`)."""
    verdict = document["drift"]
    title = f"{document['model']} version {document['version']}: drift of a scoring run"
    rows = [
        [
            e["name"],
            "yes" if e["drifted"] else "",
            _cell(e["p"]),
            _cell(e["psi"]),
            _cell(e["js"]),
            _cell((e.get("missing") or {}).get("train")),
            _cell((e.get("missing") or {}).get("run")),
            _cell(e.get("out_of_range")),
            _cell(e.get("unseen")),
        ]
        for e in [*verdict["features"], verdict["prediction"]]
    ]
    charts_drawn = [
        svg.hbars(
            "psi",
            "PSI per feature",
            [e["name"] for e in verdict["features"]],
            [("PSI", [e["psi"] or 0.0 for e in verdict["features"]])],
            "PSI",
        )
    ]
    for k, entry in enumerate(document["shares"]):
        charts_drawn.append(
            svg.hbars(
                f"shares-{k}",
                f"{entry['name']}: share of rows per cell",
                entry["cells"],
                [("training", entry["train"]), ("this run", entry["run"])],
                "share of rows",
            )
        )
    status = verdict["status"]
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Status: <b>{html.escape(status)}</b>; {verdict['rows']:,} rows scored against "
        f"{verdict['reference_rows']:,} training rows; family-wise alpha {verdict['alpha']:g}.</p>",
        _table(
            ["feature", "drifted", "p", "PSI", "JS", "missing (train)", "missing (run)", "out of range", "unseen"], rows
        ),
        '<div class="charts">',
        *charts_drawn,
        "</div>",
    ]
    return _html(title, sections)


def _cell_names(entry: dict[str, Any], levels: Any) -> list[str]:
    if entry["kind"] == "categorical":
        names = [str(level) for level in (levels or range(entry["levels"]))]
    elif entry["kind"] == "segments":
        names = entry.get("names") or [f"segment {s}" for s in entry["segments"]]
    else:
        edges = entry["edges"]
        names = [f"<= {edges[0]:.3g}"] if edges else ["all"]
        names += [f"({a:.3g}, {b:.3g}]" for a, b in itertools.pairwise(edges)]
        names += [f"> {edges[-1]:.3g}"] if edges else []
    return names + (["missing"] if "missing" in entry else []) + (["unseen"] if entry["kind"] != "numeric" else [])


def _shares(counts: list[int]) -> list[float]:
    total = sum(counts)
    return [float(f"{c / total:.6g}") if total else 0.0 for c in counts]


def _html(title: str, sections: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )


def save(folder: str, document: dict[str, Any], draw: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    """Write ``document`` as ``folder``/report.json, then its page (``draw``) as report.html, each whole; if the
    page cannot be written the new JSON is removed again, so a folder never pairs a new JSON with an old page.
    A number that is no number (the AUC of one class) is null in both, as in every result."""
    import contextlib

    from shared.process import failures
    from shared.storage import backends

    clean = _finite(document)
    text, page = json.dumps(clean, indent=1, allow_nan=False), draw(clean)
    paths = {"json": f"{folder.rstrip('/')}/report.json", "html": f"{folder.rstrip('/')}/report.html"}
    with failures.translated(failures.output_place(folder)):
        backend = backends.open_backend(folder)
        backend.put(paths["json"], text.encode(), fault="report")
        try:
            backend.put(paths["html"], page.encode(), fault="report")
        except BaseException:
            with contextlib.suppress(Exception):
                backend.remove(paths["json"])
            raise
    return {"output": paths, "html_bytes": len(page.encode())}


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _named(names: list[str], pairs: list[Any]) -> list[tuple[str, Any, Any]]:
    return [(name, xs, ys) for name, (xs, ys) in zip(names, pairs, strict=True)]


def _table(header: list[Any], rows: list[list[Any]], marked: list[str] | None = None, css: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    classes = marked or [""] * len(rows)
    body = "".join(
        (f'<tr class="{html.escape(mark)}">' if mark else "<tr>")
        + "".join(f"<td>{html.escape(str(c))}</td>" for c in row)
        + "</tr>"
        for row, mark in zip(rows, classes, strict=True)
    )
    opened = f'<table class="{css}">' if css else "<table>"
    return f"{opened}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any) -> str:
    """A value as people read it: numbers to 6 digits, nested mappings as ``key: value`` lines (indented one
    level deeper each), lists of plain values joined by commas; never JSON."""
    if isinstance(value, (dict, list, tuple)):
        lines = _lines(value, 0)
        if len(lines) > CELL_LINES:
            lines = [*lines[:CELL_LINES], f"… ({len(lines) - CELL_LINES} more lines in report.json)"]
        return "\n".join(lines)
    return _scalar(value)


CELL_LINES = 60


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def _lines(value: Any, depth: int) -> list[str]:
    pad = "  " * depth
    if isinstance(value, dict):
        if not value:
            return [f"{pad}(none)"]
        found = []
        for key, item in value.items():
            if _plain(item):
                found.append(f"{pad}{key}: {_inline(item)}")
            else:
                found += [f"{pad}{key}:", *_lines(item, depth + 1)]
        return found
    if isinstance(value, (list, tuple)):
        if _plain(value):
            return [f"{pad}{_inline(value)}"]
        found = []
        for item in value:
            nested = _lines(item, depth + 1)
            found.append(f"{pad}- {nested[0].strip()}")
            found += nested[1:]
        return found
    return [f"{pad}{_scalar(value)}"]


def _plain(value: Any) -> bool:
    """A scalar, or a list of scalars: shown on one line."""
    if isinstance(value, (list, tuple)):
        return all(not isinstance(v, (dict, list, tuple)) for v in value)
    return not isinstance(value, dict)


def _inline(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_scalar(v) for v in value) if value else "(none)"
    return _scalar(value)


_STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222;max-width:1400px}"
    "table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;"
    "text-align:left;font-size:13px}th{background:#f2f2f2}.charts{display:flex;flex-wrap:wrap;gap:12px}"
    ".chart{border:1px solid #ddd;background:#fff}td{white-space:pre-wrap;vertical-align:top}"
    "tr.current td{background:#fff6d5;font-weight:bold}.alias-now{background:#fff6d5;padding:0 4px}"
)
