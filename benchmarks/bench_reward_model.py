"""Images per second of the reward callable against a judge server: score-only vs reasoning, 1 vs N requests.

By default (no ``--base-url``) a tiny random-weight Qwen2-VL is built offline and served on CPU by
``recipe.aesr1.reward_model.local_server`` with ``--replicas`` model copies (the CPU stand-in for
``vllm serve``). Its random weights rarely emit an end-of-sequence token, so every completion runs to
its token budget: the reasoning/score-only ratio here is the ratio of budgets (``--reasoning-tokens``
vs 16), not of a trained judge's critique length. The concurrency ratio shows how far the client's
bounded concurrency keeps the server's replicas busy.

On a GPU, serve a real checkpoint and point the benchmark at it (one H100/H200, Qwen2.5-VL-7B size):

    vllm serve CKPT --served-model-name aes-r1 --generation-config vllm --max-num-seqs 256 &
    python benchmarks/bench_reward_model.py --base-url http://127.0.0.1:8000/v1 --model aes-r1 \\
        --images 256 --concurrency 1 64 --reasoning-tokens 1024 --image-size 512

    python benchmarks/bench_reward_model.py            # CPU, tiny model, ~1 minute
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch

from recipe.aesr1.scoring import AestheticReward, RewardSettings


def _images(count: int, size: int) -> list:
    rng = np.random.default_rng(0)  # distinct pictures: distinct content seeds, no cache effects
    return list(rng.integers(0, 256, size=(count, size, size, 3), dtype=np.uint8))


def measure(base_url: str, model: str, images: list, mode: str, concurrency: int, tokens: int | None) -> dict:
    settings = RewardSettings(mode=mode, max_new_tokens=tokens, batch_size=1, concurrency=concurrency,
                              timeout_s=600.0, retries=0)
    reward = AestheticReward.from_backend("openai", model, settings, base_url=base_url, api_key="EMPTY",
                                          image_format="png")
    reward(images[:concurrency])  # warm-up: connections, first-call costs
    start = time.perf_counter()
    _, info = reward(images)
    elapsed = time.perf_counter() - start
    reward.close()
    return {"images_per_s": len(images) / elapsed, "seconds": elapsed, "scored": info["counts"]["ok"],
            "failed": info["n_failed"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", help="a running OpenAI-compatible judge (default: start the tiny one)")
    parser.add_argument("--model", default="aes-r1", help="served model name")
    parser.add_argument("--images", type=int, default=24, help="images per measurement")
    parser.add_argument("--image-size", type=int, default=112, help="square side in pixels")
    parser.add_argument("--concurrency", type=int, nargs=2, default=[1, 4], metavar=("ONE", "N"))
    parser.add_argument("--reasoning-tokens", type=int, default=64, help="reasoning-mode token budget")
    parser.add_argument("--replicas", type=int, default=2, help="tiny server only: model copies")
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny server: one thread per replica, so replicas are what scales
    server = None
    base_url = args.base_url
    if base_url is None:
        from recipe.aesr1.miniature.tiny_vlm import save_tiny_vlm
        from recipe.aesr1.reward_model.local_server import JudgeServer
        from recipe.aesr1.scoring.backends import make_backend

        folder = str(save_tiny_vlm(tempfile.mkdtemp(prefix="tiny_judge_")))
        server = JudgeServer(lambda: make_backend("hf", folder, device="cpu"), args.model, args.replicas).start()
        base_url = server.base_url
    images = _images(args.images, args.image_size)
    print(f"judge {base_url} model={args.model} images={args.images} size={args.image_size}px "
          f"reasoning budget={args.reasoning_tokens} tokens, score-only budget=16 tokens")
    if server is not None:
        print("tiny random-weight judge: no parseable answers expected (failed = no_score); speed is what counts")
    print(f"{'mode':<11} {'concurrency':>11} {'images/s':>9} {'seconds':>8} {'scored':>7} {'failed':>7}")
    results = {}
    try:
        for mode, tokens in (("score_only", None), ("reasoning", args.reasoning_tokens)):
            for concurrency in args.concurrency:
                r = results[(mode, concurrency)] = measure(base_url, args.model, images, mode, concurrency, tokens)
                print(f"{mode:<11} {concurrency:>11} {r['images_per_s']:9.2f} {r['seconds']:8.2f} "
                      f"{r['scored']:>7} {r['failed']:>7}")
    finally:
        if server is not None:
            server.stop()
    one, many = args.concurrency
    for concurrency in args.concurrency:
        speeds = {mode: results[(mode, concurrency)]["images_per_s"] for mode in ("score_only", "reasoning")}
        ratio = speeds["score_only"] / speeds["reasoning"]
        print(f"score-only / reasoning at concurrency {concurrency}: {ratio:.2f}x")
    for mode in ("score_only", "reasoning"):
        ratio = results[(mode, many)]["images_per_s"] / results[(mode, one)]["images_per_s"]
        print(f"{mode}: concurrency {many} / {one}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
