"""CLI start-up: `modelfleet --help` and `modelfleet churn --help` against `python -c "import fire"`.

Runs the three commands interleaved, many times, in this one run, and prints the median wall time of each
and its ratio to the baseline (these machines are noisy: only ratios measured side by side mean anything).
Target: <= 1.5x. Usage: python benchmarks/startup.py [--runs N]
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET = 1.5


def wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    script = shutil.which("modelfleet") or str(Path(sys.executable).with_name("modelfleet"))
    cases = {
        "python -c 'import fire' (baseline)": [sys.executable, "-c", "import fire"],
        "modelfleet --help": [script, "--help"],
        "modelfleet churn --help": [script, "churn", "--help"],
    }
    for argv in cases.values():
        wall(argv)  # warm the page cache
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, argv in cases.items():
            times[name].append(wall(argv))
    base = statistics.median(next(iter(times.values())))
    print("| command | median s | ratio to baseline | target |\n|---|---|---|---|")
    worst = 0.0
    for name, samples in times.items():
        ratio = statistics.median(samples) / base
        worst = max(worst, ratio)
        print(f"| {name} | {statistics.median(samples):.3f} | {ratio:.2f}x | <= {TARGET}x |")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
