"""Predict throughput per engine on one prepared matrix: `Booster.predict` vs the compiled library.

Both read the same float64 matrix (the input's features, prepared as `score` prepares them) with the same
thread count, interleaved, and must give the same predictions bit for bit. Prints one JSON line: each
engine's median seconds, the rows and the threads.
Usage: predict_engines.py DATA VERSION [REPEATS] (the store comes from $MODELFLEET_STORE)
"""

import json
import statistics
import sys
import time

import numpy as np
import pandas as pd

from models.churn import Churn
from shared.estimators.matrix import matrix
from shared.process import cpus
from shared.storage import artifacts


def main(data: str, version: str, repeats: int = 5) -> None:
    model = Churn()
    booster = artifacts.load(model, version, "lightgbm")
    library = artifacts.load(model, version, "compiled")
    features, _ = booster.schema.prepare(pd.read_parquet(data, columns=booster.schema.columns))
    rows = matrix(features)
    threads = cpus.available()
    times: dict[str, list[float]] = {"lightgbm": [], "compiled": []}
    out: dict[str, np.ndarray] = {}
    for _ in range(repeats):
        for name, loaded in (("lightgbm", booster), ("compiled", library)):
            start = time.perf_counter()
            out[name] = loaded.fitted.predict(rows, num_threads=threads)
            times[name].append(time.perf_counter() - start)
    same = bool(np.array_equal(out["lightgbm"].view("uint64"), out["compiled"].view("uint64")))
    medians = {name: statistics.median(samples) for name, samples in times.items()}
    print(json.dumps({"seconds": medians, "rows": len(rows), "threads": threads, "identical": same}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *map(int, sys.argv[3:4]))
