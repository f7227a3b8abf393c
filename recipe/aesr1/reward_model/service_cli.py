"""``aesr1-reward-server``: serve an Aes-R1 judge to image-generation RL trainers.

    # GPU, the judge in this process (vLLM):
    aesr1-reward-server --backend vllm --model ckpts/aes-r1 --port 18086
    # GPU, in front of a separate `vllm serve ckpts/aes-r1 --served-model-name aes-r1 --port 8000`:
    aesr1-reward-server --backend openai --model aes-r1 --base-url http://127.0.0.1:8000/v1 --port 18086
    # CPU (transformers):
    aesr1-reward-server --backend hf --model ckpts/aes-r1 --device cpu --port 18086

Then point the trainer at ``http://HOST:18086`` (Flow-GRPO's ``deqa_score_remote`` URL, verl-omni's
``server_url``); the JSON twin is ``/score`` and ``/health`` answers liveness. The backend options are
``aesr1-score``'s. It listens on 127.0.0.1 unless ``--host`` says otherwise; with ``--token-env VAR`` every
scoring request must carry ``Authorization: Bearer $VAR`` (the value is read from the environment, so it
never appears in the process list, and is never printed).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading

import uvicorn

from recipe.aesr1.reward_model.service import RewardService, ServiceSettings
from recipe.aesr1.scoring.cli_options import (
    add_backend_args,
    add_image_args,
    add_sampling_args,
    backend_options_from_args,
)
from recipe.aesr1.scoring.modes import MODES
from recipe.aesr1.scoring.scorer import AestheticReward, RewardSettings

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aesr1-reward-server", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_backend_args(parser)
    add_image_args(parser)
    add_sampling_args(parser)
    judge = parser.add_argument_group("judge as a reward")
    judge.add_argument("--mode", choices=sorted(MODES), default="reasoning", help="reasoning (critique, 1024 tokens) or score_only")
    judge.add_argument("--batch-size", type=int, default=8, help="images per backend call, gathered across callers")
    judge.add_argument("--batches-in-flight", type=int, default=4, help="backend calls in flight at once")
    judge.add_argument("--failure-value", type=float, default=0.0, help="score of an image without one (status says why)")
    judge.add_argument("--served-model-name", default="aes-r1", help="model name reported in responses and /health")
    service = parser.add_argument_group("service")
    service.add_argument("--host", default="127.0.0.1", help="bind address (default loopback only)")
    service.add_argument("--port", type=int, default=18086, help="port (Flow-GRPO's deqa_score_remote uses 18086)")
    service.add_argument("--token-env", metavar="VAR", help="require 'Authorization: Bearer $VAR' on scoring requests")
    defaults = ServiceSettings()
    service.add_argument("--max-body-mb", type=float, default=defaults.max_body_bytes / 2**20, help="request size limit")
    service.add_argument("--max-images", type=int, default=defaults.max_images, help="images per request")
    service.add_argument("--max-image-pixels", type=int, default=defaults.max_image_pixels,
                         help="declared image size refused before decoding (decompression bombs)")
    service.add_argument("--batch-wait-ms", type=float, default=defaults.batch_wait_s * 1000,
                         help="how long a batch waits for more images after its first")
    service.add_argument("--max-pending", type=int, default=defaults.max_pending, help="queued images before 503")
    service.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    # A reward answers inside the trainer's budget (verl-omni and Flow-GRPO give a request 120 s), greedily.
    parser.set_defaults(temperature=0.0, max_new_tokens=None, timeout=50.0, max_retries=1)
    return parser


def reward_from_args(args: argparse.Namespace) -> AestheticReward:
    """The judge of the command line: ``make_backend`` with ``aesr1-score``'s options, wrapped in ``AestheticReward``."""
    from recipe.aesr1.scoring.backends import make_backend

    settings = RewardSettings(
        mode=args.mode, temperature=args.temperature, n=args.n, top_p=args.top_p, seed=args.seed,
        max_new_tokens=args.max_new_tokens, batch_size=args.batch_size, concurrency=args.batches_in_flight,
        timeout_s=args.timeout, retries=args.max_retries, failure_score=args.failure_value,
        max_pixels=args.max_pixels, top_logprobs=args.top_logprobs,
    )  # fmt: skip
    return AestheticReward(make_backend(args.backend, args.model, **backend_options_from_args(args)), settings)


def service_settings_from_args(args: argparse.Namespace) -> ServiceSettings:
    token = None
    if args.token_env:
        token = os.environ.get(args.token_env)
        if not token:
            raise SystemExit(f"--token-env {args.token_env}: that environment variable is unset or empty")
    return ServiceSettings(
        max_body_bytes=int(args.max_body_mb * 2**20), max_images=args.max_images, max_image_pixels=args.max_image_pixels,
        batch_wait_s=args.batch_wait_ms / 1000, max_pending=args.max_pending, token=token,
    )  # fmt: skip


class BackgroundServer:
    """A ``RewardService`` on a uvicorn server in a daemon thread (tests, benchmarks, notebooks).

    >>> with BackgroundServer(service) as url:  # doctest: +SKIP
    ...     requests.post(url, data=pickle.dumps({"images": [jpeg]}))
    """

    def __init__(self, service: RewardService, host: str = "127.0.0.1", port: int = 0):
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        config = uvicorn.Config(service.app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the reward service did not start (see the log above)")
            self.thread.join(0.01)
        return self.url

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    service_settings = service_settings_from_args(args)
    if args.host not in LOOPBACK and service_settings.token is None:
        print(f"WARNING: listening on {args.host} without --token-env: anyone who reaches this port can use the judge",
              file=sys.stderr)
    service = RewardService(reward_from_args(args), service_settings, args.served_model_name)
    auth = f"bearer token required (from ${args.token_env})" if service_settings.token else "no token"
    print(f"aesr1-reward-server: {args.backend} judge {args.model!r} ({args.mode}) at http://{args.host}:{args.port} "
          f"[POST / pickle, POST /score JSON, GET /health; {auth}]", flush=True)
    uvicorn.run(service.app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
