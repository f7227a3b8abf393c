"""RAPO runs from the main job's SFT model, one per (reward, seed), each evaluated as the main job evaluates.

    python -m recipe.aesr1.miniature.rapo_sweep --out outputs/main --rewards error binary rank error_rank --seeds 0 1 2

Aes-R1 Table 2 through verl's real trainer (and, with one reward, the seed benchmark of
``benchmarks/bench_rapo_seeds.py``): run the main job first (its data, SFT model and SFT evaluation are
reused, never redone); each run trains ``python -m recipe.aesr1.rapo.main`` with
``reward@rapo.reward=<reward>`` and ``--rapo-seed``'s overrides into ``<out>/sweep/<reward>/seed<k>/``,
merges, evaluates on the held-out split with the main job's protocol and compares with the SFT model
by the paired bootstrap. Writes ``<out>/sweep/results.json`` and ``table.md``: per reward, per seed and
their mean, held-out PLCC/SRCC, the gain over SFT with its p-value, calibration (prediction mean/std
against the labels'), and the reward bench's simulated PLCC/SRCC for the same design beside them. A
finished run is not redone (its ``result.json``); a killed one resumes from its checkpoint.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from data_prep.atomic_files import write_json_atomic, write_text_atomic
from recipe.aesr1.miniature import stages
from recipe.aesr1.miniature.settings import MiniatureSizes

REWARD_FILES = tuple(sorted(path.stem for path in (stages.CONFIG_DIR / "reward").glob("*.yaml")))
"""configs/reward/<name>.yaml; the reward bench names the same designs with '+' (error+rank)."""


def calibration(run_dir: Path) -> dict:
    """Mean and spread of the held-out predictions (parsed answers' mean per image) against the labels'."""
    from recipe.aesr1.evaluation.failure_policy import ParseFailurePolicy, apply_policy
    from recipe.aesr1.evaluation.runner import read_predictions

    records = [record for recs in read_predictions(run_dir).values() for record in recs]
    kept = apply_policy([[s["score"] for s in r["samples"]] for r in records], ParseFailurePolicy())
    predictions = np.asarray(kept.pred, dtype=float)
    labels = np.asarray([r["label"] for r, k in zip(records, kept.kept, strict=True) if k], dtype=float)
    return {"pred_mean": float(predictions.mean()), "pred_std": float(predictions.std()),
            "label_mean": float(labels.mean()), "label_std": float(labels.std())}


def run_one(out: Path, sizes: MiniatureSizes, reward: str, seed: int) -> dict:
    """Train, merge, evaluate and compare one (reward, seed); cached in its folder's ``result.json``."""
    folder = out / "sweep" / reward / f"seed{seed}"
    done = folder / "result.json"
    if done.is_file():
        return json.loads(done.read_text())
    sft_eval = stages.require("sweep", out / "eval" / "sft" / "metrics.json", "eval").parent
    training = stages.run_rapo(out, replace(sizes, rapo_seed=seed), folder=folder / "rapo", model=folder / "model",
                               extra=[f"reward@rapo.reward={reward}"])
    name = f"{reward}-seed{seed}"
    metrics = stages.evaluate_model(sizes, out / "data" / "ava" / "table", folder / "model", folder / "eval", name)
    comparison = stages.compare_runs({"sft": sft_eval, name: folder / "eval"}, folder / "compare")
    result = {"reward": reward, "seed": seed, "held_out": metrics, "vs_sft": stages.paired_gains(comparison, name),
              "calibration": calibration(folder / "eval"), "training": training}
    write_json_atomic(done, result)
    return result


def bench_findings(out: Path) -> dict[str, dict]:
    """The reward bench's simulated held-out PLCC/SRCC per design, keyed by reward file name (error_rank)."""
    path = out / "reward_bench" / "results.json"
    if not path.is_file():
        return {}
    summary = json.loads(path.read_text()).get("summary", {})  # metric -> [mean, std over seeds]
    return {design.replace("+", "_"): {metric: pair[0] for metric, pair in row.items()} for design, row in summary.items()}


def _mean(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else None


def summarize(results: list[dict], bench: dict[str, dict]) -> dict[str, dict]:
    """Per reward: the seeds' held-out figures and gains, their means, and the bench's simulated figures."""
    table: dict[str, dict] = {}
    for result in results:
        row = table.setdefault(result["reward"], {"seeds": []})
        row["seeds"].append({
            "seed": result["seed"], "plcc": result["held_out"]["plcc"], "srcc": result["held_out"]["srcc"],
            **{f"{metric}_gain": gain["delta"] for metric, gain in result["vs_sft"].items()},
            **{f"{metric}_p": gain["p_value"] for metric, gain in result["vs_sft"].items()},
            **result["calibration"],
        })  # fmt: skip
    for reward, row in table.items():
        keys = [k for k in row["seeds"][0] if k != "seed"]
        row["mean"] = {key: _mean([seed.get(key) for seed in row["seeds"]]) for key in keys}
        row["bench"] = bench.get(reward)
    return table


def table_markdown(table: dict[str, dict], sft: dict, protocol: str) -> str:
    def fmt(value: float | None, sign: str = "") -> str:
        return "n/a" if value is None else f"{value:{sign}.3f}"

    lines = [
        "| reward | seeds | PLCC | SRCC | PLCC gain (p per seed) | SRCC gain (p per seed) | pred mean / std | bench PLCC / SRCC |",
        "|---|---|---|---|---|---|---|---|",
        f"| SFT (start) | - | {fmt(sft.get('plcc'))} | {fmt(sft.get('srcc'))} | - | - | - | - |",
    ]
    for reward, row in table.items():
        mean, seeds = row["mean"], row["seeds"]
        p_plcc = ", ".join(fmt(s.get("plcc_p")) for s in seeds)
        p_srcc = ", ".join(fmt(s.get("srcc_p")) for s in seeds)
        bench = row["bench"] or {}
        lines.append(
            f"| {reward} | {len(seeds)} | {fmt(mean['plcc'])} | {fmt(mean['srcc'])} | {fmt(mean.get('plcc_gain'), '+')} ({p_plcc}) "
            f"| {fmt(mean.get('srcc_gain'), '+')} ({p_srcc}) | {fmt(mean['pred_mean'])} / {fmt(mean['pred_std'])} "
            f"| {fmt(bench.get('plcc'))} / {fmt(bench.get('srcc'))} |"
        )
    label = next(iter(table.values()))["mean"] if table else {}
    lines += ["", f"Held-out labels: mean {fmt(label.get('label_mean'))}, std {fmt(label.get('label_std'))}. "
              f"Protocol: {protocol}; gains are paired bootstrap differences against the SFT model on the same images, "
              "averaged over seeds. The bench columns are the reward bench's simulated GRPO (not this trainer)."]
    return "\n".join(lines) + "\n"


def sweep(out: Path, sizes: MiniatureSizes, rewards: list[str], seeds: list[int]) -> dict:
    from recipe.aesr1.miniature.report import protocol_text

    results = []
    for reward in rewards:
        for seed in seeds:
            print(f"\n=== RAPO {reward}, seed {seed} ===", flush=True)
            results.append(run_one(out, sizes, reward, seed))
    table = summarize(results, bench_findings(out))
    sft = stages.read_eval_metrics(out / "eval" / "sft")
    summary = {"sizes": sizes.as_dict(), "protocol": protocol_text(sizes.as_dict()), "sft": sft, "rewards": table}
    write_json_atomic(out / "sweep" / "results.json", summary)
    write_text_atomic(out / "sweep" / "table.md", table_markdown(table, sft, summary["protocol"]))
    return summary


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m recipe.aesr1.miniature.rapo_sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("outputs/main"), help="the main job's folder")
    parser.add_argument("--rewards", nargs="+", choices=REWARD_FILES, default=["error", "binary", "rank", "error_rank"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    MiniatureSizes.add_flags(parser, exclude=("rapo_seed",))  # the main job's sizes; seeds come from --seeds
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes = MiniatureSizes.from_args(args)
    try:
        summary = sweep(args.out.resolve(), sizes, args.rewards, args.seeds)
    except stages.StageFailed as error:
        print(f"\n{error}", file=sys.stderr)
        return 1
    print("\n" + (args.out.resolve() / "sweep" / "table.md").read_text())
    return 0 if summary["rewards"] else 1


if __name__ == "__main__":
    sys.exit(main())
