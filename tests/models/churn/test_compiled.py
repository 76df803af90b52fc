"""The compiled engine predicts what LightGBM predicts, bit for bit, or is not used: never an unverified library."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.churn import Churn
from shared.errors import ArtifactRejected
from shared.estimators import compiled, engines
from shared.storage import artifacts
from shared.storage.store import COMPILED, Store

pytestmark = pytest.mark.skipif(compiled.compiler() is None, reason="no C compiler or tl2cgen here")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A store with one churn version, its compiled library built at train."""
    folder = str(tmp_path_factory.mktemp("store"))
    result = Churn(store=folder).train(n_estimators=60, compile="on")
    return folder, result


def low_bits_set(value):
    """``value`` with the low 32 bits of its double all ones: what tl2cgen's own missing test misreads."""
    return float((np.array([value]).view("uint64") | np.uint64(0xFFFFFFFF)).view("float64")[0])


ZERO = float(np.float32(1e-35))
edgy = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-500, 500).map(low_bits_set),
    st.sampled_from([0.0, -0.0, ZERO, -ZERO, np.nextafter(ZERO, 1), -np.nextafter(ZERO, 1), 5e-324]),
    st.integers(-5, 200).map(float),
)


@st.composite
def frames(draw):
    """Rows of churn's features: numbers anywhere (on and beside thresholds, tiny, infinite, missing, with their
    low 32 bits all ones), categoricals of known levels, unseen levels and missing ones."""
    rows = draw(st.integers(1, 40))
    sample = Churn()._sample_frame(50, 0)
    frame = {"customer_id": [f"c{i}" for i in range(rows)]}
    for name in Churn.numeric:
        known = st.sampled_from(sample[name].dropna().tolist())
        frame[name] = draw(st.lists(st.one_of(edgy, known), min_size=rows, max_size=rows))
    for name in Churn.categorical:
        levels = st.sampled_from([*sample[name].dropna().unique().tolist(), "never-seen", None])
        frame[name] = draw(st.lists(levels, min_size=rows, max_size=rows))
    return pd.DataFrame(frame)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=frames())
def test_compiled_engine_predicts_lightgbm_bit_for_bit(built, frame):
    model = Churn(store=built[0])
    kwargs = {"on_drift": "off", "max_unseen": 1.0}
    ours = model.score(frame, engine="compiled", **kwargs)
    theirs = model.score(frame, engine="lightgbm", **kwargs)
    assert (ours["engine"], theirs["engine"]) == ("compiled", "lightgbm")
    got, expected = (
        ours["predictions"][Churn.prediction].to_numpy(),
        theirs["predictions"][Churn.prediction].to_numpy(),
    )
    assert np.array_equal(got.view("uint64"), expected.view("uint64")), frame[got != expected]


@pytest.fixture(scope="module")
def around_zero(tmp_path_factory):
    """A churn version with splits beside zero (LightGBM puts them at +-1e-35): a feature of -2, 0 and 2 decides."""
    frame = Churn()._sample_frame(3000, 0)
    rng = np.random.default_rng(0)
    frame["discount_pct"] = rng.choice([-2.0, 0.0, 2.0], size=len(frame))
    frame[Churn.label] = ((frame["discount_pct"] < 0) ^ (rng.random(len(frame)) < 0.1)).astype(int)
    model = Churn(store=str(tmp_path_factory.mktemp("store")))
    model.train(frame, n_estimators=20, compile="off")
    loaded = artifacts.load(model, "latest")
    return model, loaded, loaded.store.read(loaded.manifest, "model.txt")[0]


@pytest.mark.parametrize("broken", [None, "tl2cgen-missing-test", "no-zero-threshold"])
def test_the_check_refuses_a_library_that_predicts_otherwise(around_zero, monkeypatch, broken):
    """Build the library as tl2cgen alone would (its missing test reads a double's low 32 bits; no zero
    threshold as LightGBM reads a row): the rows built on the thresholds catch each, held-out rows or not."""
    if broken == "tl2cgen-missing-test":
        monkeypatch.setattr(compiled, "_nan_tests", lambda code, name: code)
    elif broken == "no-zero-threshold":
        monkeypatch.setattr(compiled, "BATCH_C", compiled.BATCH_C.replace("fabs(v) <= (double)1e-35f ? 0.0 : v", "v"))
    model, loaded, data = around_zero
    assert any(abs(t) < 1e-30 for ts in compiled.split_thresholds(data.decode()).values() for t in ts)
    for rows in (None, loaded.schema.prepare(model._sample_frame(2000, 1))[0]):
        if broken is None:
            assert engines.build(model, data, loaded.schema, rows).record["checked"]["differing_rows"] == 0
            continue
        with pytest.raises(ArtifactRejected, match="check rows differently from LightGBM"):
            engines.build(model, data, loaded.schema, rows)


def copy_store(built, tmp_path):
    target = tmp_path / "store"
    shutil.copytree(built[0], target)
    store = Store(str(target))
    manifest = store.resolve("churn")
    folder = target / "churn" / "versions" / manifest["version"] / COMPILED
    return str(target), folder, manifest


def record_of(folder):
    path = next(folder.glob("*.json"))
    return path, json.loads(path.read_text())


def flip_byte(folder):
    library = next(folder.glob("*/*.so"))
    data = bytearray(library.read_bytes())
    data[len(data) // 2] ^= 0xFF
    library.write_bytes(bytes(data))


def cut(folder):
    library = next(folder.glob("*/*.so"))
    library.write_bytes(library.read_bytes()[:1000])


def edit_record(change):
    def edit(folder):
        path, record = record_of(folder)
        change(record)
        path.write_text(json.dumps(record))

    return edit


def other_platform(folder):
    path, record = record_of(folder)
    record["platform"] = record["platform"] | {"machine": "aarch64"}
    path.rename(path.with_name("linux-aarch64-glibc2.36-abi1.json"))
    path.with_name("linux-aarch64-glibc2.36-abi1.json").write_text(json.dumps(record))


def garbage_record(folder):
    record_of(folder)[0].write_text("{not json")


def foreign(folder):
    """A library of another model file: the record says what it was built from."""
    edit_record(lambda r: r.update(model_sha256="0" * 64))(folder)


def another_library(folder):
    """Another model's real library, with its size and sha256 put in the record: it passes the store's checks."""
    import hashlib

    path, record = record_of(folder)
    library = next(folder.glob("*/*.so"))
    other = Churn(store=str(folder.parent / "elsewhere")).train(n_estimators=7, seed=3, compile="on")
    elsewhere = Store(str(folder.parent / "elsewhere"))
    manifest = elsewhere.resolve("churn", other["version"])
    data = elsewhere.read_compiled(manifest, elsewhere.compiled(manifest)[compiled.platform_key()])
    library.write_bytes(data)
    record["file"] |= {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    path.write_text(json.dumps(record))


DAMAGE = {
    "flipped-byte": (flip_byte, "sha256", False),
    "cut-short": (cut, "bytes", False),
    "other-platform": (other_platform, "not for this platform", False),
    "platform-edited": (edit_record(lambda r: r["platform"].update(libc="musl1.2")), "built for", False),
    "other-engine": (edit_record(lambda r: r.update(engine="lleaves")), "lleaves", False),
    "record-not-json": (garbage_record, "cannot be read", False),
    "foreign": (foreign, "another model file", False),
    "another-models-library": (another_library, "differently from the predictions recorded", True),
    "sample-edited": (
        edit_record(lambda r: r["sample"]["predictions"].__setitem__(0, (0.5).hex())),
        "differently from the predictions recorded",
        True,
    ),
    "sample-gone": (edit_record(lambda r: r.pop("sample")), "no readable check sample", True),
    "sample-narrow": (
        edit_record(lambda r: r["sample"].update(rows=[row[:-1] for row in r["sample"]["rows"]])),
        "no readable check sample",
        True,
    ),
    "size-not-a-number": (edit_record(lambda r: r["file"].update(size=str(r["file"]["size"]))), "no size", False),
}


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_a_damaged_foreign_or_other_platform_library_is_refused_or_bypassed(
    built, tmp_path, modelfleet, monkeypatch, damage
):
    store, folder, _ = copy_store(built, tmp_path)
    change, message, loads = DAMAGE[damage]
    change(folder)
    loaded = []
    real = compiled.ctypes.CDLL
    monkeypatch.setattr(compiled.ctypes, "CDLL", lambda *a, **k: loaded.append(a) or real(*a, **k))
    out = tmp_path / "out.parquet"
    args = ["churn", "score", f"--store={store}", f"--output={out}"]
    refused = modelfleet([*args, "--engine=compiled"])
    assert refused.returncode == 3, refused.stderr
    assert message in refused.stderr.splitlines()[-1], refused.stderr
    assert not out.exists()
    if not loads:  # (one that passes them may have been loaded before in this process: the same bytes, once)
        assert not loaded, "a library that fails the store's checks must never be loaded"
    bypassed = modelfleet([*args, "--engine=auto"])
    assert bypassed.returncode == 0, bypassed.stderr
    assert json.loads(bypassed.stdout)["engine"] == "lightgbm"
    warned = [line for line in bypassed.stderr.splitlines() if "compiled engine not used" in line]
    assert len(warned) == 1, bypassed.stderr
    assert message in warned[0]


def test_compile_replaces_a_damaged_library_and_scoring_uses_it(built, tmp_path, modelfleet):
    store, folder, _ = copy_store(built, tmp_path)
    flip_byte(folder)
    done = modelfleet(["churn", "compile", f"--store={store}"])
    assert done.returncode == 0, done.stderr
    assert "replacing the compiled library" in done.stderr
    assert not json.loads(done.stdout)["compiled"].get("already_compiled")
    again = modelfleet(["churn", "compile", f"--store={store}"])
    assert json.loads(again.stdout)["compiled"]["already_compiled"] is True
    scored = modelfleet(
        ["churn", "score", f"--store={store}", f"--output={tmp_path / 'p.parquet'}", "--engine=compiled"]
    )
    assert scored.returncode == 0, scored.stderr


def test_compile_never_removes_a_library_it_cannot_replace_nor_another_platforms(built, tmp_path, modelfleet):
    """Without a compiler the damaged library stays (and nothing else is touched); a record whose path points
    at the whole folder removes only that record when compile replaces it."""
    store, folder, _ = copy_store(built, tmp_path)
    other = folder / "darwin-arm64-unknown-abi1.json"
    other.write_text(json.dumps({"file": {"path": "feedfacecafe/darwin.so"}}))
    edit_record(lambda r: r["sample"]["predictions"].__setitem__(0, (0.5).hex()))(folder)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    refused = modelfleet(["churn", "compile", f"--store={store}"], env={"CC": str(tmp_path / "no-cc")})
    assert refused.returncode == 78, refused.stderr
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before
    edit_record(lambda r: r["file"].update(path="/x.so"))(folder)
    done = modelfleet(["churn", "compile", f"--store={store}"])
    assert done.returncode == 0, done.stderr
    assert other.exists(), "compile removed another platform's record"
    assert modelfleet(["churn", "compile", f"--store={store}", "--data=nope.parquet"]).returncode == 66


def test_libraries_of_two_versions_in_one_process_each_predict_their_own(built, tmp_path):
    """The loader knows a library by its name: two libraries loaded one after the other must stay two."""
    store, _, _ = copy_store(built, tmp_path)
    model = Churn(store=store)
    other = model.train(n_estimators=9, seed=4, num_leaves=4, compile="on")["version"]
    frame = Churn()._sample_frame(300, 5).drop(columns=[Churn.label])
    for version in ("latest", other, built[1]["version"], other):
        ours = model.score(frame, version=version, engine="compiled")["predictions"]
        assert ours.equals(model.score(frame, version=version, engine="lightgbm")["predictions"]), version


def test_a_version_without_a_library_scores_with_lightgbm_or_says_how_to_build_one(tmp_path, modelfleet):
    store = str(tmp_path / "store")
    Churn(store=store).train(n_estimators=5)  # the tests' default: --compile=off
    args = ["churn", "score", f"--store={store}", f"--output={tmp_path / 'p.parquet'}"]
    refused = modelfleet([*args, "--engine=compiled"])
    assert refused.returncode == 66
    assert "no compiled library for this platform" in refused.stderr
    assert "churn compile" in refused.stderr
    auto = modelfleet(args)
    assert auto.returncode == 0
    assert json.loads(auto.stdout)["engine"] == "lightgbm"
    assert modelfleet(["churn", "compile", f"--store={store}"]).returncode == 0
    assert json.loads(modelfleet([*args, "--engine=compiled"]).stdout)["engine"] == "compiled"


def test_train_without_a_compiler(tmp_path, modelfleet):
    store = str(tmp_path / "store")
    env = {"CC": str(tmp_path / "no-such-cc")}
    on = modelfleet(["churn", "train", f"--store={store}", "--n_estimators=5", "--compile=on"], env=env)
    assert on.returncode == 78, on.stderr
    assert "no C compiler" in on.stderr
    assert "nothing was trained" in on.stderr
    assert not (tmp_path / "store").exists() or not Store(store).versions("churn")
    auto = modelfleet(["churn", "train", f"--store={store}", "--n_estimators=5", "--compile=auto"], env=env)
    assert auto.returncode == 0, auto.stderr
    assert json.loads(auto.stdout)["compiled"]["status"] == "not built"


def test_prediction_files_are_identical_byte_for_byte(built, tmp_path, modelfleet):
    files = {}
    for engine in ("lightgbm", "compiled"):
        files[engine] = tmp_path / f"{engine}.parquet"
        done = modelfleet(["churn", "score", f"--store={built[0]}", f"--output={files[engine]}", f"--engine={engine}"])
        assert done.returncode == 0
        assert json.loads(done.stdout)["engine"] == engine
    assert files["lightgbm"].read_bytes() == files["compiled"].read_bytes()


SCORING_PROCESS = """
import sys
from dispatch import cli
sys.argv = ["modelfleet", *sys.argv[1:]]
code = cli.main()
print(" ".join(sorted({name.split(".")[0] for name, module in sys.modules.items() if module})), file=sys.stderr)
raise SystemExit(code)
"""


@pytest.mark.slow
def test_a_scoring_process_imports_only_what_it_uses(built, tmp_path):
    """No LightGBM, scikit-learn or scipy when the compiled engine serves; no scikit-learn with LightGBM's."""
    args = ["churn", "score", f"--store={built[0]}", f"--output={tmp_path / 'p.parquet'}"]
    for engine, absent in (("compiled", {"lightgbm", "sklearn", "scipy"}), ("lightgbm", {"sklearn"})):
        done = subprocess.run(
            [sys.executable, "-c", SCORING_PROCESS, *args, f"--engine={engine}"], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-2000:]
        imported = set(done.stderr.splitlines()[-1].split())
        assert "pandas" in imported, imported
        assert ("lightgbm" in imported) == (engine == "lightgbm"), imported
        assert imported & absent == set(), f"--engine={engine} imported {sorted(imported & absent)}"
