"""Images per second of the reward service against calling its backend directly, in the same run.

For each mode (``score_only``, ``reasoning``) the same judge object scores the same images twice:

* **direct**: ``AestheticReward.score`` in this process (the backend call the service itself makes);
* **service**: ``aesr1-reward-server``'s app on a loopback port, fed by ``--callers`` concurrent
  ``RewardServiceClient`` threads posting ``--per-request`` images each (PNG, JSON twin): HTTP, base64,
  guarded decoding, the cross-caller batcher.

It prints images/s, the service/direct ratio (its overhead) and the score-only/reasoning ratio, as
JSON. Greedy decoding, the same content seeds on both paths; the order alternates and the faster of
``--repeats`` runs counts, so warm-up and a noisy neighbour do not decide the ratio.

CPU, the main job's trained judge (it answers in the trained format, so reasoning completions end
where the judge ends them, not at the token budget):

    python benchmarks/bench_reward_service.py --backend hf --device cpu --dtype float32 \\
        --model /work/toy_main_job/models/rapo --data /work/toy_main_job/data/ava/table --max-new-tokens 96

GPU (one H100; a 7B Aes-R1 checkpoint behind ``vllm serve``, the service in front of it):

    vllm serve CKPT --served-model-name aes-r1 --generation-config vllm --max-num-seqs 256 --port 8000 &
    python benchmarks/bench_reward_service.py --backend openai --model aes-r1 \\
        --base-url http://127.0.0.1:8000/v1 --concurrency 64 --batch-size 64 --batches-in-flight 4 \\
        --data DATA/ava/table --images 512 --callers 16 --per-request 8
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor

from data_prep.decode import decode_table_image
from data_prep.tables import find_parquet_files, iter_rows
from recipe.aesr1.reward_model.service import RewardService
from recipe.aesr1.reward_model.service_cli import BackgroundServer
from recipe.aesr1.reward_model.service_client import RewardServiceClient
from recipe.aesr1.scoring import AestheticReward, RewardSettings
from recipe.aesr1.scoring.cli_options import add_backend_args, backend_from_args


def held_out_images(data: str, count: int) -> list:
    """``count`` test-split images of the evaluation table (cycled when the split is smaller)."""
    rows = list(iter_rows(find_parquet_files([data]), "test", with_images=True))
    images = [decode_table_image(row.image).image for row in rows]
    return [images[i % len(images)] for i in range(count)]


def direct(reward: AestheticReward, images: list) -> tuple[float, list]:
    start = time.perf_counter()
    results = reward.score(images)
    return time.perf_counter() - start, [r.score for r in results]


def through_service(url: str, images: list, callers: int, per_request: int) -> tuple[float, list]:
    client = RewardServiceClient(url, timeout_s=3600)
    chunks = [images[i : i + per_request] for i in range(0, len(images), per_request)]
    start = time.perf_counter()
    with ThreadPoolExecutor(callers) as pool:
        replies = list(pool.map(client.score_request, chunks))
    return time.perf_counter() - start, [s for reply in replies for s in reply["raw"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_backend_args(parser)
    parser.add_argument("--data", required=True, help="evaluation table (its test split supplies the images)")
    parser.add_argument("--images", type=int, default=48, help="images per measurement")
    parser.add_argument("--max-new-tokens", type=int, help="reasoning budget (default: the mode's, 1024)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--batches-in-flight", type=int, default=2)
    parser.add_argument("--callers", type=int, default=4, help="concurrent clients of the service")
    parser.add_argument("--per-request", type=int, default=4, help="images per client request")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    images = held_out_images(args.data, args.images)
    backend = backend_from_args(args)  # one model, shared by both paths
    report: dict = {"backend": args.backend, "model": args.model, "images": len(images), "callers": args.callers,
                    "per_request": args.per_request, "batch_size": args.batch_size}
    for mode in ("score_only", "reasoning"):
        tokens = args.max_new_tokens if mode == "reasoning" else None
        reward = AestheticReward(backend, RewardSettings(mode=mode, max_new_tokens=tokens, batch_size=args.batch_size,
                                                         concurrency=args.batches_in_flight, timeout_s=3600))
        reward.score(images[: args.batch_size])  # warm-up
        best = {"direct": float("inf"), "service": float("inf")}
        with BackgroundServer(RewardService(reward)) as url:
            for repeat in range(args.repeats):
                order = ("direct", "service") if repeat % 2 == 0 else ("service", "direct")
                for path in order:
                    seconds, scores = (direct(reward, images) if path == "direct"
                                       else through_service(url, images, args.callers, args.per_request))
                    best[path] = min(best[path], seconds)
                    report.setdefault(mode, {})[f"{path}_scored"] = sum(s is not None for s in scores)
                    report[mode][f"{path}_scores"] = scores
        same = report[mode]["direct_scores"] == report[mode]["service_scores"]
        del report[mode]["direct_scores"], report[mode]["service_scores"]
        report[mode].update({f"{path}_images_per_s": round(len(images) / s, 2) for path, s in best.items()})
        report[mode]["service_over_direct"] = round(best["direct"] / best["service"], 3)  # images/s ratio
        report[mode]["same_scores_both_paths"] = same
        reward.close()
    for path in ("direct", "service"):
        report[f"score_only_over_reasoning_{path}"] = round(
            report["score_only"][f"{path}_images_per_s"] / report["reasoning"][f"{path}_images_per_s"], 2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
