"""Baseline for the scoring benchmarks: read the whole file, predict, write the whole file (no streaming).

The same model code as `modelfleet churn score`, called on one DataFrame holding the whole input.
Usage: score_whole_file.py DATA VERSION OUT (the store comes from $MODELFLEET_STORE)
"""

import sys

import pandas as pd

from models.churn import Churn


def main(data: str, version: str, out: str) -> None:
    frame = pd.read_parquet(data)
    predictions = Churn().score(frame, version=version)["predictions"]
    predictions.to_parquet(out, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:4])
