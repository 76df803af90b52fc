"""Each model's report opened in a real headless Chromium (Debian's package, driven by Playwright): no console
error, no request leaves the file, every chart the report lists is drawn; a screenshot of each is kept in
``artifacts/`` (the CI keeps it). A 1M-row held-out set still makes a small page.

Without Chromium the tests are skipped, unless MODELFLEET_BROWSER_REQUIRED=1 (as in CI, which installs it):
``apt-get install chromium`` (Debian) or set MODELFLEET_CHROMIUM to a Chromium binary.
"""

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from models.churn import Churn
from models.ltv import Ltv
from models.offer import Offer
from models.segment import Segment
from shared.contract import metrics
from shared.families.boosted import BoostedTreesModel
from shared.monitoring import report as pages

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
BROWSER = os.environ.get("MODELFLEET_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser():
    if BROWSER is None:
        if os.environ.get("MODELFLEET_BROWSER_REQUIRED") == "1":
            pytest.fail("MODELFLEET_BROWSER_REQUIRED=1 but no Chromium found: apt-get install chromium")
        pytest.skip("no Chromium: apt-get install chromium, or set MODELFLEET_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=BROWSER, args=FLAGS)
        yield launched
        launched.close()


def _load(browser, html: Path):
    """Open the page from its file; return it with the lists its console errors and requests go into."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors, requests = [], []
    page.on("console", lambda message: errors.append(message.text) if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(html.as_uri(), wait_until="load")
    return page, errors, requests


def _open(browser, html: Path, shot: Path):
    """Load the page from its file; return the console errors, page errors and requests it made."""
    page, errors, requests = _load(browser, html)
    drawn = page.eval_on_selector_all("svg.chart", "nodes => nodes.map(n => [n.id, n.getBBox().width > 0])")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    return errors, [url for url in requests if url != html.as_uri()], drawn


@pytest.mark.parametrize("model_cls", [Churn, Ltv, Offer, Segment], ids=lambda c: c.__name__.lower())
def test_the_report_renders_offline_with_every_chart(browser, model_cls, tmp_path):
    model = model_cls(store=str(tmp_path / "store"))
    held = tmp_path / "held-out.parquet"
    model.train(run_id="first", holdout_output=str(held), promote="champion")
    model.train(model._sample_frame(5000, 1), run_id="second")  # other rows: the held-out ones are unseen
    done = model.report(str(held), version="second", output=str(tmp_path / "report"))
    html = Path(done["output"]["html"])
    errors, requests, drawn = _open(browser, html, ARTIFACTS / f"report-{model.name}.png")
    assert errors == [], f"console errors: {errors}"
    assert requests == [], f"the page requested {requests}"
    expected = re.findall(
        r'<svg id="([^"]+)"', "".join(pages.charts(json.loads(Path(done["output"]["json"]).read_text())))
    )
    assert [name for name, _ in drawn] == expected
    assert all(visible for _, visible in drawn), f"charts drawn empty: {drawn}"


def test_a_million_held_out_rows_make_a_page_under_1_5_mb(browser, tmp_path):
    model = Churn(store=str(tmp_path / "store"))
    model.train(run_id="v1", n_estimators=50)
    rows = tmp_path / "million.parquet"
    model._sample_frame(1_000_000, 7).to_parquet(rows)
    done = model.report(str(rows), version="v1", output=str(tmp_path / "report"))
    html = Path(done["output"]["html"])
    size = html.stat().st_size + Path(done["output"]["json"]).stat().st_size
    assert done["rows"] == 1_000_000
    assert html.stat().st_size < 1_500_000, f"the page is {html.stat().st_size:,} bytes"
    errors, requests, drawn = _open(browser, html, ARTIFACTS / "report-churn-1m.png")
    assert (errors, requests) == ([], [])
    assert len(drawn) >= 5, size


def test_a_runs_drift_report_renders_offline_with_every_feature(browser, tmp_path, modelfleet):
    model = Churn(store=str(tmp_path / "store"))
    model.train(run_id="v1", n_estimators=20)
    data = tmp_path / "in"
    data.mkdir()
    for k in range(2):
        frame = model._sample_frame(1500, 30 + k).drop(columns="churned")
        frame["monthly_spend"] *= 1.3 if k else 1.0
        frame.to_parquet(data / f"day-{k}.parquet")
    env = {"MODELFLEET_STORE": model._store_url}
    for k in range(2):
        done = modelfleet(
            ["churn", "score", f"--data={data}", "--version=v1", f"--output={tmp_path / 'run'}", f"--shard={k}/2"],
            env=env,
        )
        assert done.returncode == 0, done.stderr
    done = modelfleet(["churn", "drift", f"--output={tmp_path / 'run'}"], env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "monthly_spend" in result["drift"]["drifted"]
    html = Path(result["report"]["html"])
    errors, requests, drawn = _open(browser, html, ARTIFACTS / "drift-churn.png")
    assert (errors, requests) == ([], [])
    features = len(result["drift"]["features"])
    assert [name for name, _ in drawn] == ["psi", *[f"shares-{k}" for k in range(features + 1)]]


WORDS = ("monthly", "weekly", "support", "window", "maximum", "rolling", "account", "minutes", "tenure", "workload")


def _long_name(k: int, length: int = 40) -> str:
    """A realistic warehouse column name of exactly ``length`` characters, told apart by its last digits."""
    words = "_".join(WORDS[(k * 7 + j * 3) % len(WORDS)] for j in range(12))
    return f"{words[: length - 3]}_{k:02d}"


LONG_NAMES = (_long_name(0, 64), *[_long_name(k) for k in range(1, 50)])  # one wider than the name column


class Wide(BoostedTreesModel):
    """A classifier over 50 features with 40-character names (one of 64): a table as warehouses name them."""

    name = "wide"
    objective = "binary"
    label = "will_renew_within_the_next_ninety_days_flag"
    numeric = LONG_NAMES
    categorical = ()
    prediction = "renewal_probability"
    metrics = (metrics.auc,)

    def _make_sample(self, rows, rng):
        import numpy as np
        import pandas as pd

        values = rng.normal(size=(rows, len(LONG_NAMES)))
        logit = values[:, :10] @ np.linspace(1.5, 0.2, 10) + rng.normal(0, 0.5, rows)
        frame = pd.DataFrame(values.round(3), columns=list(LONG_NAMES))
        frame.insert(0, "customer_id", [f"C{i:07d}" for i in range(rows)])
        frame[self.label] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype("int8")
        return frame


# Per chart: its name labels' boxes, each mark's title, and the marks left without a class (none should be).
_LAYOUT = """nodes => nodes.map(svg => {
    const box = svg.getBoundingClientRect();
    const names = [...svg.querySelectorAll("text.name")].map(t => {
        const r = t.getBoundingClientRect();
        const tip = t.querySelector("title");
        return {text: t.textContent.replace(tip ? tip.textContent : "", ""), title: tip ? tip.textContent : null,
                left: r.left, right: r.right, top: r.top, bottom: r.bottom};
    });
    const marks = [...svg.querySelectorAll(".mark")].map(m => {
        const tip = [...m.children].find(c => c.tagName === "title");
        return tip ? tip.textContent.trim() : "";
    });
    const loose = [...svg.querySelectorAll("rect, circle, path, line, polyline")].filter(
        m => !m.matches(".mark, .axis, .legend")).length;
    return {id: svg.id, left: box.left, right: box.right, names, marks, loose};
})"""


def _overlapping(names):
    """The pairs of labels whose boxes overlap (touching edges are fine)."""
    return [
        (a["text"], b["text"])
        for k, a in enumerate(names)
        for b in names[k + 1 :]
        if a["left"] < b["right"] - 0.5
        and b["left"] < a["right"] - 0.5
        and a["top"] < b["bottom"] - 0.5
        and b["top"] < a["bottom"] - 0.5
    ]


def test_feature_charts_stay_readable_with_50_features_of_40_character_names(browser, tmp_path):
    model = Wide(store=str(tmp_path / "store"))
    held = tmp_path / "held-out.parquet"
    model.train(model._sample_frame(3000, 1), run_id="v1", n_estimators=8, holdout_output=str(held))
    model.promote(alias="champion", version="v1", reason="first version, on the September snapshot")
    model.train(model._sample_frame(3000, 2), run_id="v2", n_estimators=8)
    model.promote(alias="champion", version="v2", reason="beats v1 on the October holdout")
    done = model.report(str(held), version="v1", output=str(tmp_path / "report"))  # v2, the champion, beside it
    html = Path(done["output"]["html"])
    shot = ARTIFACTS / "report-long-names.png"
    page, errors, requests = _load(browser, html)
    charts = {chart["id"]: chart for chart in page.eval_on_selector_all("svg.chart", _LAYOUT)}
    tables = page.eval_on_selector_all("table", "nodes => nodes.map(n => n.innerText)")
    history = page.eval_on_selector_all("table.history tbody tr", "rows => rows.map(r => [r.className, r.innerText])")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    page.close()

    assert errors == [], f"console errors: {errors}"
    assert [url for url in requests if url != html.as_uri()] == []
    for chart in charts.values():
        overlaps = _overlapping(chart["names"])
        assert overlaps == [], f"{chart['id']}: {len(overlaps)} pairs of labels overlap, e.g. {overlaps[:3]}"
        assert chart["marks"], f"{chart['id']} has no marks"
        assert all(chart["marks"]), f"{chart['id']}: a mark without a title"
        assert chart["loose"] == 0, f"{chart['id']}: {chart['loose']} marks are neither marks, axes nor legend"
    for chart in ("importance", "contributions"):
        names = charts[chart]["names"]
        assert len(names) == len(LONG_NAMES), f"{chart}: {len(names)} names shown"
        assert all(n["left"] >= charts[chart]["left"] - 0.5 for n in names), f"{chart}: a label is cut by the edge"
        cut = [n for n in names if n["text"].endswith("…")]
        assert [n["title"] for n in cut] == [LONG_NAMES[0]], f"{chart}: only the 64-character name is cut"
        assert LONG_NAMES[0].startswith(cut[0]["text"][:-1])
        whole = {n["text"] for n in names if not n["text"].endswith("…")}
        assert whole == set(LONG_NAMES[1:]), f"{chart}: every 40-character name is shown whole"
    training = next(text for text in tables if "libraries" in text)
    assert "{" not in training, training
    assert '"' not in training, training
    assert "auc: 0." in training
    assert "lightgbm: " in training
    assert any(text.startswith("parameter") and "n_estimators\t8" in text for text in tables)
    current = [text for css, text in history if css == "current"]
    assert len(current) == 1, history
    assert "current champion" in current[0]
    assert "beats v1 on the October holdout" in current[0]
    assert any("first version, on the September snapshot" in text for _, text in history)
    assert all("@" in text for _, text in history), history  # who: user@host
    assert shot.stat().st_size > 0
