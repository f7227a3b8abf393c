"""Vectorised batch rewards vs the slow loop reference of the tests, timed in one run.

    python benchmarks/bench_rewards.py [--sizes 32 128 512 2048] [--k 4] [--threads 1]

For each batch of N images x K outputs it prints the median time of ``rank_reward`` (the O(N^2 K)
term), of the whole RAPO reward (``error+rank``) and of the loop reference, their ratio, and the
growth of the fast time from one size to the next (x16 per x4 in N is the O(N^2) regime).
A last line times a *converged* batch (predictions within ~0.01 of the labels, tiny spreads): there
Eq. 3's arguments are huge and, uncapped, float32 erfc/sqrt would run on denormals.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from reward_fns import RewardSpec, compute_rewards, rank_reward

_REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "reward_fns" / "slow_rewards.py"


def _load_reference():
    spec = importlib.util.spec_from_file_location("slow_rewards", _REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 128, 512, 2048], help="numbers of images N")
    parser.add_argument("--k", type=int, default=4, help="outputs per image (the paper's K)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1 = one CPU core)")
    parser.add_argument("--repeats", type=int, default=20, help="timed repeats of the fast path")
    parser.add_argument("--loop-max-n", type=int, default=2048, help="skip the loop reference above this N")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    slow = _load_reference()
    spec = RewardSpec.parse("error+rank")
    rng = np.random.default_rng(0)

    print(f"K={args.k}, torch threads={args.threads}; times are medians")
    print(f"{'N':>6} {'rank fast':>11} {'RAPO fast':>11} {'loop ref':>11} {'speed-up':>9} {'growth':>7}")
    previous = None
    for n in args.sizes:
        preds = rng.uniform(0, 1, (n, args.k))
        valid = rng.uniform(size=(n, args.k)) > 0.05  # a few parse failures, as in real batches
        gt = rng.uniform(0, 1, n)
        fast = _median_seconds(lambda: rank_reward(preds, valid, gt), args.repeats)
        rapo = _median_seconds(lambda: compute_rewards(spec, preds, valid, gt), args.repeats)
        if n <= args.loop_max_n:
            loop = _median_seconds(lambda: slow.rank_reward_loop(preds, valid, gt), 1 if n > 128 else 3)
            loop_text, ratio_text = f"{loop * 1e3:9.1f}ms", f"{loop / fast:8.0f}x"
        else:
            loop_text, ratio_text = f"{'skipped':>11}", f"{'-':>9}"
        growth = f"{fast / previous[1]:6.1f}x" if previous else f"{'':>7}"
        print(f"{n:>6} {fast * 1e3:9.2f}ms {rapo * 1e3:9.2f}ms {loop_text} {ratio_text} {growth}")
        previous = (n, fast)
    n = max(args.sizes)
    gt = rng.uniform(0, 1, n)
    preds = gt[:, None] + rng.normal(0, 0.01, (n, args.k))
    converged = _median_seconds(lambda: rank_reward(preds, np.ones_like(preds, dtype=bool), gt), args.repeats)
    print(f"converged batch, N={n}: rank fast {converged * 1e3:.2f}ms")


if __name__ == "__main__":
    main()
