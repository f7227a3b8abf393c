"""How long the metrics of one AVA-sized benchmark take, bootstrap included.

AVA's test split has ~20K images (the largest of the five). Reported: seconds per metric for the point
estimate and for the bootstrap interval, and their ratio (the bootstrap's cost in point estimates).

    python benchmarks/bench_eval_metrics.py --n 20000 --resamples 200
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from recipe.aesr1.evaluation.bootstrap import bootstrap_ci
from recipe.aesr1.evaluation.metrics import METRICS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20000, help="images in the benchmark")
    parser.add_argument("--resamples", type=int, default=200, help="bootstrap resamples (reports use 1000)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    label = rng.uniform(0, 1, args.n)
    pred = np.clip(label + rng.normal(0, 0.2, args.n), 0, 1).round(2)  # two decimals, as the model answers
    print(f"n={args.n} resamples={args.resamples}")
    print(f"{'metric':<14} {'point s':>9} {'bootstrap s':>12} {'ratio':>8} {'per 1000 resamples s':>21}")
    for name, metric in METRICS.items():
        start = time.perf_counter()
        metric(pred, label)
        point = time.perf_counter() - start
        start = time.perf_counter()
        bootstrap_ci(pred, label, metric, n_resamples=args.resamples)
        boot = time.perf_counter() - start
        print(f"{name:<14} {point:9.4f} {boot:12.2f} {boot / point:8.0f} {boot * 1000 / args.resamples:21.1f}")


if __name__ == "__main__":
    main()
