"""CLI start-up: `modelfleet --help` and `modelfleet churn --help` against `python -c "import fire"`.

Runs the three commands interleaved, many times, in this one run, and prints the median wall time of each
and its ratio to the baseline (these machines are noisy: only ratios measured side by side mean anything).
Target: <= 1.5x. Usage: python benchmarks/startup.py [--runs N]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET = 1.5
# Measure Python as installed: bytecode cached after the warm-up run (PYTHONDONTWRITEBYTECODE would make
# every run compile every module from source, which no installed application does).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=ENV)
    return time.perf_counter() - start


def cases() -> dict[str, list[str]]:
    """The commands timed: the baseline first."""
    script = shutil.which("modelfleet") or str(Path(sys.executable).with_name("modelfleet"))
    return {
        "python -c 'import fire' (baseline)": [sys.executable, "-c", "import fire"],
        "modelfleet --help": [script, "--help"],
        "modelfleet churn --help": [script, "churn", "--help"],
    }


def medians(runs: int) -> dict[str, float]:
    """Median wall time of each case over ``runs`` interleaved rounds (after one warm-up round)."""
    commands = cases()
    for argv in commands.values():
        wall(argv)  # warm the page cache
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(wall(argv))
    return {name: statistics.median(samples) for name, samples in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    measured = medians(parser.parse_args().runs)
    base = next(iter(measured.values()))
    print("| command | median s | ratio to baseline | target |\n|---|---|---|---|")
    worst = 0.0
    for name, median in measured.items():
        worst = max(worst, median / base)
        print(f"| {name} | {median:.3f} | {median / base:.2f}x | <= {TARGET}x |")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
