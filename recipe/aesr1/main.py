"""The main job: the project end to end on CPU, on built-in defaults, in a few minutes.

    python -m recipe.aesr1.main [--out outputs/main] [--stages data bench eval] [-- bench overrides]

1. **data**: write a small synthetic release in AVA's native format (``data_prep.sample_release``) and
   convert it with the real converter (``python -m data_prep ava``) into evaluation and RL parquet.
2. **bench**: the reward bench (``configs/reward_bench.yaml``): simulated GRPO per reward design,
   PLCC/SRCC and calibration against Aes-R1 Table 2, plots.
3. **eval**: the evaluation report (``aesr1-eval run``) on the sample test split, with a tiny
   random-weight Qwen2-VL built offline through the transformers backend. Its answers are garbage:
   the report shows the pipeline (parsing, failure counting, metrics, entropy, plots), not a model.

With real data and a trained checkpoint, run each stage's own command instead (README).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

STAGES = ("data", "bench", "eval")


def run_data(out: Path, n_images: int, seed: int) -> Path:
    from data_prep.cli import main as prep
    from data_prep.sample_release import write_ava_like_release

    release = write_ava_like_release(out / "sample_release" / "AVA_dataset", n_images=n_images, seed=seed)
    target = out / "data" / "ava"
    if prep(["ava", "--root", str(release), "--out", str(target), "--workers", "1"]) != 0:
        raise RuntimeError(f"data_prep failed on the sample release in {release}")
    return target


def run_bench(out: Path, overrides: list[str]) -> None:
    from hydra import compose, initialize_config_dir

    from recipe.aesr1.reward_bench.__main__ import CONFIG_DIR, run

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        cfg = compose(config_name="reward_bench", overrides=[f"output_dir={out / 'reward_bench'}", *overrides])
    run(cfg)


def run_eval(out: Path, data: Path, limit: int, max_new_tokens: int) -> None:
    from recipe.aesr1.evaluation.eval_cli import main as evaluate
    from recipe.aesr1.evaluation.tiny_vlm import save_tiny_vlm

    model = save_tiny_vlm(out / "tiny_qwen2_vl")
    args = [
        "run", "--backend", "hf", "--model", str(model), "--data", str(data / "table"), "--limit", str(limit),
        "--max-new-tokens", str(max_new_tokens), "--n-resamples", "200", "--out", str(out / "eval_tiny_vlm"),
    ]
    if evaluate(args) != 0:
        raise RuntimeError("the evaluation report failed")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    overrides = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(prog="python -m recipe.aesr1.main", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("outputs/main"), help="folder for every stage's outputs")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES), help="stages to run, in order")
    parser.add_argument("--n-images", type=int, default=200, help="data: images in the synthetic sample release")
    parser.add_argument("--seed", type=int, default=0, help="data: seed of the sample release")
    parser.add_argument("--eval-limit", type=int, default=16, help="eval: test images scored by the tiny model")
    parser.add_argument("--max-new-tokens", type=int, default=24, help="eval: tokens the tiny model may write")
    args = parser.parse_args(argv)
    if "eval" in args.stages and "data" not in args.stages and not (args.out / "data" / "ava" / "table").is_dir():
        parser.error(f"stage 'eval' needs the sample data: run stage 'data' first (no {args.out / 'data' / 'ava' / 'table'})")
    data = args.out / "data" / "ava"
    for stage in args.stages:
        start = time.perf_counter()
        print(f"\n=== {stage} ===", flush=True)
        if stage == "data":
            data = run_data(args.out, args.n_images, args.seed)
        elif stage == "bench":
            run_bench(args.out, overrides)
        else:
            run_eval(args.out, data, args.eval_limit, args.max_new_tokens)
        print(f"=== {stage} done in {time.perf_counter() - start:.0f} s ===", flush=True)
    print(f"\nEverything is under {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
