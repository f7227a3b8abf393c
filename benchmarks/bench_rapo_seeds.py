"""RAPO's held-out gain over its SFT start for RL seeds 0, 1, 2, and how far a repeated seed drifts.

    bash recipe/aesr1/run_main.sh                       # the main job: data, SFT model, SFT evaluation
    python benchmarks/bench_rapo_seeds.py --out outputs/main   # ~3 x (RAPO + evaluation) on 2 cores

Each seed trains RAPO (error+rank, the main job's sizes) from the main job's SFT model through verl's
trainer (``recipe.aesr1.miniature.rapo_sweep``; ``--rapo-seed`` fixes verl's data order and the rollout's
draws) and is compared with the SFT model by the paired bootstrap on the same held-out images. Then
seed 0 runs a second time into another folder: the difference between the two is the run-to-run
nondeterminism that the seed does not remove (float sums in another order inside verl's workers).
Prints one line per seed and the repeat's drift; the sweep's table is ``<out>/sweep/table.md``.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from recipe.aesr1.miniature import rapo_sweep, stages
from recipe.aesr1.miniature.settings import MiniatureSizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("outputs/main"), help="a finished main job's folder")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--no-repeat", action="store_true", help="skip the second run of the first seed")
    args = parser.parse_args()
    out, sizes = args.out.resolve(), MiniatureSizes()
    summary = rapo_sweep.sweep(out, sizes, ["error_rank"], args.seeds)
    print(f"\nprotocol: {summary['protocol']}; SFT PLCC {summary['sft']['plcc']:.3f}, SRCC {summary['sft']['srcc']:.3f}")
    for row in summary["rewards"]["error_rank"]["seeds"]:
        print(f"seed {row['seed']}: PLCC {row['plcc']:.3f} ({row['plcc_gain']:+.3f}, p {row['plcc_p']:.3f}), "
              f"SRCC {row['srcc']:.3f} ({row['srcc_gain']:+.3f}, p {row['srcc_p']:.3f})")
    if args.no_repeat:
        return
    first = out / "sweep" / "error_rank" / f"seed{args.seeds[0]}"
    repeat_out = out / "sweep_repeat"
    for name in ("data", "models", "eval", "reward_bench"):  # the same inputs, read through links
        target = repeat_out / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(out / name, target_is_directory=True)
    shutil.rmtree(repeat_out / "sweep", ignore_errors=True)
    again = rapo_sweep.run_one(repeat_out, sizes, "error_rank", args.seeds[0])
    once = rapo_sweep.run_one(out, sizes, "error_rank", args.seeds[0])
    steps = [(a["data"], b["data"]) for a, b in zip(stages.read_metrics(first / "rapo" / "metrics.jsonl"),
                                                     stages.read_metrics(repeat_out / "sweep" / "error_rank" / f"seed{args.seeds[0]}" / "rapo" / "metrics.jsonl"))
             if "rapo/reward/total/mean" in a["data"] and "rapo/reward/total/mean" in b["data"]]
    drift = max((abs(a["rapo/reward/total/mean"] - b["rapo/reward/total/mean"]) for a, b in steps), default=float("nan"))
    identical = sum(a["rapo/reward/total/mean"] == b["rapo/reward/total/mean"] for a, b in steps)
    print(f"repeat of seed {args.seeds[0]}: {identical} of {len(steps)} steps with the same mean reward, largest "
          f"difference {drift:.4f}; held-out PLCC {once['held_out']['plcc']:.3f} vs {again['held_out']['plcc']:.3f}, "
          f"SRCC {once['held_out']['srcc']:.3f} vs {again['held_out']['srcc']:.3f}")


if __name__ == "__main__":
    main()
