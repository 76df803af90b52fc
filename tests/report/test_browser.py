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
from models.segment import Segment
from shared import report as pages

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


def _open(browser, html: Path, shot: Path):
    """Load the page from its file; return the console errors, page errors and requests it made."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors, requests = [], []
    page.on("console", lambda message: errors.append(message.text) if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(html.as_uri(), wait_until="load")
    drawn = page.eval_on_selector_all("svg.chart", "nodes => nodes.map(n => [n.id, n.getBBox().width > 0])")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    return errors, [url for url in requests if url != html.as_uri()], drawn


@pytest.mark.parametrize("model_cls", [Churn, Ltv, Segment], ids=lambda c: c.__name__.lower())
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
