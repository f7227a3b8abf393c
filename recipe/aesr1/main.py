"""The main job: Aes-R1 end to end in miniature, on any CPU, through the code a GPU user runs.

    python -m recipe.aesr1.main [--out outputs/main] [--stages data aescot sft rapo eval bench report] [sizes]

1. **data**: a synthetic release in AVA's native format whose labels follow what the pictures show
   (``data_prep.sample_release``), converted by ``aesr1-prep ava``.
2. **aescot**: ``aesr1-aescot`` against a built-in rule-based expert served over HTTP on 127.0.0.1
   (critiques from the pictures' measured statistics, told the hidden score as the real expert is);
   the real client, filters, request log and SFT export run. Then a tiny random-weight Qwen2.5-VL
   whose tokenizer covers the expert's words and every score.
3. **sft**: verl's ``sft_trainer`` under torchrun on the CPU backend, then ``merge_to_hf.sh``.
4. **rapo**: ``python -m recipe.aesr1.rapo.main`` (error+rank, K = 4, the RAPO hook, validation,
   checkpoints) on the CPU backend, then ``merge_to_hf.sh``.
5. **eval**: ``aesr1-eval`` (hf backend) of the base, SFT and RAPO models on the held-out split.
6. **bench**: the reward bench (simulated GRPO per reward design, Aes-R1 Table 2's findings).
7. **report**: ``<out>/miniature/summary.json``, ``table.md`` and ``curves.png`` (verl's logged
   ``rapo/*`` curves beside the reward bench).

A failing stage stops the job, naming the stage and showing its log's tail. Sizes are flags
(``recipe/aesr1/miniature/settings.py``); with real data and GPUs, run each stage's own command (README).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from data_prep.atomic_files import write_json_atomic
from recipe.aesr1.miniature.settings import MiniatureSizes

STAGES = ("data", "aescot", "sft", "rapo", "eval", "bench", "report")


def run_bench(out: Path, overrides: list[str]) -> dict:
    from hydra import compose, initialize_config_dir

    from recipe.aesr1.reward_bench.__main__ import CONFIG_DIR, run

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        cfg = compose(config_name="reward_bench", overrides=[f"output_dir={out / 'reward_bench'}", *overrides])
    run(cfg)
    return {"results": str(out / "reward_bench" / "results.json")}


def _previous_stages(out: Path) -> dict[str, dict]:
    path = out / "miniature" / "stages.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m recipe.aesr1.main", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("outputs/main"), help="folder for every stage's outputs")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES), help="stages to run, in order")
    MiniatureSizes.add_flags(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    from recipe.aesr1.miniature import stages as miniature
    from recipe.aesr1.miniature.report import write_summary
    from recipe.aesr1.miniature.stages import StageFailed

    argv = list(sys.argv[1:] if argv is None else argv)
    overrides = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    args = _parser().parse_args(argv)
    sizes = MiniatureSizes.from_args(args)
    out = args.out.resolve()
    steps = {
        "data": lambda: miniature.run_data(out, sizes),
        "aescot": lambda: miniature.run_aescot(out, sizes),
        "sft": lambda: miniature.run_sft(out, sizes),
        "rapo": lambda: miniature.run_rapo(out, sizes),
        "eval": lambda: miniature.run_eval(out, sizes),
        "bench": lambda: run_bench(out, overrides),
    }
    record = _previous_stages(out)  # a run of some stages keeps what earlier runs recorded
    for stage in [s for s in STAGES if s in args.stages]:
        if stage == "report":
            continue
        print(f"\n=== {stage} ===", flush=True)
        start = time.perf_counter()
        try:
            result = steps[stage]()
        except StageFailed as error:
            record[stage] = {"status": "failed", "wall_s": round(time.perf_counter() - start, 1), "error": str(error)}
            write_json_atomic(out / "miniature" / "stages.json", record)
            write_summary(out, record, sizes.as_dict())
            print(f"\n{error}", file=sys.stderr)
            return 1
        record[stage] = {"status": "ok", "wall_s": round(time.perf_counter() - start, 1), "result": result}
        print(f"=== {stage} done in {record[stage]['wall_s']:.0f} s ===", flush=True)
        write_json_atomic(out / "miniature" / "stages.json", record)
        write_summary(out, record, sizes.as_dict())
    write_summary(out, record, sizes.as_dict())
    if "eval" in record:
        print("\n" + (out / "miniature" / "table.md").read_text())
    print(f"Everything is under {out}/ (summary: {out / 'miniature' / 'summary.json'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
