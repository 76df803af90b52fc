"""Signals as a supervisor sends them: bursts of SIGTERM and SIGINT at any time, start-up included.

Whatever the burst, the process exits with a documented code (0, 130, 143) and leaves exactly one result file
that says so, or, for a signal that arrives before Python ran the first line of our entry point, it is killed
by that signal with nothing written at all (nothing of ours ran, so nothing can report).
"""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.dispatch.test_contract import NEEDS_CHURN

OURS = re.compile(r"[/\\](dispatch|shared|models)[/\\]|modelfleet")  # a path into our packages, or our name
SAID = {143: "terminated by SIGTERM", 130: "interrupted by SIGINT"}
SCRIPT = Path(sys.executable).with_name("modelfleet")  # the console script ([project.scripts])
ENTRIES = ["module"] + (["script"] if SCRIPT.exists() else [])

bursts = st.fixed_dictionaries(
    {
        "entry": st.sampled_from(ENTRIES),
        "delay": st.one_of(st.just(0.0), st.floats(0, 1.5)),  # 0: right after Popen, in the interpreter's start
        "signals": st.lists(st.sampled_from([signal.SIGTERM, signal.SIGINT]), min_size=1, max_size=4),
        "gap": st.one_of(st.just(0.0), st.floats(0, 0.3)),
    }
)


def run_burst(tmp: Path, args: list[str], burst: dict) -> tuple[int, str, str, Path]:
    """Start the command as a supervisor would, send the burst, and return what it saw."""
    out = tmp / f"run-{time.monotonic_ns()}"
    out.mkdir()
    result = out / "result.json"
    environ = {**os.environ, "MODELFLEET_STORE": str(tmp / "store"), "MODELFLEET_RESULT_PATH": str(result)}
    head = [str(SCRIPT)] if burst["entry"] == "script" else [sys.executable, "-m", "dispatch"]
    with subprocess.Popen([*head, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ) as p:
        time.sleep(burst["delay"])
        for signum in burst["signals"]:
            if p.poll() is None:
                p.send_signal(signum)
            time.sleep(burst["gap"])
        try:
            stdout, stderr = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            pytest.fail(f"still running 120 s after {burst}: {p.communicate()[1][-2000:]}")
    return p.returncode, stdout, stderr, out


def check_outcome(code: int, stdout: str, stderr: str, out: Path, burst: dict) -> None:
    """A documented code and one result file saying it; or killed before our code ran, with nothing written."""
    written = sorted(path.name for path in out.iterdir())
    if code < 0:  # only a signal before our handlers exist: Python's start, before the entry point's first line
        # killed by one of the burst's signals (not always the first: Python's start handles SIGINT itself)
        assert -code in burst["signals"], (code, stderr)
        assert written == [], (burst, written, stderr)
        assert stdout == "", stdout
        # Python's own words at most: SIGINT in site's or runpy's imports prints a traceback of the interpreter's
        # start (cut short if a SIGTERM follows), never a line of our code
        python_only = stderr.strip().startswith(("Traceback", "Could not import runpy module"))
        assert not stderr.strip() or (python_only and not OURS.search(stderr)), stderr
        return
    assert code in (0, *SAID), (burst, code, stderr[-3000:])
    assert written == ["result.json"], (burst, written)
    result = json.loads((out / "result.json").read_text())
    assert "Traceback" not in stderr, stderr[-3000:]
    if code == 0:
        assert "error" not in result
        assert json.loads(stdout) == result
    else:
        assert result["exit_code"] == code
        assert stderr.strip().splitlines()[-1].startswith(f"modelfleet: error: {SAID[code]}"), stderr[-2000:]


@pytest.mark.slow
@NEEDS_CHURN
@settings(max_examples=18, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(burst=bursts)
def test_every_signal_burst_ends_in_a_documented_code_and_one_result(tmp_path, burst):
    """Any burst on a cheap command (`churn describe`), sent from right after Popen to the command's end."""
    check_outcome(*run_burst(tmp_path, ["churn", "describe"], burst), burst)


@pytest.mark.slow
@NEEDS_CHURN
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(burst=bursts.map(lambda burst: {**burst, "delay": burst["delay"] * 3}))
def test_every_signal_burst_on_train_ends_in_a_documented_code_and_one_result(tmp_path, burst):
    """The same on `train` of a small sample: a burst may land in its imports, its fit, its commit or after it."""
    before = set((tmp_path / "store").rglob("manifest.json"))  # Hypothesis's examples share tmp_path's store
    code, stdout, stderr, out = run_burst(tmp_path, ["churn", "train", "--n_estimators=30"], burst)
    check_outcome(code, stdout, stderr, out, burst)
    committed = sorted(set((tmp_path / "store").rglob("manifest.json")) - before)  # by this run
    if code in SAID:  # a stop after the commit names the version; one before it commits nothing
        result = json.loads((out / "result.json").read_text())
        named = [item["version"] for item in result.get("committed", []) if "version" in item]
        assert named == [path.parent.name for path in committed], (result, committed)
        assert ("nothing was committed" in stderr) == (not committed), stderr[-2000:]


@pytest.mark.slow
@NEEDS_CHURN
def test_sigterm_right_after_the_commit_names_the_committed_version(modelfleet, tmp_path):
    """SIGTERM as the manifest lands: 143, and the error line and the result say the version was committed."""
    result = tmp_path / "result.json"
    env = {"MODELFLEET_FAULT": "manifest-written:TERM", "MODELFLEET_RESULT_PATH": str(result)}
    args = ["churn", "train", "--n_estimators=5", f"--store={tmp_path / 'store'}"]
    done = modelfleet(args, tmp_path, env, process=True)
    assert done.returncode == 143, done.stderr
    (manifest,) = (tmp_path / "store").rglob("manifest.json")
    version = manifest.parent.name
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("modelfleet: error: terminated by SIGTERM"), line
    assert f"committed churn version {version}" in line
    assert "nothing was committed" not in done.stderr
    said = json.loads(result.read_text())
    assert said["exit_code"] == 143
    assert said["committed"] == [{"what": f"churn version {version}", "model": "churn", "version": version}]


@NEEDS_CHURN
@pytest.mark.parametrize("step", ["version", "alias", "output"])
def test_a_stop_after_any_commit_step_reports_it(modelfleet, tmp_path, monkeypatch, step):
    """Each commit point (a version's manifest, an alias event, an output moved into place): SIGTERM right after
    it exits 143 naming what was committed, never "nothing was committed"."""
    from shared.process import atomic
    from shared.storage.store import Store

    store = str(tmp_path / "store")
    if step != "version":
        assert modelfleet(["churn", "train", "--n_estimators=5", f"--store={store}", "--run_id=v1"]).returncode == 0
    args = {
        "version": ["churn", "train", "--n_estimators=5", f"--store={store}", "--run_id=v2"],
        "alias": ["churn", "promote", "--alias=champion", "--version=v1", "--reason=test", f"--store={store}"],
        "output": ["churn", "sample", "--rows=50", f"--output={tmp_path / 'rows.parquet'}"],
    }[step]
    if step == "output":
        wrapped = atomic.replacing

        @contextlib.contextmanager
        def replacing(*positional, **named):
            with wrapped(*positional, **named) as handle:
                yield handle
            os.kill(os.getpid(), signal.SIGTERM)  # the file was just moved into place

        monkeypatch.setattr(atomic, "replacing", replacing)  # shared.tables.data imports it when it writes
    else:
        name = "commit" if step == "version" else "create_alias_event"
        wrapped = getattr(Store, name)

        def signalled(self, *positional, **named):
            made = wrapped(self, *positional, **named)
            os.kill(os.getpid(), signal.SIGTERM)  # the step just returned: the commit is there
            return made

        monkeypatch.setattr(Store, name, signalled)
    result = tmp_path / "result.json"
    done = modelfleet(args, tmp_path, {"MODELFLEET_RESULT_PATH": str(result)})
    assert done.returncode == 143, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert "nothing was committed" not in line, line
    expected = {"version": "churn version v2", "alias": "alias champion -> v1", "output": "the output"}[step]
    assert expected in line, line
    assert expected in json.loads(result.read_text())["committed"][0]["what"]


@pytest.fixture(scope="module")
def trained_store(tmp_path_factory):
    """A store with one small churn version, trained through the entry point."""
    store = tmp_path_factory.mktemp("signals") / "store"
    environ = {**os.environ, "MODELFLEET_STORE": str(store), "MODELFLEET_CHURN_TRAIN_COMPILE": "off"}
    subprocess.run([sys.executable, "-m", "dispatch", "churn", "train", "--n_estimators=5"], env=environ, check=True)
    return store


@pytest.mark.slow
@NEEDS_CHURN
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    delay=st.sampled_from([0.0, 0.002, 0.01, 0.03]), signals=st.lists(st.sampled_from([15, 2]), min_size=1, max_size=3)
)
def test_signals_after_the_result_was_printed_never_kill_the_process(trained_store, tmp_path, delay, signals):
    """Signals that come once the result is out (as the process shuts down, LightGBM's and Arrow's threads
    still there) leave the exit 0 and the success result: a console process never dies by a signal then."""
    result = tmp_path / f"result-{time.monotonic_ns()}.json"
    environ = {**os.environ, "MODELFLEET_STORE": str(trained_store), "MODELFLEET_RESULT_PATH": str(result)}
    args = ["churn", "score", "--engine=lightgbm", f"--output={tmp_path / f'{result.stem}.parquet'}"]
    with subprocess.Popen([sys.executable, "-m", "dispatch", *args], stdout=subprocess.PIPE, env=environ) as p:
        first = p.stdout.readline()
        time.sleep(delay)
        for signum in signals:
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signum)
        p.communicate(timeout=120)
    assert p.returncode == 0, (p.returncode, first[:200])
    assert "error" not in json.loads(result.read_text())
