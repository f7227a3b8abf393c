"""``aesr1-eval ray``: a benchmark evaluation on a Ray cluster, into the run folder of ``aesr1-eval run``.

    aesr1-eval ray --data DATA/eval --out runs/ckpt --model CKPT --backend vllm --num-actors 8 --actor-gpus 1

Scores the benchmark rows as ``aesr1-score ray`` scores photos (seeds and prompt as ``aesr1-eval run``),
turns the shards into the run folder's ``predictions/`` and writes the usual metrics and tables.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from data_prep.tables import REQUIRED_COLUMNS
from recipe.aesr1.evaluation.runner import EvaluationSettings, run_header, summarize_run
from recipe.aesr1.scoring.cli_options import (
    add_backend_args,
    add_sampling_args,
    sampling_from_args,
)
from recipe.aesr1.scoring.inputs import list_items
from recipe.aesr1.scoring.ray_scoring import (
    add_ray_args,
    run_on_ray,
    settings_from_args,
)
from recipe.aesr1.scoring.records import PredictionStore, check_or_write_header


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
    parser = argparse.ArgumentParser(prog="aesr1-eval ray", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", nargs="+", required=True, help="evaluation-table parquet files, folders or globs")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, help="first N images per benchmark")
    parser.add_argument("--out", type=Path, required=True, help="run folder (as aesr1-eval run)")
    parser.add_argument("--name", help="row name in the table (default: the model folder name)")
    add_backend_args(parser)
    add_sampling_args(parser)
    add_ray_args(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = settings_from_args(args, "reasoning")  # the evaluation prompt is the training prompt
    evaluation = EvaluationSettings(
        sampling=sampling_from_args(args), split=args.split, limit=args.limit, batch_size=args.batch_size
    )
    items = list_items(args.data, split=args.split, limit=args.limit)
    if any("dataset" not in item for item in items):
        raise SystemExit(f"--data must be evaluation tables (parquet with {list(REQUIRED_COLUMNS)}), got {args.data}")
    # same header as `aesr1-eval run`: a folder is never filled by two different settings
    check_or_write_header(args.out, run_header(args.model, args.backend, evaluation))
    rows = run_on_ray(args, items, args.out / "ray_shards", settings)
    for benchmark, records in predictions_from_rows(rows).items():
        store = PredictionStore(args.out / "predictions" / f"{benchmark}.jsonl")
        for record in records:
            if record["id"] not in store:  # rows already predicted by a serial run stay as they are
                store.append(record)
    summarize_run(args.out, evaluation, args.name)
    print((args.out / "table.md").read_text())
    return 0
