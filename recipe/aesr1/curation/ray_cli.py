"""``aesr1-score ray``: the photo scoring of ``aesr1-score`` on a Ray cluster, into parquet shards.

    aesr1-score ray ~/photos listing.txt table.parquet --out-dir scores/ --model CKPT --backend vllm \\
        --num-actors 8 --actor-gpus 1 --mode reasoning --temperature 0 --ray-address auto

Writes ``OUT_DIR/shard-*.parquet`` (key, image_status, status, score, spread, level, reasoning,
response, samples, ...) and ``run.json``; rerun the same command to finish an interrupted run. The
curation options (``--bursts``, ``--xmp``, ``--html``) work as in ``aesr1-score``, from the shards.
Without ``--ray-address`` a local Ray starts on this machine.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from data_prep.atomic_files import write_csv_atomic
from recipe.aesr1.curation.outputs import add_curation_args, curate_from_args
from recipe.aesr1.scoring.cli_options import add_backend_args, add_sampling_args
from recipe.aesr1.scoring.inputs import list_items
from recipe.aesr1.scoring.modes import MODES
from recipe.aesr1.scoring.ray_scoring import (
    add_ray_args,
    run_on_ray,
    settings_from_args,
)


def score_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aesr1-score ray", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", help="image files, folders, globs, .txt listings, parquet tables")
    parser.add_argument("--recursive", action="store_true", help="also look in subfolders of input folders")
    parser.add_argument("--out-dir", type=Path, required=True, help="folder for shard-*.parquet and run.json")
    parser.add_argument("--mode", choices=sorted(MODES), default="reasoning", help="with critique or score only")
    add_backend_args(parser)
    add_sampling_args(parser)
    add_ray_args(parser)
    add_curation_args(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    rows = run_on_ray(args, list_items(args.inputs, args.recursive), args.out_dir, settings_from_args(args, args.mode))
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
