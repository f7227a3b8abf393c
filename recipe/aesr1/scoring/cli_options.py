"""Command-line options shared by ``aesr1-eval`` and ``aesr1-score``: backend, images, sampling."""

from __future__ import annotations

import argparse
import json

from data_prep.pixel_budget import DEFAULT_MAX_PIXELS
from recipe.aesr1.scoring.backends import (
    BACKENDS,
    InferenceBackend,
    SamplingSettings,
    make_backend,
)


def add_backend_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model and backend")
    group.add_argument("--model", required=True, help="checkpoint folder (hf, vllm) or served model name (openai)")
    group.add_argument("--backend", choices=BACKENDS, default="vllm", help="inference backend (default: vllm, GPU)")
    group.add_argument("--base-url", help="openai: endpoint, e.g. http://127.0.0.1:8000/v1")
    group.add_argument("--api-key", help="openai: key (default: $OPENAI_API_KEY, else 'EMPTY')")
    group.add_argument("--concurrency", type=int, default=8, help="openai: requests in flight")
    group.add_argument("--image-format", choices=("jpeg", "png"), default="jpeg", help="openai: image encoding")
    group.add_argument(
        "--timeout", type=float, default=600.0, help="openai: deadline in seconds of one attempt (the whole reply)"
    )
    group.add_argument("--max-retries", type=int, default=5, help="openai: retries of a failed or malformed reply")
    group.add_argument(
        "--extra-body",
        type=json.loads,
        help='openai: extra JSON request fields; for a vLLM server \'{"top_k": -1, "repetition_penalty": 1.0}\'',
    )
    group.add_argument("--device", default="auto", help="hf: torch device (auto picks cuda when present)")
    group.add_argument("--dtype", default="auto", help="hf: auto, float32, bfloat16, float16")
    group.add_argument("--model-max-pixels", type=int, help="hf: cap on pixels given to the image processor")
    group.add_argument("--tensor-parallel-size", type=int, default=1, help="vllm: GPUs per model")
    group.add_argument("--gpu-memory-utilization", type=float, default=0.9, help="vllm: share of GPU memory")
    group.add_argument("--max-model-len", type=int, help="vllm: context length (e.g. 8192 to fit the KV cache)")


def add_image_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("images")
    group.add_argument(
        "--max-pixels",
        type=int,
        default=DEFAULT_MAX_PIXELS,
        help=f"pixel budget (data_prep.pixel_budget): larger images are shrunk first (default {DEFAULT_MAX_PIXELS})",
    )


def add_sampling_args(parser: argparse.ArgumentParser) -> None:
    default = SamplingSettings()
    group = parser.add_argument_group("sampling (recorded with the predictions)")
    group.add_argument(
        "--temperature", type=float, default=default.temperature, help="0 = greedy (default 0.6, Aes-R1 README)"
    )
    group.add_argument("--top-p", type=float, default=default.top_p)
    group.add_argument("--max-new-tokens", type=int, default=default.max_new_tokens, help="Appendix C: 1024")
    group.add_argument("--n", type=int, default=default.n, help="samples per image; the score is their mean")
    group.add_argument("--seed", type=int, default=default.seed, help="base seed; each image derives its own")
    group.add_argument("--top-logprobs", type=int, default=0, help="openai/vllm: top-k logprobs for a top-k entropy")


def sampling_from_args(args: argparse.Namespace) -> SamplingSettings:
    return SamplingSettings(
        temperature=args.temperature,
        top_p=args.top_p,
        max_new_tokens=args.max_new_tokens,
        n=args.n,
        seed=args.seed,
        top_logprobs=args.top_logprobs,
    )


def backend_from_args(args: argparse.Namespace) -> InferenceBackend:
    return make_backend(args.backend, args.model, **backend_options_from_args(args))


def backend_options_from_args(args: argparse.Namespace) -> dict:
    """The keyword arguments of ``make_backend`` for ``args.backend`` (Ray actors build their own backend)."""
    if args.backend == "hf":
        options = {"device": args.device, "dtype": args.dtype, "max_pixels": args.model_max_pixels}
    elif args.backend == "openai":
        options = {
            "base_url": args.base_url,
            "api_key": args.api_key,
            "concurrency": args.concurrency,
            "image_format": args.image_format,
            "extra_body": args.extra_body,
            "timeout_s": args.timeout,
            "max_retries": args.max_retries,
        }
    else:
        options = {
            "tensor_parallel_size": args.tensor_parallel_size,
            "gpu_memory_utilization": args.gpu_memory_utilization,
        }
        if args.max_model_len:
            options["max_model_len"] = args.max_model_len
    return options
