"""A write removes the partial files that killed writers of the same output left, and nothing else."""

import fcntl
import io
import os
import string
import uuid

from fsspec.implementations.local import LocalFileSystem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.process import partials

# Output names as users spell them: dots, regex and glob characters, spaces, unicode.
NAMES = st.text(string.ascii_letters + string.digits + ".-_ []()*+?^$|{}é", min_size=1, max_size=20).filter(
    lambda n: n not in (".", "..")
)
OLD = 60.0


def _partial(folder, output, *, age=OLD):
    path = f"{folder}/.{output}.{uuid.uuid4().hex}.tmp"
    with open(path, "wb") as handle:
        handle.write(b"PAR1 half a table")
    stamp = os.path.getmtime(path) - age
    os.utime(path, (stamp, stamp))
    return path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(output=NAMES, other=NAMES, dead=st.integers(0, 3))
def test_only_dead_partials_of_this_output_are_removed(tmp_path_factory, output, other, dead):
    folder = str(tmp_path_factory.mktemp("out"))
    gone = {_partial(folder, output) for _ in range(dead)}
    live = _partial(folder, output)
    fresh = _partial(folder, output, age=0)  # created an instant ago, maybe not locked yet
    kept = {live, fresh}
    if other != output:
        kept.add(_partial(folder, other))  # another output's partial
    for name in (output, f".{output}.tmp", f".{output}.{'g' * 32}.tmp", f".{output}.{uuid.uuid4().hex}.tmp.bak"):
        path = f"{folder}/{name}"
        if path not in kept:
            open(path, "wb").close()
            os.utime(path, (0, 0))
            kept.add(path)
    with open(live, "rb") as holder:  # a live writer: its lock stays while its handle is open
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        fs = LocalFileSystem()
        removed = partials.sweep(fs, fs.ls(folder, detail=True), output, local=True)
    assert gone == set(removed)
    assert kept == {f"{folder}/{n}" for n in os.listdir(folder)}


STALE = partials.REMOTE_STALE_SECONDS


@given(
    age=st.floats(0, STALE - 60) | st.floats(STALE + 60, 10 * STALE),
    spelled=st.sampled_from(["epoch", "datetime", "iso"]),
)
def test_remote_partials_are_removed_only_once_stale(age, spelled):
    import datetime as dt
    import time

    stamp = time.time() - age
    when = dt.datetime.fromtimestamp(stamp, dt.UTC)
    value = {"epoch": stamp, "datetime": when, "iso": when.isoformat()}[spelled]
    assert partials._remote_gone({"LastModified": value}) == (age > STALE)


def test_a_remote_partial_of_unknown_age_is_left_alone():
    assert not partials._remote_gone({})
    assert not partials._remote_gone({"LastModified": "yesterday"})


def test_a_write_to_an_object_store_removes_only_stale_partials(s3_store, monkeypatch):
    """On S3 a partial is visible only once uploaded: one older than the stale age is a dead writer's."""
    import pandas as pd

    from shared.tables.data import filesystem, write_table

    out = f"{s3_store}/scores.parquet"
    fs, path = filesystem(out)
    parent = path.rsplit("/", 1)[0]
    stale, recent = (f"{parent}/.scores.parquet.{uuid.uuid4().hex}.tmp" for _ in range(2))
    fs.pipe_file(stale, b"half")
    monkeypatch.setattr(partials, "REMOTE_STALE_SECONDS", -1.0)  # every partial so far counts as stale
    write_table(pd.DataFrame({"a": [1]}), out)
    fs.invalidate_cache()
    assert not fs.exists(stale)
    fs.pipe_file(recent, b"half")
    monkeypatch.setattr(partials, "REMOTE_STALE_SECONDS", 3600.0)
    write_table(pd.DataFrame({"a": [2]}), out)
    fs.invalidate_cache()
    assert fs.exists(recent)
    assert pd.read_parquet(io.BytesIO(fs.cat_file(path))).a.tolist() == [2]
