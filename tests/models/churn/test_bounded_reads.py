"""A store file larger than its record says is refused before it is read: never read whole, never a MemoryError.

Every verified read from the store (the model file, the compiled library) reads at most the recorded size plus
one byte; a manifest or a record, which no manifest gives a size, at most RECORD_LIMIT. Sizes are generated, up
to several GB (sparse files: no disk), and the scoring process's peak memory shows nothing was read.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from shared.storage.backends import RECORD_LIMIT

GIB = 2**30
SCORING_RSS = 800 * 2**20  # a scoring process of this toy model peaks near 200 MB; reading 1 GiB would not fit

# What grows (a path below the version folder, as a glob) and what each engine does then: exit code, engine used.
TARGETS = {
    "model": ("*/model.txt", {"auto": (3, None), "lightgbm": (3, None), "compiled": (3, None)}),
    "library": ("compiled/*/*.so", {"auto": (0, "lightgbm"), "compiled": (3, None)}),
    "record": ("compiled/*.json", {"auto": (0, "lightgbm"), "compiled": (3, None)}),
    "manifest": ("manifest.json", {"auto": (3, None)}),
}
extra_bytes = st.one_of(st.integers(1, 4096), st.integers(GIB, 8 * GIB))


def grow(store, target, extra):
    """Make a store file ``extra`` bytes larger than it may be (a sparse tail): than its recorded size, or than
    RECORD_LIMIT for a file no manifest gives a size. Its name, the size it may have and the size it has."""
    (path,) = (store / "churn" / "versions").glob(f"*/{TARGETS[target][0]}")
    limit = RECORD_LIMIT if target in ("manifest", "record") else path.stat().st_size
    os.truncate(path, limit + extra)
    return path.name, limit, limit + extra


def score(store, out, engine):
    """Run ``score`` in a subprocess; its exit code, stdout, stderr and peak resident memory in bytes."""
    args = [sys.executable, "-m", "dispatch", "churn", "score", f"--store={store}", f"--output={out}"]
    with open(out.with_suffix(".stdout"), "w+") as stdout, open(out.with_suffix(".stderr"), "w+") as stderr:
        child = subprocess.Popen([*args, f"--engine={engine}", "--on_drift=off"], stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage (RUSAGE_CHILDREN, for one child)
        child.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0), stderr.seek(0)
        return child.returncode, stdout.read(), stderr.read(), usage.ru_maxrss * 1024


@pytest.mark.slow
@settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a subprocess each: no slow shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(target=st.sampled_from(sorted(TARGETS)), extra=extra_bytes, data=st.data())
def test_an_oversized_store_file_is_refused_without_reading_it(compiled_store, tmp_path_factory, target, extra, data):
    work = tmp_path_factory.mktemp("grown")
    store = work / "store"
    shutil.copytree(compiled_store, store)
    name, limit, after = grow(store, target, extra)
    engine = data.draw(st.sampled_from(sorted(TARGETS[target][1])), label="engine")
    code, out, err, rss = score(store, work / "p.parquet", engine)
    expected, used = TARGETS[target][1][engine]
    assert code == expected, err[-2000:]
    said = [line for line in err.splitlines() if name in line and str(after) in line]
    assert len(said) == 1, err[-2000:]  # the refusal, or the one warning of a fallback
    assert f"{limit}" in said[0]
    if expected == 0:
        assert json.loads(out)["engine"] == used
        assert "compiled engine not used" in said[0]
    else:
        assert said[0].startswith("modelfleet: error: ")
    assert "MemoryError" not in err
    assert rss < SCORING_RSS, f"peak {rss / 2**20:.0f} MB: the {after}-byte {name} was read"


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(["model", "library"]), extra=st.integers(1, 2**20))
def test_an_oversized_object_on_an_object_store_is_refused_or_bypassed(
    compiled_store, s3_store, s3_copy, tmp_path_factory, modelfleet, target, extra
):
    """On S3 the size comes from the object's metadata: a larger object is refused, or auto scores with LightGBM."""
    fs, root = s3_copy(compiled_store)
    (path,) = fs.glob(f"{root}/churn/versions/*/{TARGETS[target][0]}")
    data = fs.cat_file(path)
    fs.pipe_file(path, data + b"\0" * extra)
    out = tmp_path_factory.mktemp("out") / "p.parquet"
    args = ["churn", "score", f"--store={s3_store}", f"--output={out}", "--on_drift=off"]
    for engine, (expected, used) in TARGETS[target][1].items():
        done = modelfleet([*args, f"--engine={engine}"])
        assert done.returncode == expected, done.stderr
        said = [line for line in done.stderr.splitlines() if f"{len(data) + extra} bytes" in line]
        assert len(said) == 1, done.stderr
        assert str(len(data)) in said[0]
        if used:
            assert json.loads(done.stdout)["engine"] == used
