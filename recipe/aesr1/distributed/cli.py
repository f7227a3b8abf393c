"""``aesr1-score ray`` and ``aesr1-eval ray``: the same scoring, on a Ray cluster, into parquet shards.

    aesr1-score ray ~/photos listing.txt table.parquet --out-dir scores/ --model CKPT --backend vllm \\
        --num-actors 8 --actor-gpus 1 --mode reasoning --temperature 0 --ray-address auto
    aesr1-eval ray --data DATA/eval --out runs/ckpt --model CKPT --backend vllm --num-actors 8 --actor-gpus 1

``score`` writes ``OUT_DIR/shard-*.parquet`` (key, image_status, status, score, spread, level,
reasoning, response, samples, ...) and ``run.json``; rerun the same command to finish an
interrupted run. ``eval`` scores the benchmark rows the same way (seeds and prompt as ``aesr1-eval
run``), turns the shards into the run folder's ``predictions/`` and writes the usual metrics and tables.
Without ``--ray-address`` a local Ray starts on this machine.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections import Counter
from pathlib import Path

from recipe.aesr1.atomic_files import write_csv_atomic
from recipe.aesr1.curation.outputs import add_curation_args, curate_from_args
from recipe.aesr1.distributed.items import list_items
from recipe.aesr1.distributed.ray_scoring import read_shards, score_items
from recipe.aesr1.evaluation.benchmark_data import REQUIRED_COLUMNS
from recipe.aesr1.evaluation.cli_options import (
    add_backend_args,
    add_sampling_args,
    backend_options_from_args,
    sampling_from_args,
)
from recipe.aesr1.reward_model.modes import MODES
from recipe.aesr1.reward_model.scorer import RewardSettings

MODE_DEFAULT_TOKENS = 1024  # add_sampling_args' default: in score_only mode it means "the mode's budget"


def _add_ray_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("ray")
    group.add_argument("--ray-address", help="cluster address ('auto' inside a cluster); default: a local Ray")
    group.add_argument("--num-cpus", type=int, help="local Ray only: CPUs to use (default: all)")
    group.add_argument("--num-actors", type=int, default=1, help="judge actors (model replicas)")
    group.add_argument("--actor-cpus", type=float, default=1, help="CPUs per actor")
    group.add_argument("--actor-gpus", type=float, default=0, help="GPUs per actor (1 for vllm)")
    group.add_argument("--shard-size", type=int, default=256, help="images per output shard (the resume unit)")
    group.add_argument("--batch-size", type=int, default=16, help="images per actor call")
    group.add_argument("--timeout-s", type=float, default=600.0, help="per backend call, then retried")
    group.add_argument("--retries", type=int, default=2, help="retries of a failing backend call")


def _settings(args: argparse.Namespace, mode: str) -> RewardSettings:
    budget = None if mode != "reasoning" and args.max_new_tokens == MODE_DEFAULT_TOKENS else args.max_new_tokens
    return RewardSettings(
        mode=mode, temperature=args.temperature, n=args.n, top_p=args.top_p, seed=args.seed,
        max_new_tokens=budget, top_logprobs=args.top_logprobs, batch_size=args.batch_size,
        timeout_s=args.timeout_s, retries=args.retries,
    )


def _init_ray(args: argparse.Namespace) -> None:
    import ray

    if not ray.is_initialized():
        if args.ray_address:
            ray.init(address=args.ray_address)
        else:
            ray.init(num_cpus=args.num_cpus, include_dashboard=False)


def _run(args: argparse.Namespace, items: list[dict], out_dir: Path, settings: RewardSettings) -> list[dict]:
    if not items:
        raise SystemExit(f"nothing to score in {args.inputs if hasattr(args, 'inputs') else args.data}")
    _init_ray(args)
    shards = score_items(
        items, out_dir, args.backend, args.model, settings, backend_options_from_args(args),
        shard_size=args.shard_size, num_actors=args.num_actors, actor_num_cpus=args.actor_cpus,
        actor_num_gpus=args.actor_gpus, batch_size=args.batch_size,
    )
    rows = read_shards(shards)
    print(f"{len(rows)} images in {len(shards)} shard(s) under {out_dir}: {dict(Counter(r['status'] for r in rows))}")
    return rows


def score_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aesr1-score ray", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", help="image files, folders, globs, .txt listings, parquet tables")
    parser.add_argument("--recursive", action="store_true", help="also look in subfolders of input folders")
    parser.add_argument("--out-dir", type=Path, required=True, help="folder for shard-*.parquet and run.json")
    parser.add_argument("--mode", choices=sorted(MODES), default="reasoning", help="with critique or score only")
    add_backend_args(parser)
    add_sampling_args(parser)
    _add_ray_args(parser)
    add_curation_args(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    rows = _run(args, list_items(args.inputs, args.recursive), args.out_dir, _settings(args, args.mode))
    if args.bursts or args.xmp or args.html:
        curated = curate_from_args(curation_rows(rows), args)
        if args.bursts:
            columns = ("key", "path", "score", "burst", "burst_size", "burst_rank", "burst_best")
            write_csv_atomic(args.out_dir / "bursts.csv", [{c: r.get(c) for c in columns} for r in curated])
            print(f"wrote {args.out_dir / 'bursts.csv'}")
    return 0


def curation_rows(rows: list[dict]) -> list[dict]:
    """Shard rows as the curation outputs read them (``aesr1-score``'s row fields); rows of parquet
    tables have no file (``path`` None): no sidecar, no burst, no thumbnail."""
    curated = []
    for row in rows:
        item = json.loads(row["item"])
        curated.append({  # status: the judge's, or the image's when it could not be decoded (ray_scoring)
            "key": row["key"], "path": item.get("path"), "status": row["status"], "detail": row["image_detail"],
            "score": row["score"], "spread": row["spread"], "level": row["level"] or "",
            "reasoning": row["reasoning"] or "", "n_samples": row["n_samples"],
        })  # fmt: skip
    return curated


def predictions_from_rows(rows: list[dict]) -> dict[str, list[dict]]:
    """Shard rows of benchmark items as ``aesr1-eval`` prediction records, by benchmark."""
    by_benchmark: dict[str, list[dict]] = {}
    for row in rows:
        item = json.loads(row["item"])
        by_benchmark.setdefault(item["dataset"], []).append({
            "id": item["id"], "dataset": item["dataset"], "label": item["label"],
            "image_status": row["image_status"], "image_detail": row["image_detail"],
            "seed": row["seed"], "samples": json.loads(row["samples"]),
        })
    return by_benchmark


def eval_main(argv: list[str] | None = None) -> int:
    from recipe.aesr1.evaluation.predictions import PredictionStore
    from recipe.aesr1.evaluation.runner import EvaluationSettings, _check_or_write_header, _run_header, summarize_run

    parser = argparse.ArgumentParser(prog="aesr1-eval ray", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", nargs="+", required=True, help="evaluation-table parquet files, folders or globs")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, help="first N images per benchmark")
    parser.add_argument("--out", type=Path, required=True, help="run folder (as aesr1-eval run)")
    parser.add_argument("--name", help="row name in the table (default: the model folder name)")
    add_backend_args(parser)
    add_sampling_args(parser)
    _add_ray_args(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = _settings(args, "reasoning")  # the evaluation prompt is the training prompt
    evaluation = EvaluationSettings(
        sampling=sampling_from_args(args), split=args.split, limit=args.limit, batch_size=args.batch_size
    )
    items = list_items(args.data, split=args.split, limit=args.limit)
    if any("dataset" not in item for item in items):
        raise SystemExit(f"--data must be evaluation tables (parquet with {list(REQUIRED_COLUMNS)}), got {args.data}")
    # same header as `aesr1-eval run`: a folder is never filled by two different settings
    _check_or_write_header(args.out, _run_header(args.model, args.backend, evaluation))
    rows = _run(args, items, args.out / "ray_shards", settings)
    for benchmark, records in predictions_from_rows(rows).items():
        store = PredictionStore(args.out / "predictions" / f"{benchmark}.jsonl")
        for record in records:
            if record["id"] not in store:  # rows already predicted by a serial run stay as they are
                store.append(record)
    summarize_run(args.out, evaluation, args.name)
    print((args.out / "table.md").read_text())
    return 0
