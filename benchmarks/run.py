"""modelfleet's benchmark suite: one table of ratios, each against a baseline measured side by side in this run.

1. CLI start: `modelfleet --help`, `modelfleet churn --help` vs `python -c "import fire"`     target <= 1.5x
2. Train: `modelfleet churn train` on 1M rows vs the same job written against LightGBM     target <= 1.05x
3. Score throughput: streaming `score` vs read whole file, predict, write whole file        target >= 0.9x rows/s
4. Score memory: peak RSS of streaming on 10M rows vs the whole-file baseline               target <= 0.25x
   and streaming at 10M rows vs streaming at 1M rows                                        target <= 1.2x
5. Shards: two shards side by side vs one unsharded run on this machine                     speed-up reported
6. Gate: `train --promote --against=champion` (paired bootstrap) vs the same plain `train`   target <= 2x
7. Drift: `score` with its drift verdict (the default) vs `--on_drift=off`, 1M rows         target <= 1.05x
   and peak RSS at 10M rows with the verdict vs without it                                  target <= 1.05x
8. Engines: the compiled library vs LightGBM, each scoring the same 200-tree version
   a. predict on one prepared 1M-row matrix, same threads, bit-identical                    target >= 2.5x
   b. `score` 1M rows end to end, --engine=compiled vs lightgbm, files byte-identical       target >= 1.8x
   c. `score` 10M rows end to end, the same                                                 reported
   d. a scoring process's start to its first batch (`score` of one 1,000-row file), against
      --engine=lightgbm and against LightGBM imported with scikit-learn as before            reported
   e. what building the library adds to `train` on 1M rows (--compile=on vs off)           reported
9. Signed versions: a scoring process's start to its first batch of a signed version with a verify key
   (manifest and library record verified, cryptography imported) vs the same without one   target <= 1.1x

Row 2 trains with --compile=off, as the hand-written LightGBM job has nothing to compile; row 8e is that cost.

Every measurement runs the real entry point in a subprocess (peak RSS from the kernel's accounting of that
process). Timed pairs run interleaved and report medians, because these machines are noisy. Data is
generated once into --workdir and reused. Usage: python benchmarks/run.py [--quick] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import startup

HERE = Path(__file__).resolve().parent
GROUP_ROWS = 100_000  # row groups of the 1M-row scoring input (scaled with --quick): the unit a shard takes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "modelfleet-bench")
    parser.add_argument("--quick", action="store_true", help="10x fewer rows and fewer repeats: a smoke run")
    parser.add_argument("--repeats", type=int, help="runs of each timed pair (median; default 5, 1 with --quick)")
    parser.add_argument("--only", type=int, nargs="*", help="run only these measurements (by number), e.g. 8")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    repeats = args.repeats or (1 if args.quick else 5)
    bench = Bench(args.workdir, train_rows=1_000_000 // scale, big_rows=10_000_000 // scale)
    bench.prepare()
    measurements = {
        1: lambda: bench.startup(runs=5 if args.quick else 20),
        2: lambda: [bench.train(repeats)],
        3: lambda: [bench.throughput(repeats)],
        4: bench.memory,
        5: lambda: [bench.shards(repeats)],
        6: lambda: [bench.gate(repeats)],
        7: lambda: bench.drift(repeats),
        8: lambda: bench.engines(repeats),
        9: lambda: [bench.signed(repeats)],
    }
    rows = [
        row for number, measure in measurements.items() if not args.only or number in args.only for row in measure()
    ]
    print(machine())
    print("| # | measurement | modelfleet | baseline | ratio | target | holds |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row[:-1]) + f" | {'yes' if row[-1] else 'NO'} |")
    return 0 if all(row[-1] for row in rows) else 1


class Bench:
    """The data, the store and the runs; every path lives under ``workdir``."""

    def __init__(self, workdir: Path, train_rows: int, big_rows: int) -> None:
        self.dir = workdir
        self.train_rows, self.big_rows = train_rows, big_rows
        self.small_rows = big_rows // 10
        clean = {k: v for k, v in startup.ENV.items() if not k.startswith("MODELFLEET_")}  # no stray settings
        self.env = {**clean, "MODELFLEET_STORE": str(workdir / "store"), "MODELFLEET_LOG_LEVEL": "WARNING"}
        self.cli = shutil.which("modelfleet") or str(Path(sys.executable).with_name("modelfleet"))

    def path(self, name: str) -> str:
        return str(self.dir / name)

    def prepare(self) -> None:
        """Generate the training file and the scoring inputs (once), and commit the models scored."""
        import pyarrow.parquet as pq

        self.dir.mkdir(parents=True, exist_ok=True)
        train = self.path(f"train-{self.train_rows}.parquet")
        if not os.path.exists(train):
            self.run_ok("churn", "sample", f"--rows={self.train_rows}", f"--output={train}")
        for rows in (self.small_rows, self.big_rows):
            target = self.path(f"score-{rows}.parquet")
            if os.path.exists(target):
                continue
            block = pq.read_table(train).drop_columns(["churned"]).slice(0, min(rows, self.train_rows))
            with pq.ParquetWriter(target + ".tmp", block.schema) as writer:
                for _ in range(rows // block.num_rows):
                    writer.write_table(block, row_group_size=GROUP_ROWS * self.small_rows // 1_000_000)
            os.replace(target + ".tmp", target)
        first = self.path("score-first-batch.parquet")
        if not os.path.exists(first):
            pq.write_table(pq.read_table(train).drop_columns(["churned"]).slice(0, 1000), first)
        # the model that scoring runs use: 200 trees (the default), and a 20-tree one for the memory runs; each
        # with its compiled library (the engines rows compare both engines on the same version)
        self.run_ok("churn", "train", f"--data={train}", "--run_id=bench-default", "--compile=on")
        self.run_ok("churn", "train", f"--data={train}", "--run_id=bench-small", "--n_estimators=20", "--compile=on")

    def run_ok(self, *args: str, cli: bool = True) -> None:
        done = subprocess.run([self.cli, *args] if cli else list(args), env=self.env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"modelfleet {' '.join(args)} failed ({done.returncode}): {done.stderr[-400:]}")

    def measure(self, argv: list[str]) -> tuple[float, float]:
        """Run ``argv``; return its wall seconds and its peak resident memory in MiB."""
        with tempfile.TemporaryFile() as errors:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL, stderr=errors)
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            if os.waitstatus_to_exitcode(status):
                errors.seek(0)
                raise SystemExit(f"{' '.join(argv)} failed: {errors.read()[-400:].decode(errors='replace')}")
        return seconds, usage.ru_maxrss / 1024

    def paired(self, ours: list[str], baseline: list[str], repeats: int) -> tuple[float, float]:
        """Median wall seconds of two commands run interleaved ``repeats`` times."""
        times: tuple[list[float], list[float]] = ([], [])
        for _ in range(repeats):
            for samples, argv in zip(times, (ours, baseline), strict=True):
                samples.append(self.measure(argv)[0])
        return statistics.median(times[0]), statistics.median(times[1])

    # -- the five measurements ---------------------------------------------------------------------

    def startup(self, runs: int) -> list[tuple]:
        medians = startup.medians(runs)
        base = next(iter(medians.values()))
        return [
            (
                "1",
                f"start: `{name}`",
                f"{t * 1000:.0f} ms",
                f"{base * 1000:.0f} ms (import fire)",
                f"{t / base:.2f}x",
                "<= 1.5x",
                t / base <= 1.5,
            )
            for name, t in list(medians.items())[1:]
        ]

    def train(self, repeats: int) -> tuple:
        data = self.path(f"train-{self.train_rows}.parquet")
        run_id = f"bench-{time.time_ns()}"
        ours = [self.cli, "churn", "train", f"--data={data}", "--compile=off", f"--run_id={run_id}"]
        baseline = [
            sys.executable,
            str(HERE / "baselines" / "train_lightgbm.py"),
            data,
            self.path("baseline-model.txt"),
        ]
        times: tuple[list[float], list[float]] = ([], [])
        for i in range(repeats):
            ours[-1] = f"--run_id={run_id}-{i}"  # a new version each time, so every run trains
            for samples, argv in zip(times, (ours, baseline), strict=True):
                samples.append(self.measure(argv)[0])
        t, b = statistics.median(times[0]), statistics.median(times[1])
        return (
            "2",
            f"train {self.train_rows:,} rows, wall time",
            f"{t:.1f} s",
            f"{b:.1f} s (LightGBM by hand)",
            f"{t / b:.3f}x",
            "<= 1.05x",
            t / b <= 1.05,
        )

    def throughput(self, repeats: int) -> tuple:
        data, rows = self.path(f"score-{self.small_rows}.parquet"), self.small_rows
        ours = self.score_argv(data, "bench-default", "--output=" + self.path("stream.parquet"))
        baseline = [
            sys.executable,
            str(HERE / "baselines" / "score_whole_file.py"),
            data,
            "bench-default",
            self.path("whole.parquet"),
        ]
        t, b = self.paired(ours, baseline, repeats)
        return (
            "3",
            f"score {rows:,} rows, rows/s",
            f"{rows / t:,.0f}/s",
            f"{rows / b:,.0f}/s (whole file)",
            f"{b / t:.2f}x",
            ">= 0.9x",
            b / t >= 0.9,
        )

    def memory(self) -> list[tuple]:
        small, big = self.path(f"score-{self.small_rows}.parquet"), self.path(f"score-{self.big_rows}.parquet")
        _, stream_small = self.measure(self.score_argv(small, "bench-small", "--output=" + self.path("m1.parquet")))
        _, stream_big = self.measure(self.score_argv(big, "bench-small", "--output=" + self.path("m2.parquet")))
        whole_argv = [
            sys.executable,
            str(HERE / "baselines" / "score_whole_file.py"),
            big,
            "bench-small",
            self.path("m3.parquet"),
        ]
        _, whole_big = self.measure(whole_argv)
        return [
            (
                "4a",
                f"score {self.big_rows:,} rows, peak RSS",
                f"{stream_big:,.0f} MiB",
                f"{whole_big:,.0f} MiB (whole file)",
                f"{stream_big / whole_big:.2f}x",
                "<= 0.25x",
                stream_big / whole_big <= 0.25,
            ),
            (
                "4b",
                f"streaming peak RSS, {self.big_rows:,} vs {self.small_rows:,} rows",
                f"{stream_big:,.0f} MiB",
                f"{stream_small:,.0f} MiB",
                f"{stream_big / stream_small:.2f}x",
                "<= 1.2x",
                stream_big / stream_small <= 1.2,
            ),
        ]

    def shards(self, repeats: int) -> tuple:
        """Two shards side by side, each pinned to its own core like a 1-CPU pod, vs one unsharded run."""
        data, rows = self.path(f"score-{self.small_rows}.parquet"), self.small_rows
        whole = self.score_argv(data, "bench-default", "--output=" + self.path("unsharded.parquet"))
        parts = [
            self.score_argv(data, "bench-default", "--output=" + self.path("parts"), f"--shard={k}/2") for k in range(2)
        ]
        cores = sorted(os.sched_getaffinity(0))
        single, side_by_side = [], []
        for _ in range(repeats):
            single.append(self.measure(whole)[0])
            start = time.perf_counter()
            procs = [
                subprocess.Popen(
                    argv,
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    preexec_fn=pinned(cores[k % len(cores)]),
                )
                for k, argv in enumerate(parts)
            ]
            if any(p.wait() for p in procs):
                raise SystemExit("a shard failed")
            side_by_side.append(time.perf_counter() - start)
        t, b = statistics.median(side_by_side), statistics.median(single)
        return (
            "5",
            f"score {rows:,} rows as 2 shards side by side (one core each)",
            f"{t:.1f} s",
            f"{b:.1f} s (unsharded, {len(cores)} cores)",
            f"{b / t:.2f}x speed-up",
            "reported",
            True,
        )

    def gate(self, repeats: int) -> tuple:
        """The gate's cost inside train: the holder loaded and measured on the held-out rows, and 1000 paired
        bootstrap resamples of them, against the same train without it."""
        data = self.path(f"train-{self.train_rows}.parquet")
        self.run_ok("churn", "promote", "--alias=bench-champion", "--version=bench-default")
        run_id = f"bench-gate-{time.time_ns()}"
        plain = [self.cli, "churn", "train", f"--data={data}"]
        gated = [*plain, "--promote=bench-candidate", "--against=bench-champion"]
        times: tuple[list[float], list[float]] = ([], [])
        for i in range(repeats):
            for k, (samples, argv) in enumerate(zip(times, (gated, plain), strict=True)):
                samples.append(self.measure([*argv, f"--run_id={run_id}-{i}-{k}"])[0])
        t, b = statistics.median(times[0]), statistics.median(times[1])
        held_out = self.train_rows // 5
        return (
            "6",
            f"train {self.train_rows:,} rows with the gate ({held_out:,} held-out rows, 1000 resamples)",
            f"{t:.1f} s",
            f"{b:.1f} s (plain train)",
            f"{t / b:.3f}x",
            "<= 2x",
            t / b <= 2.0,
        )

    def drift(self, repeats: int) -> list[tuple]:
        """Scoring with the drift tally in every batch and the verdict at the end, against the same run with
        --on_drift=off: wall time on 1M rows (interleaved), and peak RSS on 10M rows (20-tree model)."""
        data, rows = self.path(f"score-{self.small_rows}.parquet"), self.small_rows
        on = self.score_argv(data, "bench-default", "--output=" + self.path("drift-on.parquet"))
        off = self.score_argv(data, "bench-default", "--output=" + self.path("drift-off.parquet"), "--on_drift=off")
        t, b = self.paired(on, off, repeats)
        big = self.path(f"score-{self.big_rows}.parquet")
        _, rss_on = self.measure(self.score_argv(big, "bench-small", "--output=" + self.path("d1.parquet")))
        _, rss_off = self.measure(
            self.score_argv(big, "bench-small", "--output=" + self.path("d2.parquet"), "--on_drift=off")
        )
        return [
            (
                "7a",
                f"score {rows:,} rows with the drift verdict, wall time",
                f"{t:.2f} s",
                f"{b:.2f} s (--on_drift=off)",
                f"{t / b:.3f}x",
                "<= 1.05x",
                t / b <= 1.05,
            ),
            (
                "7b",
                f"score {self.big_rows:,} rows with the drift verdict, peak RSS",
                f"{rss_on:,.0f} MiB",
                f"{rss_off:,.0f} MiB (--on_drift=off)",
                f"{rss_on / rss_off:.2f}x",
                "<= 1.05x",
                rss_on / rss_off <= 1.05,
            ),
        ]

    def engines(self, repeats: int) -> list[tuple]:
        """The compiled engine against LightGBM's on the same version: predict alone, `score` end to end on 1M
        and 10M rows (the prediction files must be byte-identical), a process's start, and the build's cost."""
        import filecmp
        import json

        small, big = self.path(f"score-{self.small_rows}.parquet"), self.path(f"score-{self.big_rows}.parquet")
        script = [sys.executable, str(HERE / "predict_engines.py"), small, "bench-default", str(repeats)]
        done = subprocess.run(script, env=self.env, capture_output=True, text=True, check=True)
        predicted = json.loads(done.stdout)
        lgb, ours = predicted["seconds"]["lightgbm"], predicted["seconds"]["compiled"]
        rows = [
            (
                "8a",
                f"predict {predicted['rows']:,} prepared rows, {predicted['threads']} threads each",
                f"{ours:.2f} s",
                f"{lgb:.2f} s (Booster.predict)",
                f"{lgb / ours:.2f}x faster",
                ">= 2.5x, bit-identical",
                lgb / ours >= 2.5 and predicted["identical"],
            )
        ]
        for label, data, target in (("8b", small, 1.8), ("8c", big, None)):
            outs = {engine: self.path(f"engine-{engine}.parquet") for engine in ("compiled", "lightgbm")}
            argv = {
                e: self.score_argv(data, "bench-default", f"--output={o}", f"--engine={e}") for e, o in outs.items()
            }
            t, b = self.paired(argv["compiled"], argv["lightgbm"], repeats if target else 1)
            same = filecmp.cmp(outs["compiled"], outs["lightgbm"], shallow=False)
            rows.append(
                (
                    label,
                    f"score {self.small_rows if target else self.big_rows:,} rows end to end",
                    f"{t:.1f} s",
                    f"{b:.1f} s (--engine=lightgbm)",
                    f"{b / t:.2f}x faster",
                    f">= {target}x, files identical" if target else "reported, files identical",
                    (b / t >= target if target else True) and same,
                )
            )
        rows += self.first_batch(repeats)
        data = self.path(f"train-{self.train_rows}.parquet")
        run_id = f"bench-compile-{time.time_ns()}"
        on = [self.cli, "churn", "train", f"--data={data}", "--compile=on", f"--run_id={run_id}-on"]
        off = [self.cli, "churn", "train", f"--data={data}", "--compile=off", f"--run_id={run_id}-off"]
        t, b = self.measure(on)[0], self.measure(off)[0]
        rows.append(
            (
                "8e",
                f"train {self.train_rows:,} rows with the library built and checked",
                f"{t:.1f} s",
                f"{b:.1f} s (--compile=off)",
                f"+{t - b:.1f} s ({t / b:.2f}x)",
                "reported",
                True,
            )
        )
        return rows

    def first_batch(self, repeats: int) -> list[tuple]:
        """A scoring process from its start to its first (and only) batch of 1,000 rows: with the compiled engine,
        with LightGBM's, and as before this release (LightGBM imported with scikit-learn)."""
        first = self.path("score-first-batch.parquet")
        out = f"--output={self.path('f.parquet')}"
        compiled = self.score_argv(first, "bench-default", out, "--engine=compiled")
        lgb = self.score_argv(first, "bench-default", out, "--engine=lightgbm")
        before = [sys.executable, "-c", BEFORE, *lgb[1:]]
        rows = []
        for name, baseline in (("--engine=lightgbm", lgb), ("LightGBM with scikit-learn, as before", before)):
            t, b = self.paired(compiled, baseline, repeats * 2)
            rows.append(
                (
                    "8d",
                    "a scoring process's start to its first batch (1,000 rows)",
                    f"{t:.2f} s",
                    f"{b:.2f} s ({name})",
                    f"{b / t:.2f}x faster",
                    "reported",
                    True,
                )
            )
        return rows

    def signed(self, repeats: int) -> tuple:
        """A scoring process's start to its first batch of a signed version (its manifest and its library's record
        verified, cryptography imported), against the same run without a verify key."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        private, public = self.path("signing.pem"), self.path("verify.pem")
        key, pem, none = Ed25519PrivateKey.generate(), serialization.Encoding.PEM, serialization.NoEncryption()
        Path(private).write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, none))
        Path(public).write_bytes(key.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo))
        train = self.path(f"train-{self.train_rows}.parquet")
        run_id = f"bench-signed-{uuid.uuid4().hex[:8]}"  # a new key each run: a new version signed with it
        self.run_ok("env", f"MODELFLEET_SIGNING_KEY_FILE={private}", self.cli, "churn", "train", f"--data={train}",
                    f"--run_id={run_id}", "--compile=on", cli=False)  # fmt: skip
        argv = self.score_argv(self.path("score-first-batch.parquet"), run_id, f"--output={self.path('s.parquet')}")
        verified = ["env", f"MODELFLEET_VERIFY_KEY_FILE={public}", *argv, "--engine=compiled"]
        plain = ["env", *argv, "--engine=compiled"]
        t, b = self.paired(verified, plain, repeats * 2)
        return (
            "9",
            "a scoring process's start to its first batch (1,000 rows), signatures verified",
            f"{t:.2f} s",
            f"{b:.2f} s (no verify key)",
            f"{t / b:.3f}x",
            "<= 1.1x",
            t / b <= 1.1,
        )

    def score_argv(self, data: str, version: str, *extra: str) -> list[str]:
        return [self.cli, "churn", "score", f"--data={data}", f"--version={version}", *extra]


# `modelfleet` as it started before this release: LightGBM imported with scikit-learn (which is imported first).
BEFORE = "import sys, sklearn; from dispatch.cli import main; sys.argv[0] = 'modelfleet'; raise SystemExit(main())"


def pinned(core: int):
    """A child-process hook that pins the child to one core (a 1-CPU pod, as far as LightGBM can tell)."""
    return lambda: os.sched_setaffinity(0, {core})


def machine() -> str:
    """One line naming the machine the table was measured on."""
    import lightgbm

    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"Measured on {os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, LightGBM {lightgbm.__version__}\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
