"""A sharded run's drift parts prove which shard and rows they count. Through the real ``score --shard`` and
``drift``: parts that cover the run's input exactly once give one pass's verdict; a part copied, forged,
renamed, dropped, edited, of another run or of the previous release is never merged (3, or 66 while a shard's
part is missing), and the message names the part."""

import json
import shutil
import tracemalloc
import uuid

import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from models.churn import Churn
from shared.monitoring import tallies
from shared.tables import shards

ROWS, GROUP = 2400, 300  # 8 row groups: every shard of up to 4 gets some rows
MOVES = ("copy", "forge", "rename")  # kinds that take one part to another shard's name
KINDS = (*MOVES, "drop", "edit", "older", "foreign", "retry")
VALUES = st.one_of(
    st.integers(-2, 12),
    st.none(),
    st.booleans(),
    st.floats(-2, 12),
    st.text(max_size=3),
    st.lists(st.integers(0, 9), max_size=4),
)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """A churn version, an input of 8 row groups, and the runs scored from it so far (by shard count, name)."""
    root = tmp_path_factory.mktemp("parts")
    model = Churn(store=str(root / "store"))
    model.train(run_id="v1", n_estimators=5)
    model._sample_frame(ROWS, 7).drop(columns="churned").to_parquet(root / "in.parquet", row_group_size=GROUP)
    return model, root, {}


def _cli(modelfleet, model, *args):
    done = modelfleet(["churn", *args], env={"MODELFLEET_STORE": model._store_url})
    return done, (json.loads(done.stdout) if done.stdout.strip() else None)


def _score(modelfleet, fleet, folder, k, n):
    model, root, _ = fleet
    return _cli(modelfleet, model, "score", f"--data={root / 'in.parquet'}", "--version=v1", f"--output={folder}",
                f"--shard={k}/{n}")  # fmt: skip


def _run(modelfleet, fleet, n, name="run"):
    """The folder of a whole sharded run of ``n`` shards (scored once per module), and its verdict."""
    _, root, runs = fleet
    if (n, name) not in runs:
        folder = root / f"{name}-{n}"
        for k in reversed(range(n)):
            done, result = _score(modelfleet, fleet, folder, k, n)
            assert done.returncode == 0, done.stderr
        runs[n, name] = folder, result["drift"]
    return runs[n, name]


def _one_pass(modelfleet, fleet):
    model, root, runs = fleet
    if "one" not in runs:
        done, result = _cli(modelfleet, model, "score", f"--data={root / 'in.parquet'}", "--version=v1",
                            f"--output={root / 'one.parquet'}")  # fmt: skip
        assert done.returncode == 0, done.stderr
        runs["one"] = result["drift"]
    return runs["one"]


def _part(folder, k, n):
    return folder / tallies.FOLDER / f"part-{k:05d}-of-{n:05d}.json"


EDITS = st.tuples(
    st.sampled_from(["schema", "run", "shard", "files", "input", "first", "units", "units", "units"]),
    st.sampled_from(["set", "drop", "repeat", "field"]),
    st.integers(0, 7),
    st.integers(0, 3),
    VALUES,
)


def _edit(edit, part):
    """Set one field of a part's record of what it counts (or one number in its shard or its units) to a
    generated value, or drop or repeat one of its units; assume that changed it."""
    key, how, index, field, value = edit
    proof = part["part"]
    before = json.dumps(proof)
    if key == "units" and how != "set":
        units, u = proof["units"], index % len(proof["units"])
        if how == "drop":
            del units[u]
        elif how == "repeat":
            units.insert(u, list(units[u]))
        else:
            units[u][field] = value
    elif key == "shard" and how != "set":
        proof["shard"][index % 2] = value
    else:
        proof[key] = value
    assume(json.dumps(proof) != before)
    return part


@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind != "edit"])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(n=4, a=0, b=0)  # the issue's: part 0 saved again as part 1 (a run's true "ok" read "drifted")
@given(n=st.integers(1, 4), a=st.integers(0, 3), b=st.integers(0, 2))
def test_parts_that_do_not_cover_the_run_once_are_never_merged(modelfleet, fleet, tmp_path_factory, kind, n, a, b):
    """Part ``i`` copied, forged or renamed to shard ``j``'s name, dropped, from another run, as the previous
    release wrote it; or scored again (retry), which changes nothing."""
    assume(n > 1 or kind not in MOVES)
    i, j = a % n, (a % n + 1 + b % max(1, n - 1)) % n if kind in MOVES else a % n
    _spoil_and_merge(modelfleet, fleet, tmp_path_factory.mktemp("spoilt"), kind, n, i, j)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 4), a=st.integers(0, 3), edit=EDITS)
def test_an_edited_record_of_what_a_part_counts_is_refused(modelfleet, fleet, tmp_path_factory, n, a, edit):
    event(f"edit {edit[0]}")
    _spoil_and_merge(modelfleet, fleet, tmp_path_factory.mktemp("edited"), "edit", n, a % n, a % n, edit)


def _unseen_by_the_part(edit, n):
    """Whether an edit can be seen only in all the parts together (by the digest of their units, which is the
    input's identity), so the ``drift`` command names the folder, not the part: an edited file, row group or
    weight of a unit, its rows made unknown (as a CSV's are), or the input's identity in a run of one part."""
    if edit is None:
        return False
    key, how, _, field, value = edit
    in_units = key == "units" and how == "field" and (field != 2 or value is None)
    return in_units or (key in ("files", "input") and n == 1)


def _spoil_and_merge(modelfleet, fleet, where, kind, n, i, j, edit=None):
    original, verdict = _run(modelfleet, fleet, n)
    folder = where / f"run-{uuid.uuid4().hex[:8]}"
    shutil.copytree(original, folder)
    source, target = _part(folder, i, n), _part(folder, j, n)
    part = json.loads(source.read_text())
    if kind == "copy":  # another shard's part saved under this one's name
        target.write_text(json.dumps(part))
    elif kind == "forge":  # ... and its record of the shard edited to match the name
        part["part"]["shard"] = [j, n]
        target.write_text(json.dumps(part))
    elif kind == "rename":
        source.rename(target)
    elif kind == "drop":
        source.unlink()
    elif kind == "older":  # as the previous release wrote it: counts without the record of what they count
        source.write_text(json.dumps({k: v for k, v in part.items() if k != "part"}))
    elif kind == "foreign":  # the same shard of another run of the same input and version
        source.write_bytes(_part(_run(modelfleet, fleet, n, "other")[0], i, n).read_bytes())
    elif kind == "edit":
        source.write_text(json.dumps(_edit(edit, part)))
    elif kind == "retry":  # a shard scored again replaces its part with the same counts
        done, _ = _score(modelfleet, fleet, folder, i, n)
        assert done.returncode == 0, done.stderr
    verdicts = (folder / tallies.FOLDER / tallies.VERDICT).read_bytes()
    model = fleet[0]
    done, result = _cli(modelfleet, model, "drift", f"--output={folder}")
    if kind == "retry":
        assert done.returncode == 0, done.stderr
        assert (
            result["drift"] | {"path": None}
            == verdict | {"path": None}
            == _one_pass(modelfleet, fleet) | {"path": None}
        )
        return
    if kind in ("rename", "drop"):
        assert done.returncode == 66, done.stderr
        assert f"(shards {i})" in done.stderr
    else:
        assert done.returncode == 3, done.stderr
        named = (target if kind in MOVES else source).name
        assert named in done.stderr or (_unseen_by_the_part(edit, n) and "do not hold the input" in done.stderr)
        assert {"copy": f"holds the counts of shard {i}/{n}", "older": "does not say which shard and rows",
                "foreign": "another run"}.get(kind, "") in done.stderr  # fmt: skip
    assert done.stderr.startswith("modelfleet: error: "), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert result is None or "drift" not in result or result["drift"].get("status") not in ("ok", "drifted")
    # the last shard's merge in `score` refuses the same parts (a shard whose part is intact scores again)
    intact = [k for k in range(n) if k != (j if kind in MOVES else i) and not (kind == "rename" and k == i)]
    if intact:
        done, result = _score(modelfleet, fleet, folder, intact[0], n)
        if kind in ("rename", "drop"):
            assert done.returncode == 0, done.stderr
            assert result["drift"] == {"status": "pending", "shards_counted": n - 1, "shards": n}
        else:
            assert done.returncode == 3, done.stderr
            assert named in done.stderr
    assert (folder / tallies.FOLDER / tallies.VERDICT).read_bytes() == verdicts, "a refused merge wrote a verdict"


SHARD_TEXTS = st.one_of(
    st.tuples(st.integers(0, 10**30), st.integers(shards.MAX_SHARDS + 1, 10**30)).map(lambda t: f"{t[0]}/{t[1]}"),
    st.integers(4301, 6000).map(lambda digits: f"0/{'9' * digits}"),  # more digits than int() reads by default
    st.sampled_from(["0/1e8", "0/1e20", "1e20", "0/-4", "-1/4", "0/4.0", "0/0x10", "٠/٤", "0/1_000"]),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=SHARD_TEXTS)
def test_a_shard_count_above_the_bound_is_refused_before_any_work(modelfleet, fleet, tmp_path_factory, text):
    """``--shard=K/N`` has the bound of ``--shards`` (one definition), whatever was typed: 64, nothing written."""
    folder = tmp_path_factory.mktemp("bound") / "run"
    model, root, _ = fleet
    done, _ = _cli(modelfleet, model, "score", f"--data={root / 'in.parquet'}", "--version=v1", f"--output={folder}",
                   f"--shard={text}")  # fmt: skip
    assert done.returncode == 64, done.stderr
    assert done.stderr.startswith(f"modelfleet: error: --shard must be K/N with 0 <= K < N <= {shards.MAX_SHARDS}")
    assert done.stderr.count("\n") == 1, done.stderr
    assert not folder.exists()


def test_the_largest_shard_count_builds_nothing_of_its_size(modelfleet, fleet, tmp_path):
    """A run of the most shards there may be: a shard and the ``drift`` command look only at the parts the folder
    holds (Python's peak allocation stays small; a list of a million part paths alone is over 100 MB)."""
    n = shards.MAX_SHARDS
    tracemalloc.start()
    try:
        done, result = _score(modelfleet, fleet, tmp_path / "run", n - 1, n)
        assert done.returncode == 0, done.stderr
        assert result["drift"] == {"status": "pending", "shards_counted": 1, "shards": n}
        missing, _ = _cli(modelfleet, fleet[0], "drift", f"--output={tmp_path / 'run'}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert missing.returncode == 66, missing.stderr
    assert f"{n - 1} of the {n} shards" in missing.stderr
    assert "(shards 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...)" in missing.stderr
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.0f} MiB"


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.one_of(st.integers(shards.MAX_SHARDS + 1, 10**30), st.integers(-3, 0)))
def test_a_pin_naming_a_shard_count_out_of_bounds_is_refused(modelfleet, fleet, tmp_path_factory, count):
    """A hand-edited pin is refused (3) before its count sizes anything."""
    folder = tmp_path_factory.mktemp("pin") / "run"
    shutil.copytree(_run(modelfleet, fleet, 1)[0], folder)
    pin = folder / "_version.json"
    pin.write_text(json.dumps(json.loads(pin.read_text()) | {"shards": count}))
    done, _ = _cli(modelfleet, fleet[0], "drift", f"--output={folder}")
    assert done.returncode == 3, done.stderr
    assert "_version.json is not a version pin this build reads" in done.stderr
