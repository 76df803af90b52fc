"""A compile killed anywhere leaves nothing that the next compile or gc does not remove, and a live compile's
folders (its attempt in the store, its build folder) are never removed, however old they look."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from shared.estimators import compiled
from shared.process import partials

pytestmark = pytest.mark.skipif(compiled.compiler() is None, reason="no C compiler or tl2cgen here")

POINTS = ["build", "library-write", "library-written"]  # before, during and after the library is stored
LATER = {"compile": ["compile"], "gc": ["gc", "--keep=1", "--delete"]}


def litter(store, tmp):
    """Attempt folders of compiled libraries that no record names, and build folders in ``tmp``."""
    folders = list((store / "churn" / "versions").glob("*/compiled"))
    named = {json.loads(p.read_text())["file"]["path"].split("/")[0] for f in folders for p in f.glob("*.json")}
    orphans = sorted(p for f in folders for p in f.iterdir() if p.is_dir() and p.name not in named)
    return orphans, sorted(tmp.glob(f"{compiled.BUILD_PREFIX}*"))


def age(paths):
    """Make folders look untouched for longer than the grace a writer has to lock what it created."""
    stamp = time.time() - 10 * partials.GRACE_SECONDS
    for path in paths:
        os.utime(path, (stamp, stamp))


def setup(store, work):
    root, tmp = work / "store", work / "tmp"
    shutil.copytree(store, root)
    tmp.mkdir()
    return root, tmp


def compile_process(root, tmp, fault):
    env = {**os.environ, "MODELFLEET_FAULT": fault, "TMPDIR": str(tmp)}
    args = [sys.executable, "-m", "dispatch", "churn", "compile", f"--store={root}"]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
@settings(
    max_examples=6,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a subprocess each: no slow shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(point=st.sampled_from(POINTS), later=st.sampled_from(sorted(LATER)))
def test_what_a_killed_compile_leaves_is_removed_by_the_next_compile_or_gc(
    store, tmp_path_factory, modelfleet, monkeypatch, point, later
):
    root, tmp = setup(store, tmp_path_factory.mktemp("killed"))
    child = compile_process(root, tmp, point)
    _, err = child.communicate(timeout=600)
    assert child.returncode == -signal.SIGKILL, err[-2000:]
    orphans, builds = litter(root, tmp)
    assert orphans or builds, "the kill left nothing: the point was not reached"
    age([*orphans, *builds])
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))  # this process's temporary folder, as TMPDIR gave the child
    done = modelfleet(["churn", *LATER[later], f"--store={root}"])
    assert done.returncode == 0, done.stderr
    assert litter(root, tmp) == ([], [])
    if later == "gc":
        abandoned = [f"{p.parent.name}/{p.name}" for p in orphans]
        assert [item["path"] for item in json.loads(done.stdout)["abandoned"]] == abandoned


@pytest.mark.slow
@pytest.mark.parametrize("point", ["build", "library-written"])
def test_a_live_compiles_folders_are_never_removed(store, tmp_path, modelfleet, monkeypatch, point):
    """A compile stopped (SIGSTOP, alive) with its build folder or its unrecorded library: gc and another compile
    leave them, however old they look; resumed, it finishes, and nothing is left over."""
    root, tmp = setup(store, tmp_path)
    child = compile_process(root, tmp, f"{point}:STOP")
    try:
        _, status = os.waitpid(child.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), status
        orphans, builds = litter(root, tmp)
        live = [*orphans, *builds]
        assert live
        age(live)
        monkeypatch.setattr(tempfile, "tempdir", str(tmp))
        for later in ("gc", "compile"):
            done = modelfleet(["churn", *LATER[later], f"--store={root}"])
            assert done.returncode == 0, done.stderr
            assert all(path.exists() for path in live), later
        assert json.loads(done.stdout)["compiled"]["platform"] == compiled.platform_key()
    finally:
        child.send_signal(signal.SIGCONT)
    _, err = child.communicate(timeout=600)
    assert child.returncode == 0, err[-2000:]
    assert litter(root, tmp) == ([], [])


def test_on_an_object_store_an_unrecorded_library_is_removed_once_stale(compiled_store, s3_store, s3_copy, modelfleet):
    """On S3 a writer holds no lock: an attempt folder no record names is its dead writer's once it is stale."""
    fs, root = s3_copy(compiled_store)
    (library,) = fs.glob(f"{root}/churn/versions/*/compiled/*/*.so")
    orphan = f"{library.rsplit('/', 3)[0]}/compiled/{'a' * 12}/{library.rsplit('/', 1)[1]}"
    fs.copy(library, orphan)
    args = ["churn", "gc", "--keep=1", "--delete", f"--store={s3_store}"]
    fresh = modelfleet(args)
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads(fresh.stdout)["abandoned"] == []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(partials, "REMOTE_STALE_SECONDS", -1.0)  # every object so far counts as stale
        stale = modelfleet(args)
    assert stale.returncode == 0, stale.stderr
    assert [item["path"] for item in json.loads(stale.stdout)["abandoned"]] == [f"compiled/{'a' * 12}"]
    fs.invalidate_cache()
    assert fs.glob(f"{root}/churn/versions/*/compiled/*/*.so") == [library]
    scored = modelfleet(["churn", "score", f"--store={s3_store}", "--output=p.parquet", "--engine=compiled"])
    assert scored.returncode == 0, scored.stderr
