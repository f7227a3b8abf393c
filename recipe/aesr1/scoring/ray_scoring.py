"""Score items on Ray Data: decode in parallel tasks, judge with an actor pool, write parquet shards.

    items (driver) -> from_items(one block per shard) -> flat_map(load_shard)   decode + pixel budget
                   -> map_batches(JudgeActor, concurrency=A)                     AestheticReward per actor
                   -> driver: rows buffered per shard -> shard-00042.parquet      atomic, one per shard

Each actor builds its own backend (``vllm`` with ``num_gpus=1`` per actor on a GPU cluster; ``hf`` on
CPU; ``openai`` to fan out to a served model), wrapped in ``AestheticReward``, so timeouts, retries,
failure counting and parsing are those of the reward callable. Seeds are ``image_seed(seed, key)``
(the key is the path, or ``dataset/id`` for evaluation tables), i.e. the same seeds as ``aesr1-score``
and ``aesr1-eval`` give the same image, so a distributed run reproduces a serial one.

``out_dir/run.json`` records the backend, model, settings, shard size and a digest of the item
keys; a rerun with the same options skips the shards already on disk and fails loudly on any change.
A shard file is written only when all its rows are in, so a killed run loses at most the shards in
flight. Rows arrive in any order; the driver holds the rows of unfinished shards (small: no pixels).
"""

from __future__ import annotations

import argparse
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image
from tqdm import tqdm

from data_prep.atomic_files import write_atomically
from recipe.aesr1.scoring.backends import image_seed
from recipe.aesr1.scoring.cli_options import backend_options_from_args
from recipe.aesr1.scoring.inputs import items_digest, load_shard, shard_items
from recipe.aesr1.scoring.records import check_or_write_header
from recipe.aesr1.scoring.scorer import AestheticReward, ImageScore, RewardSettings

logger = logging.getLogger(__name__)

RESULT_SCHEMA = pa.schema([
    ("shard", pa.int64()), ("key", pa.string()), ("item", pa.string()),
    ("image_status", pa.string()), ("image_detail", pa.string()),
    ("status", pa.string()), ("score", pa.float64()), ("spread", pa.float64()), ("level", pa.string()),
    ("n_scored", pa.int64()), ("n_samples", pa.int64()), ("seed", pa.int64()),
    ("reasoning", pa.string()), ("response", pa.string()), ("error", pa.string()),
    ("samples", pa.string()),  # JSON list of scoring.records.sample_record dicts
])


def shard_path(out_dir: Path, shard: int) -> Path:
    return out_dir / f"shard-{shard:05d}.parquet"


class JudgeActor:
    """One backend per Ray actor; ``__call__`` scores a batch of decoded rows."""

    def __init__(self, kind: str, model: str, settings: dict, backend_options: dict):
        self.settings = RewardSettings(**settings)
        self.reward = AestheticReward.from_backend(kind, model, self.settings, **backend_options)

    def __call__(self, batch: dict[str, np.ndarray]) -> pa.Table:
        n = len(batch["key"])
        usable = [i for i in range(n) if batch["width"][i] > 0]
        images = [
            Image.frombytes("RGB", (int(batch["width"][i]), int(batch["height"][i])), bytes(batch["pixels"][i]))
            for i in usable
        ]
        seeds = [image_seed(self.settings.seed, str(key)) for key in batch["key"]]
        scored = self.reward.score(images, [seeds[i] for i in usable]) if usable else []
        results = dict(zip(usable, scored, strict=True))
        columns = defaultdict(list)
        for i in range(n):
            status, detail = str(batch["image_status"][i]), str(batch["image_detail"][i])
            result = results.get(i) or ImageScore(None, None, status, seeds[i], [], detail)  # not decodable
            first = result.first_sample
            values = {
                "shard": int(batch["shard"][i]), "key": str(batch["key"][i]), "item": str(batch["item"][i]),
                "image_status": status, "image_detail": detail, "status": result.status,
                "score": result.score, "spread": result.spread, "level": result.level,
                "n_scored": result.n_scored, "n_samples": len(result.samples), "seed": result.seed,
                "reasoning": result.reasoning, "response": first["text"] if first else "", "error": result.error,
                "samples": json.dumps(result.samples, ensure_ascii=False),
            }
            for name, value in values.items():
                columns[name].append(value)
        return pa.table(dict(columns), schema=RESULT_SCHEMA)


def score_items(
    items: Sequence[dict],
    out_dir: str | Path,
    kind: str,
    model: str,
    settings: RewardSettings,
    backend_options: dict | None = None,
    shard_size: int = 256,
    num_actors: int = 1,
    actor_num_cpus: float = 1,
    actor_num_gpus: float = 0,
    batch_size: int = 16,
) -> list[Path]:
    """Score every item not yet in a shard of ``out_dir``; returns all shard files, in shard order.

    Uses the running Ray cluster (``ray.init`` first; the CLI does, a local one by default).
    """
    import ray

    out_dir = Path(out_dir)
    shards = shard_items(items, shard_size)
    # the run.json check of aesr1-eval run: a folder never mixes results of two settings
    check_or_write_header(out_dir, {
        "backend": kind, "model": model, "settings": settings.to_json(), "shard_size": shard_size,
        "n_items": len(items), "items_sha256": items_digest(items),
    })
    todo = [s for s in range(len(shards)) if not shard_path(out_dir, s).exists()]
    logger.info("%d shards of %d items, %d to score", len(shards), len(items), len(todo))
    if todo:
        if not ray.is_initialized():
            raise RuntimeError("score_items needs a running Ray: call ray.init() first")
        descriptors = [{"shard": s, "items": json.dumps(shards[s])} for s in todo]
        max_pixels = settings.max_pixels
        dataset = (
            ray.data.from_items(descriptors, override_num_blocks=len(descriptors))
            .flat_map(lambda row: load_shard(row["shard"], json.loads(row["items"]), max_pixels))
            .map_batches(
                JudgeActor,
                fn_constructor_kwargs={"kind": kind, "model": model, "settings": settings.to_json(),
                                       "backend_options": backend_options or {}},
                concurrency=num_actors, num_cpus=actor_num_cpus, num_gpus=actor_num_gpus,
                batch_size=batch_size, batch_format="numpy",
            )
        )
        pending: dict[int, list[dict]] = defaultdict(list)
        with tqdm(total=sum(len(shards[s]) for s in todo), desc="scoring (ray)", unit="img") as progress:
            for row in dataset.iter_rows():
                shard = int(row["shard"])
                pending[shard].append(row)
                progress.update(1)
                if len(pending[shard]) == len(shards[shard]):
                    _write_shard(out_dir, shard, pending.pop(shard), shards[shard])
        if pending:  # cannot happen unless Ray dropped rows: say so rather than write a short shard
            raise RuntimeError(f"shards {sorted(pending)} came back incomplete; rerun to score them again")
    return [shard_path(out_dir, s) for s in range(len(shards))]


def _write_shard(out_dir: Path, shard: int, rows: list[dict], items: Sequence[dict]) -> None:
    order = {item["key"]: k for k, item in enumerate(items)}
    rows = sorted(rows, key=lambda r: order[r["key"]])  # input order inside a shard
    table = pa.Table.from_pylist([{name: r[name] for name in RESULT_SCHEMA.names} for r in rows],
                                 schema=RESULT_SCHEMA)
    write_atomically(shard_path(out_dir, shard), lambda tmp: pq.write_table(table, tmp))


def read_shards(paths: Sequence[Path]) -> list[dict]:
    """All result rows of the shards, in item order."""
    return [row for path in paths for row in pq.read_table(path).to_pylist()]


# --- the command lines' shared part (aesr1-score ray, aesr1-eval ray) ---------------------------------

MODE_DEFAULT_TOKENS = 1024  # add_sampling_args' default: in score_only mode it means "the mode's budget"


def add_ray_args(parser: argparse.ArgumentParser) -> None:
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


def settings_from_args(args: argparse.Namespace, mode: str) -> RewardSettings:
    budget = None if mode != "reasoning" and args.max_new_tokens == MODE_DEFAULT_TOKENS else args.max_new_tokens
    return RewardSettings(
        mode=mode, temperature=args.temperature, n=args.n, top_p=args.top_p, seed=args.seed,
        max_new_tokens=budget, top_logprobs=args.top_logprobs, batch_size=args.batch_size,
        timeout_s=args.timeout_s, retries=args.retries,
    )


def init_ray(args: argparse.Namespace) -> None:
    import ray

    if not ray.is_initialized():
        if args.ray_address:
            ray.init(address=args.ray_address)
        else:
            ray.init(num_cpus=args.num_cpus, include_dashboard=False)


def run_on_ray(args: argparse.Namespace, items: list[dict], out_dir: Path, settings: RewardSettings) -> list[dict]:
    if not items:
        raise SystemExit(f"nothing to score in {args.inputs if hasattr(args, 'inputs') else args.data}")
    init_ray(args)
    shards = score_items(
        items, out_dir, args.backend, args.model, settings, backend_options_from_args(args),
        shard_size=args.shard_size, num_actors=args.num_actors, actor_num_cpus=args.actor_cpus,
        actor_num_gpus=args.actor_gpus, batch_size=args.batch_size,
    )
    rows = read_shards(shards)
    print(f"{len(rows)} images in {len(shards)} shard(s) under {out_dir}: {dict(Counter(r['status'] for r in rows))}")
    return rows
