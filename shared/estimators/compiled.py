"""The compiled engine: a boosted-trees model built into a C library (treelite + tl2cgen), proven equal to LightGBM.

Building (at ``train``, or ``compile`` for an older version) needs treelite, tl2cgen and a C compiler:

- tl2cgen writes C from the model. Its generated test for a missing value reads the low 32 bits of each double
  (``missing != -1``), so a real value whose low 32 bits are all ones would be taken as missing and sent the
  wrong way. The generated code is rewritten to test NaN instead, the way LightGBM does, and a batch entry
  point is added that predicts the rows of one float64 matrix in parallel (OpenMP), without a float32 cast.
- The library is accepted only when its predictions equal LightGBM's **bit for bit** on the rows it is checked
  on: the held-out rows, and rows built to sit on every split threshold of the model (just below, on, just
  above it), with missing values, zeros, infinities, every level of each categorical and unseen levels.
- Its record keeps a sample of those rows and LightGBM's predictions of them (as exact hex floats).

Loading needs none of these (no LightGBM, no compiler): the library's bytes come from the store after its size
and sha256 checks, it must be built for this platform (system, machine, C library) from this very model file,
and before any row is scored it must predict the recorded sample exactly as LightGBM did.

One cohesive thing: building and loading keep one promise, bit-for-bit equality with LightGBM, and share
what makes it (the ABI of the batch entry point, the record's check sample, the comparison both sides run), so
the build and the load stay in one module.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import logging
import os
import platform as host
import re
import struct
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.errors import ArtifactRejected, ConfigError
from shared.process import cpus, faults, partials

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

ENGINE = "tl2cgen"
ABI = 1  # the batch entry point's signature: a new one is a new platform key, so old libraries are rebuilt
FLAGS = ("-O2", "-fPIC", "-fopenmp", "-ffp-contract=off", "-fno-fast-math", "-fno-strict-aliasing", "-std=gnu99")
SAMPLE_ROWS = 512  # rows of the check kept in the record, re-predicted at every load
BUILD_PREFIX = "modelfleet-build-"  # a build's temporary folder, in the system's (TMPDIR)
TREES_PER_UNIT = 5  # trees per generated C file and per pass over a block of rows (measured: 5 beats 20 and 50)

BATCH_C = r"""
#include "header.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

int32_t modelfleet_abi(void) { return %(abi)d; }
%(units)s
/* Predict ROWS rows of a row-major float64 matrix of COLS columns into OUT (OUTPUTS values per row: one, or one
   per class of a multiclass model, row-major), on NTHREAD threads, in blocks of BLOCK rows (each thread's block
   on the heap): each group of trees runs over the block's rows before the next group, so that its code stays in
   the cache; each row still sums each output's trees in the model's order. A NaN is a missing value (the
   generated code tests isnan). As LightGBM reads a dense row, a value within its zero threshold (1e-35 as a
   float) is read as 0.0; every other double is read as it is. */
#define BLOCK 256
#define OUTPUTS (N_TARGET * MAX_N_CLASS)
int32_t modelfleet_predict(const double* x, int64_t rows, int32_t cols, double* out, int32_t nthread) {
  if (cols != get_num_feature() || N_TARGET != 1) return -1;
  const int64_t blocks = (rows + BLOCK - 1) / BLOCK;
  int32_t failed = 0;
  #pragma omp parallel num_threads(nthread)
  {
    union Entry* entries = malloc(sizeof(union Entry) * BLOCK * (size_t)(cols > 0 ? cols : 1));
    double* result = malloc(sizeof(double) * BLOCK * OUTPUTS);
    if (entries == NULL || result == NULL) {
      #pragma omp atomic write
      failed = 1;
    }
    #pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      if (entries == NULL || result == NULL) continue;
      const int64_t first = b * BLOCK;
      const int64_t n = rows - first < BLOCK ? rows - first : BLOCK;
      for (int64_t r = 0; r < n; ++r) {
        for (int32_t j = 0; j < cols; ++j) {
          const double v = x[(first + r) * (int64_t)cols + j];
          entries[r * cols + j].fvalue = fabs(v) <= (double)1e-35f ? 0.0 : v;
        }
        for (int32_t k = 0; k < OUTPUTS; ++k) result[r * OUTPUTS + k] = 0.0;
      }
%(body)s
      for (int64_t i = 0; i < n * OUTPUTS; ++i) out[first * OUTPUTS + i] = result[i];
    }
    free(entries);
    free(result);
  }
  return failed ? -2 : 0;
}
"""


def platform() -> dict[str, Any]:
    """What a library must have been built for to be loaded here: the system, machine, C library and ABI."""
    libc, version = host.libc_ver()
    return {"system": sys.platform, "machine": host.machine(), "libc": f"{libc or 'unknown'}{version}", "abi": ABI}


def platform_key(where: dict[str, Any] | None = None) -> str:
    """The platform as one name, e.g. ``linux-x86_64-glibc2.36-abi1`` (the library's file name in the store)."""
    found = where or platform()
    key = f"{found['system']}-{found['machine']}-{found['libc']}-abi{found['abi']}".lower()
    return re.sub(r"[^a-z0-9_.-]", "_", key)


def compiler() -> str | None:
    """The C compiler to build with ($CC, else cc or gcc), or None when there is none or no tl2cgen/treelite."""
    import importlib.util
    import shutil

    if importlib.util.find_spec("tl2cgen") is None or importlib.util.find_spec("treelite") is None:
        return None
    for name in [os.environ["CC"]] if os.environ.get("CC") else ["cc", "gcc"]:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass(frozen=True)
class Built:
    """A library that passed its check: its bytes and what its record says of it."""

    data: bytes
    record: dict[str, Any]


def build(booster: Any, base: np.ndarray, levels: dict[int, int], model_sha256: str) -> Built:
    """Build ``booster`` into a library and check it bit for bit against LightGBM on ``base`` (prepared rows,
    e.g. the held-out ones) and on rows built on every split threshold; ArtifactRejected on any difference.

    ``levels`` gives each categorical feature's position and level count.
    """
    import numpy as np

    cc = compiler()
    if cc is None:
        msg = "cannot compile: no C compiler (cc, gcc or $CC) or no tl2cgen in this image; use an image with both"
        raise ConfigError(msg)
    import shutil

    started = time.monotonic()
    sweep_builds()
    folder = tempfile.mkdtemp(prefix=BUILD_PREFIX)
    try:
        with partials.holding(folder):  # a later build sweeps it only if this process is gone
            data = _compile(booster, Path(folder), cc).read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    library = Library(data, booster.num_feature())
    rows = np.vstack([base, probe_rows(booster, base, levels)]) if len(base) else probe_rows(booster, base, levels)
    expected = booster.predict(rows, num_threads=cpus.available())
    got = library.predict(rows)
    _check_equal(expected, got, rows, "LightGBM")
    pick = np.random.default_rng(0).choice(len(rows), size=min(SAMPLE_ROWS, len(rows)), replace=False)
    pick = np.union1d(pick, np.flatnonzero(np.isnan(rows).any(axis=1))[:64])  # some rows with missing values
    import tl2cgen
    import treelite

    record = {
        "engine": ENGINE,
        "platform": platform(),
        "model_sha256": model_sha256,
        "built_with": {
            "compiler": _compiler_version(cc),
            "flags": list(FLAGS),
            "tl2cgen": tl2cgen.__version__,
            "treelite": treelite.__version__,
        },
        "checked": {"rows": len(rows), "held_out_rows": len(base), "tolerance": 0, "differing_rows": 0},
        "sample": {
            "rows": [[float(v).hex() for v in row] for row in rows[pick]],
            "predictions": [_to_hex(v) for v in expected[pick]],
        },
        "seconds": round(time.monotonic() - started, 1),
    }
    return Built(data, record)


def sweep_builds() -> list[str]:
    """Remove the temporary folders of builds whose process is gone (killed while building), never a live
    build's (the rules of :mod:`shared.process.partials`); return the folders removed."""
    import glob
    import shutil

    removed = []
    for path in sorted(glob.glob(os.path.join(glob.escape(tempfile.gettempdir()), f"{BUILD_PREFIX}*"))):
        if os.path.isdir(path) and not os.path.islink(path) and partials.gone({"name": path}, local=True):
            shutil.rmtree(path, ignore_errors=True)
            log.info("removed %s, the folder of a build that did not finish", path)
            removed.append(path)
    return removed


class Library:
    """A compiled library loaded from bytes: ``predict`` as ``Booster.predict`` does (float64 in, float64 out)."""

    def __init__(self, data: bytes, features: int) -> None:
        self._lib = _dlopen(data)
        for symbol in ("modelfleet_abi", "modelfleet_predict", "get_num_feature", "get_num_target", "get_num_class"):
            if not hasattr(self._lib, symbol):
                raise ArtifactRejected(f"compiled library has no {symbol}: it was not built by modelfleet")
        self._lib.modelfleet_abi.restype = ctypes.c_int32
        self._lib.get_num_feature.restype = ctypes.c_int32
        if self._lib.modelfleet_abi() != ABI:
            msg = f"compiled library has ABI {self._lib.modelfleet_abi()}, this modelfleet reads {ABI}"
            raise ArtifactRejected(msg)
        if self._lib.get_num_feature() != features:
            msg = f"compiled library reads {self._lib.get_num_feature()} features, the model file {features}"
            raise ArtifactRejected(msg)
        self._lib.modelfleet_predict.restype = ctypes.c_int32
        self._lib.modelfleet_predict.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int64,
            ctypes.c_int32,
            ctypes.c_void_p,
            ctypes.c_int32,
        ]
        self._lib.get_num_target.restype = ctypes.c_int32
        if self._lib.get_num_target() != 1:
            raise ArtifactRejected(f"compiled library predicts {self._lib.get_num_target()} targets, not one")
        classes = (ctypes.c_int32 * 1)()
        self._lib.get_num_class(classes)
        self.features, self.outputs = features, int(classes[0])  # outputs: 1, or a multiclass model's classes

    def predict(self, matrix: np.ndarray, num_threads: int = 0) -> np.ndarray:
        """Predictions of the rows of ``matrix`` (float64, one column per feature): one per row, or a row of
        class probabilities per row for a multiclass model, as ``Booster.predict`` gives them."""
        import numpy as np

        rows = np.ascontiguousarray(matrix, dtype="float64")
        if rows.ndim != 2 or rows.shape[1] != self.features:
            raise ValueError(f"expected a matrix of {self.features} columns, got shape {rows.shape}")
        out = np.empty((len(rows), self.outputs) if self.outputs > 1 else len(rows), dtype="float64")
        threads = num_threads or cpus.available()
        code = self._lib.modelfleet_predict(rows.ctypes.data, len(rows), self.features, out.ctypes.data, threads)
        if code == -2:
            raise MemoryError("the compiled library could not allocate its row blocks")
        if code != 0:
            raise ArtifactRejected(f"compiled library refused a matrix of shape {rows.shape}")
        return out


_LOADED: dict[str, tuple[ctypes.CDLL, int]] = {}  # by sha256: the library and its memfd, kept open (see _dlopen)


def _dlopen(data: bytes) -> ctypes.CDLL:
    """Load a library from exactly ``data``: from a sealed in-memory file where Linux has them (nothing on disk,
    no noexec /tmp in the way, and the bytes cannot change after the check), else from a private folder.

    The dynamic loader knows a library by its name, and hands back the one it already has for a name it has
    seen: so each memfd stays open for the life of the process (its /proc/self/fd name is never reused), and
    the same bytes are loaded once."""
    expected = hashlib.sha256(data).hexdigest()
    if expected in _LOADED:
        return _LOADED[expected][0]
    if hasattr(os, "memfd_create") and hasattr(fcntl, "F_ADD_SEALS"):
        fd = os.memfd_create("modelfleet-engine", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        try:
            left = memoryview(data)
            while left:
                left = left[os.write(fd, left) :]
            seals = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
            if hashlib.sha256(os.pread(fd, len(data) + 1, 0)).hexdigest() != expected:
                raise ArtifactRejected("compiled library changed on its way to the loader; refusing to load it")
            library = _load(f"/proc/self/fd/{fd}")
        except BaseException:
            os.close(fd)
            raise
        _LOADED[expected] = (library, fd)
        return library
    with tempfile.TemporaryDirectory(prefix="modelfleet-lib-") as folder:  # a new name each time; only we read it
        path = Path(folder) / "engine.so"
        path.write_bytes(data)
        if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
            raise ArtifactRejected("compiled library changed on its way to the loader; refusing to load it")
        library = _load(str(path))
    _LOADED[expected] = (library, -1)
    return library


def _load(path: str) -> ctypes.CDLL:
    try:
        return ctypes.CDLL(path, mode=os.RTLD_LOCAL)
    except OSError as exc:
        msg = f"compiled library cannot be loaded here ({str(exc).split(': ')[-1]})"
        raise ArtifactRejected(msg) from None


def verify(library: Library, record: dict[str, Any]) -> None:
    """ArtifactRejected unless ``library`` predicts the record's sample rows exactly as LightGBM did at build."""
    import numpy as np

    sample = record.get("sample") or {}
    try:
        rows = np.array([[float.fromhex(v) for v in row] for row in sample["rows"]], dtype="float64")
        expected = np.array([_from_hex(v) for v in sample["predictions"]], dtype="float64")
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ArtifactRejected("compiled library's record holds no readable check sample") from None
    shape = (len(rows), library.outputs) if library.outputs > 1 else (len(rows),)
    if rows.ndim != 2 or not len(rows) or expected.shape != shape or rows.shape[1] != library.features:
        raise ArtifactRejected("compiled library's record holds no readable check sample")
    _check_equal(expected, library.predict(rows), rows, "the predictions recorded when it was built")


def probe_rows(booster: Any, base: np.ndarray, levels: dict[int, int]) -> np.ndarray:
    """Rows that sit on each split threshold of ``booster`` (just below, on, just above it, and the same value
    with its low 32 bits all ones), plus each feature missing, zero, signed zero, tiny, infinite and huge, and
    every level of each categorical (``levels``: position -> level count); the other features from ``base``."""
    import numpy as np

    width = booster.num_feature()
    thresholds = split_thresholds(booster.model_to_string())
    zero = float(np.float32(1e-35))  # LightGBM reads a value within this of zero as 0.0
    special = [np.nan, 0.0, -0.0, zero, -zero, np.nextafter(zero, 1), -np.nextafter(zero, 1), np.inf, -np.inf]
    special += [1e300, -1e300, 1.0, -1.0]
    values: dict[int, list[float]] = {}
    for feature in range(width):
        if feature in levels:
            values[feature] = [float(code) for code in range(levels[feature])] + [np.nan]
            continue
        found = list(special)
        for t in thresholds.get(feature, ()):
            found += [np.nextafter(t, -np.inf), t, np.nextafter(t, np.inf), _low_bits_set(t)]
        values[feature] = found
    filler = base if len(base) else np.zeros((1, width))
    single = []
    for feature, options in values.items():
        block = filler[np.arange(len(options)) % len(filler)].copy()
        block[:, feature] = options
        single.append(block)
    rng = np.random.default_rng(0)
    mixed = filler[rng.integers(0, len(filler), size=2000)].copy()  # several features on a threshold at once
    for feature, options in values.items():
        mixed[:, feature] = np.asarray(options)[rng.integers(0, len(options), size=len(mixed))]
    return np.vstack([*single, mixed])


def split_thresholds(text: str) -> dict[int, list[float]]:
    """Each feature's numeric split thresholds in a LightGBM text model, exactly as the file writes them."""
    found: dict[int, set[float]] = {}
    features = thresholds = kinds = None
    for line in text.splitlines():
        if line.startswith("Tree="):
            features = thresholds = kinds = None
        elif line.startswith("split_feature="):
            features = [int(v) for v in line.split("=", 1)[1].split()]
        elif line.startswith("threshold="):
            thresholds = [float(v) for v in line.split("=", 1)[1].split()]
        elif line.startswith("decision_type="):
            kinds = [int(v) for v in line.split("=", 1)[1].split()]
        if features is not None and thresholds is not None and kinds is not None:
            for feature, threshold, kind in zip(features, thresholds, kinds, strict=True):
                if not kind & 1:  # bit 0 marks a categorical split, whose threshold is an index
                    found.setdefault(feature, set()).add(threshold)
            features = thresholds = kinds = None
    return {feature: sorted(values) for feature, values in found.items()}


def _low_bits_set(value: float) -> float:
    """``value`` with the low 32 bits of its double all ones: what tl2cgen's own test would take as missing."""
    bits = struct.unpack("<Q", struct.pack("<d", value))[0]
    return struct.unpack("<d", struct.pack("<Q", bits | 0xFFFFFFFF))[0]


def _from_hex(value: Any) -> Any:
    """A recorded prediction: a hex float, or a row of them (a multiclass model's probabilities)."""
    return [float.fromhex(v) for v in value] if isinstance(value, list) else float.fromhex(value)


def _to_hex(value: Any) -> Any:
    return [float(v).hex() for v in value] if getattr(value, "ndim", 0) else float(value).hex()


def _check_equal(expected: np.ndarray, got: np.ndarray, rows: np.ndarray, what: str) -> None:
    import numpy as np

    if expected.shape != got.shape:
        msg = f"compiled library predicts an array of shape {got.shape}; {what} has {expected.shape}"
        raise ArtifactRejected(msg)
    wrong = expected.view("uint64") != got.view("uint64")
    differ = np.flatnonzero(wrong.reshape(len(expected), -1).any(axis=1))
    if len(differ):
        first = differ[0]
        msg = (
            f"compiled library predicts {len(differ)} of {len(rows)} check rows differently from {what} (row "
            f"{first}: {got[first].tolist()!r}, expected {expected[first].tolist()!r})"
        )
        raise ArtifactRejected(msg)


def _compile(booster: Any, folder: Path, cc: str) -> Path:
    """Generate C for ``booster`` in ``folder``, make its missing-value tests NaN tests, add the batch entry
    point and build ``folder/engine.so``."""
    import contextlib
    import io
    from concurrent.futures import ThreadPoolExecutor

    import tl2cgen
    import treelite

    trees = booster.num_trees()
    units = max(1, min(256, -(-trees // TREES_PER_UNIT)))
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter):  # treelite and tl2cgen print their log lines
        model = treelite.frontend.from_lightgbm(booster)
        tl2cgen.generate_c_code(model, str(folder), params={"parallel_comp": units} if units > 1 else {})
    if chatter.getvalue().strip():
        log.debug("tl2cgen: %s", chatter.getvalue().strip())
    sources = sorted(folder.glob("*.c"))
    for source in sources:
        source.write_text(_nan_tests(source.read_text(), source.name))
    finish, body = _batch_body((folder / "main.c").read_text())
    values = {"abi": ABI, "features": max(1, booster.num_feature()), "units": finish, "body": body}
    (folder / "modelfleet_batch.c").write_text(BATCH_C % values)
    sources.append(folder / "modelfleet_batch.c")

    def build_one(source: Path) -> Path:
        target = source.with_suffix(".o")
        _run([cc, *FLAGS, "-c", str(source), "-o", str(target)])
        return target

    with ThreadPoolExecutor(max_workers=cpus.available()) as pool:
        objects = list(pool.map(build_one, sources))
    faults.point("build")
    library = folder / "engine.so"
    _run([cc, "-shared", "-fopenmp", "-o", str(library), *map(str, objects), "-lm"])
    return library


def _nan_tests(code: str, name: str) -> str:
    """tl2cgen's C with each missing-value test (``data[k].missing != -1``, which reads the low 32 bits of a
    double) made a NaN test; ArtifactRejected if any other use of ``missing`` is left."""
    rewritten = re.sub(r"data\[(\d+)\]\.missing != -1", r"!isnan(data[\1].fvalue)", code)
    if ".missing" in rewritten:
        raise ArtifactRejected(f"tl2cgen generated a missing-value test modelfleet cannot rewrite ({name})")
    return rewritten


def _batch_body(main: str) -> tuple[str, str]:
    """The batch loop's body for tl2cgen's ``main.c``: each group of trees (``predict_unitK``) over the block, then
    the rest of ``predict`` (base score, link function) per row; or ``predict`` per row when ``main.c`` does not
    have that shape."""
    per_row = "    for (int64_t r = 0; r < n; ++r) predict(entries + r * cols, 0, result + r * OUTPUTS);"
    found = re.search(r"void predict\(union Entry\* data, int pred_margin, double\* result\) \{\n(.*?)\n\}", main, re.S)
    if found is None:
        return "", per_row
    lines = [line.strip() for line in found.group(1).splitlines() if line.strip()]
    calls = [line for line in lines if re.fullmatch(r"predict_unit\d+\(data, result\);", line)]
    if lines[:1] != ["unsigned int tmp;"] or not calls or lines[1 : 1 + len(calls)] != calls:
        return "", per_row
    if calls != [f"predict_unit{k}(data, result);" for k in range(len(calls))]:
        return "", per_row
    tail = lines[1 + len(calls) :]
    if any("data" in line or "predict" in line for line in tail):
        return "", per_row
    finish = "static void finish(double* result) {\n  const int pred_margin = 0;\n  " + "\n  ".join(tail) + "\n}\n"
    loop = "    for (int64_t r = 0; r < n; ++r) "
    loops = [f"{loop}predict_unit{k}(entries + r * cols, result + r * OUTPUTS);" for k in range(len(calls))]
    loops.append(f"{loop}finish(result + r * OUTPUTS);")
    return finish, "\n".join(loops)


def _run(command: list[str]) -> None:
    import subprocess

    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ConfigError(f"the C compiler failed ({Path(command[0]).name}: {first}); nothing was built")


def _compiler_version(cc: str) -> str:
    import subprocess

    done = subprocess.run([cc, "--version"], capture_output=True, text=True, check=False)
    return (done.stdout.strip().splitlines() or ["unknown"])[0]
