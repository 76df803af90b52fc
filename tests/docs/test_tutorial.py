"""The tutorial (docs/tutorial.md) run as a new user would: every ``sh`` block in order, in one shell, in a fresh
folder outside this checkout, with each ``title="PATH"`` block written to PATH first, and modelfleet installed
from the wheel built from this checkout (the tutorial's ``$MODELFLEET``).

Slow (a fresh venv installs modelfleet and LightGBM with pip), so only the `docs` tox env runs it.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
TUTORIAL = REPO / "docs" / "tutorial.md"
pytestmark = pytest.mark.slow
_BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
_TITLE = re.compile(r'title="([^"]+)"')


def steps(markdown: str) -> list[tuple[str, str, str | None]]:
    """The tutorial's blocks in order: (language, body, file path or None); ``text`` blocks are only shown."""
    found = []
    for language, info, body in _BLOCK.findall(markdown):
        title = _TITLE.search(info)
        if title:
            found.append((language, body, title.group(1)))
        elif language == "sh":
            found.append((language, body, None))
    return found


def script(markdown: str) -> str:
    """One bash script doing what the tutorial says, in its order: files written, commands run."""
    lines = ["set -euxo pipefail"]
    for index, (_, body, path) in enumerate(steps(markdown)):
        if path is None:
            lines.append(body)
        else:
            marker = f"MODELFLEET_TUTORIAL_{index}"
            assert marker not in body
            lines += [f"mkdir -p {shlex.quote(str(Path(path).parent))}", f"cat > {shlex.quote(path)} <<'{marker}'"]
            lines += [body.rstrip("\n"), marker]
    return "\n".join(lines) + "\n"


def test_the_tutorial_runs_as_written(tmp_path):
    """A wheel and an sdist build from this checkout; the tutorial's commands then all pass with that wheel as
    ``$MODELFLEET``, and leave what it says: two models in one package, a champion, scores, a report, a manifest."""
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "uv", "build", "--quiet", "--out-dir", dist, REPO], check=True)
    wheel = next(dist.glob("modelfleet-*-py3-none-any.whl"))
    assert next(dist.glob("modelfleet-*.tar.gz"))
    work = tmp_path / "tutorial"  # outside the checkout, as a team's own repository is
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOX_", "VIRTUAL_ENV", "PYTHONPATH", "UV_"))}
    env = {k: v for k, v in env.items() if not k.startswith("MODELFLEET_")}
    env["MODELFLEET"] = f"modelfleet @ {wheel.as_uri()}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    (work / "tutorial.sh").write_text(script(TUTORIAL.read_text()))
    done = subprocess.run(
        ["bash", "tutorial.sh"], cwd=work, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    assert done.returncode == 0, f"the tutorial failed:\n{done.stdout[-4000:]}\n{done.stderr[-6000:]}"
    scores = pd.read_parquet(work / "scores.parquet")
    assert {"subscriber_id", "cancel_probability", "cancelled"} <= set(scores.columns)
    assert len(scores) == 5_000
    assert (work / "report" / "report.html").stat().st_size > 10_000
    manifest = json.loads((work / "dags" / "modelfleet-manifest.json").read_text())
    assert {"subs_churn", "subs_spend"} <= set(manifest["models"])
    requirement = (work / "subs-models" / "pyproject.toml").read_text()
    assert wheel.as_uri() in requirement, "the package must depend on modelfleet as it was installed"


def test_every_block_the_runner_skips_is_only_shown():
    """The runner runs ``sh`` blocks and writes titled ones; any other block must be output or an example that is
    not run (``text``), so that no command in the tutorial escapes CI."""
    for language, info, _ in _BLOCK.findall(TUTORIAL.read_text()):
        assert language in ("sh", "text") or _TITLE.search(info), f"a {language} block without a title= is never run"
