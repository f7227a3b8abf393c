"""Vectorised batch rewards vs the slow loop reference of the tests, timed in one run, quiet and loaded.

    python benchmarks/bench_rewards.py [--sizes 32 128 512 2048] [--k 4] [--threads N] [--load-n 512]

Part 1 (quiet machine): for each batch of N images x K outputs, the median time of ``rank_reward`` (the
O(N^2 K) term), of the whole RAPO reward (``error+rank``) and of the loop reference, their ratio, and the
growth of the fast time from one size to the next (x16 per x4 in N is the O(N^2) regime). A line then
times a *converged* batch (predictions within ~0.01 of the labels, tiny spreads): there Eq. 3's arguments
are huge and, uncapped, float32 erfc/sqrt would run on denormals.

Part 2 (busy machine): ``rank_reward`` at N = ``--load-n`` with torch's default thread count and with the
RAPO hook's policy (``recipe/aesr1/rapo/scope.py: BATCH_TERM_THREADS``), on the quiet machine and while this script
keeps every core busy with spinning processes of its own (what Ray actors do next to verl's driver), each
as a ratio to the loop reference timed in the same condition, and as loaded/quiet. The machine may be
busy with other work too: compare the ratios of one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing as mp
import os
import statistics
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
import torch

from recipe.aesr1.rapo.scope import BATCH_TERM_THREADS, torch_threads
from reward_fns import RewardSpec, compute_rewards, rank_reward

_REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "reward_fns" / "slow_rewards.py"


def _load_reference():
    spec = importlib.util.spec_from_file_location("slow_rewards", _REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _seconds(fn, repeats: int) -> list[float]:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _median_seconds(fn, repeats: int) -> float:
    return statistics.median(_seconds(fn, repeats))


def _spin(stop) -> None:
    """Busy-loop until ``stop`` is set: one process keeps one core at 100%."""
    while not stop.is_set():
        for _ in range(10_000):
            pass


@contextmanager
def cpu_load(processes: int):
    """``processes`` spinning processes for the duration of the block (0: no load)."""
    stop = mp.Event()
    workers = [mp.Process(target=_spin, args=(stop,), daemon=True) for _ in range(processes)]
    for worker in workers:
        worker.start()
    time.sleep(0.5)  # let them reach the scheduler before timing
    try:
        yield
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()


def quiet_table(args, slow) -> None:
    spec = RewardSpec.parse("error+rank")
    rng = np.random.default_rng(0)
    print(f"K={args.k}, torch threads={torch.get_num_threads()}; times are medians")
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


def load_table(args, slow) -> None:
    rng = np.random.default_rng(1)
    n = args.load_n
    preds = rng.uniform(0, 1, (n, args.k))
    valid = rng.uniform(size=(n, args.k)) > 0.05
    gt = rng.uniform(0, 1, n)
    policies = {f"torch default ({torch.get_num_threads()} threads)": nullcontext,
                f"hook policy ({BATCH_TERM_THREADS} thread)": lambda: torch_threads(BATCH_TERM_THREADS)}
    load = args.load_processes if args.load_processes is not None else os.cpu_count() or 1
    loaded = f"loaded ({load} spinning processes)"
    samples: dict[tuple[str, str], list[float]] = {}
    # Quiet and loaded blocks alternate, so that other work on a shared machine weighs on both alike.
    for _ in range(args.load_rounds):
        for condition, processes in (("quiet", 0), (loaded, load)):
            with cpu_load(processes):
                samples.setdefault(("loop", condition), []).extend(
                    _seconds(lambda: slow.rank_reward_loop(preds, valid, gt), 1))
                for name, policy in policies.items():
                    with policy():
                        samples.setdefault((name, condition), []).extend(
                            _seconds(lambda: rank_reward(preds, valid, gt), args.load_repeats))
    times = {key: statistics.median(values) for key, values in samples.items()}
    conditions = ["quiet", loaded]
    print(f"\nrank_reward under CPU load, N={n}, K={args.k}; medians; speed-up = loop ref / fast in the same condition")
    print(f"{'':<30} {'condition':<34} {'time':>10} {'speed-up':>9} {'loaded/quiet':>13}")
    for name in ["loop", *policies]:
        for condition in conditions:
            value = times[(name, condition)]
            speed = "" if name == "loop" else f"{times[('loop', condition)] / value:8.0f}x"
            vs_quiet = "" if condition == "quiet" else f"{value / times[(name, 'quiet')]:12.2f}x"
            label = "loop reference" if name == "loop" else name
            print(f"{label:<30} {condition:<34} {value * 1e3:8.2f}ms {speed:>9} {vs_quiet:>13}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Part 1: quiet sizes
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 128, 512, 2048], help="numbers of images N")
    parser.add_argument("--k", type=int, default=4, help="outputs per image (the paper's K)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads for part 1 (default: torch's own, one per core)")
    parser.add_argument("--repeats", type=int, default=20, help="timed repeats of the fast path")
    parser.add_argument("--loop-max-n", type=int, default=2048, help="skip the loop reference above this N")
    # Part 2: under load
    parser.add_argument("--load-n", type=int, default=512, help="images N of the loaded comparison (0: skip it)")
    parser.add_argument("--load-processes", type=int, default=None, help="spinning processes (default: one per core)")
    parser.add_argument("--load-repeats", type=int, default=30, help="timed repeats per round and condition")
    parser.add_argument("--load-rounds", type=int, default=3, help="alternations of quiet and loaded blocks")
    parser.add_argument("--skip-quiet-table", action="store_true", help="only part 2")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    slow = _load_reference()
    if not args.skip_quiet_table:
        quiet_table(args, slow)
    if args.load_n:
        load_table(args, slow)


if __name__ == "__main__":
    main()
