"""The judge as a reward service that image-generation RL trainers already speak.

Routes (``aesr1-reward-server``, see ``service_cli.py``):

* ``POST /``: Flow-GRPO's remote-reward protocol -- a pickled ``{"images": [bytes], "prompts": [...],
  "metadata": {...}}`` in, a pickled dict with ``scores`` (verl-omni's ``http_scorer_client``) and
  ``outputs`` (Flow-GRPO's ``deqa_score_remote``/``unifiedreward_score_remote``) out, plus per-image
  ``status``. Fields and statuses: ``protocol.py``.
* ``POST /score``: the JSON twin (images as base64 strings), for clients that should not unpickle.
* ``GET /health``: ``{"status": "ok", ...}`` (no token needed; it tells nothing about requests).

Safe by construction:

* bodies are unpickled by ``safe_pickle.safe_loads``, which refuses every global: a payload that would
  run code gets HTTP 400 and runs nothing;
* every image goes through the project's guarded decoder (``data_prep.decode.decode_image``) with a
  hard pixel limit checked before decoding (decompression bombs), then the one pixel budget; a bomb, a
  truncated file or non-image bytes is that image's ``bad_image``, the rest of the request is scored;
* bodies above ``max_body_bytes`` get 413 (checked against Content-Length, then while reading), more
  than ``max_images`` images 400, more than ``max_pending`` queued images 503;
* an optional bearer token (compared in constant time; never logged, echoed or written);
* the CLI binds 127.0.0.1 unless told otherwise.

Judge failures are values, not HTTP errors: the request answers 200 and the image's status says
``no_score``, ``backend_error`` or ``timeout``, its score the configured failure value.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import pickle
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from data_prep.decode import decode_image
from recipe.aesr1.reward_model.batcher import JudgeBatcher, Overloaded
from recipe.aesr1.reward_model.protocol import (
    BAD_IMAGE,
    BadRequest,
    ScoreRequest,
    build_response,
    parse_request,
)
from recipe.aesr1.reward_model.safe_pickle import PickleRefused, safe_loads
from recipe.aesr1.scoring.scorer import AestheticReward, ImageScore

logger = logging.getLogger(__name__)

PICKLE_PROTOCOL = 4  # readable by every Python 3.8+ client


@dataclass(frozen=True)
class ServiceSettings:
    """Limits and access of the service; the judge's own settings are the ``RewardSettings``.

    ``max_image_pixels`` is the decoder's hard limit: a declared size above it is refused before any
    pixel is decoded (a 1 MB PNG can declare 3 gigapixels). 64 MP covers an 8K frame.
    """

    max_body_bytes: int = 64 * 2**20
    max_images: int = 256
    max_image_pixels: int = 64_000_000
    batch_wait_s: float = 0.005
    max_pending: int = 4096
    decode_workers: int = 2
    token: str | None = field(default=None, repr=False)  # repr=False: never in a log line or an error

    def __post_init__(self) -> None:
        if min(self.max_body_bytes, self.max_images, self.max_image_pixels, self.max_pending, self.decode_workers) < 1:
            raise ValueError(f"service limits must be positive: {self}")
        if self.token is not None and not self.token:
            raise ValueError("an empty bearer token would admit anyone; leave it unset instead")


class HTTPFailure(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class RewardService:
    """The judge (an ``AestheticReward``) behind the two scoring routes; ``app`` is the ASGI application."""

    def __init__(self, reward: AestheticReward, settings: ServiceSettings | None = None, model_name: str = "aes-r1"):
        self.reward = reward
        self.settings = settings or ServiceSettings()
        self.model_name = model_name
        self.batcher = JudgeBatcher(reward, self.settings.batch_wait_s, self.settings.max_pending)
        self._decoders = ThreadPoolExecutor(self.settings.decode_workers, thread_name_prefix="aesr1-decode")
        self.app = Starlette(
            routes=[
                Route("/", self._pickle_route, methods=["POST"]),
                Route("/score", self._json_route, methods=["POST"]),
                Route("/health", self._health, methods=["GET"]),
            ],
            lifespan=self._lifespan,
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, app):
        self.batcher.start()
        try:
            yield
        finally:
            await self.batcher.stop()
            self._decoders.shutdown(wait=False, cancel_futures=True)

    # --- routes -------------------------------------------------------------------------------

    async def _health(self, request: Request) -> Response:
        return JSONResponse({
            "status": "ok", "model": self.model_name, "backend": getattr(self.reward.backend, "name", "?"),
            "mode": self.reward.settings.mode, "pending_images": self.batcher.pending,
            "batches": self.batcher.batches, "batched_images": self.batcher.batched_images,
        })  # fmt: skip

    async def _pickle_route(self, request: Request) -> Response:
        def reply(status: int, payload: dict) -> Response:
            return Response(pickle.dumps(payload, protocol=PICKLE_PROTOCOL), status, media_type="application/octet-stream")

        return await self._handle(request, safe_loads, base64_images=False, reply=reply)

    async def _json_route(self, request: Request) -> Response:
        def loads(body: bytes) -> object:
            try:
                return json.loads(body)
            except (ValueError, RecursionError) as error:  # RecursionError: absurdly nested JSON
                raise BadRequest(f"not valid JSON: {type(error).__name__}") from None

        return await self._handle(request, loads, base64_images=True, reply=lambda status, payload: JSONResponse(payload, status))

    async def _handle(self, request: Request, loads, base64_images: bool, reply) -> Response:
        try:
            self._authorize(request)
            body = await self._read_body(request)
            try:
                parsed = parse_request(loads(body), self.settings.max_images, base64_images)
            except PickleRefused as error:
                raise HTTPFailure(400, f"refused pickle: {error}") from None
            except BadRequest as error:
                raise HTTPFailure(400, str(error)) from None
            results = await self.score(parsed)
        except HTTPFailure as failure:
            logger.info("%s %s -> %d: %s", request.method, request.url.path, failure.status, failure)
            return reply(failure.status, {"error": str(failure)})
        except Overloaded as error:
            return reply(503, {"error": str(error)})
        settings = self.reward.settings
        return reply(200, build_response(results, parsed, settings.failure_score, self.model_name, settings.mode))

    # --- the work -----------------------------------------------------------------------------

    def _authorize(self, request: Request) -> None:
        token = self.settings.token
        if token is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise HTTPFailure(401, "missing or wrong bearer token")

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise HTTPFailure(400, "Content-Length is not a number")
            if int(declared) > limit:
                raise HTTPFailure(413, f"body of {declared} bytes; this service takes at most {limit}")
        chunks, size = [], 0
        async for chunk in request.stream():  # also bounds chunked bodies, which declare no length
            size += len(chunk)
            if size > limit:
                raise HTTPFailure(413, f"body above {limit} bytes; this service takes at most {limit}")
            chunks.append(chunk)
        return b"".join(chunks)

    async def score(self, request: ScoreRequest) -> list[ImageScore]:
        """Decode every image (guarded), score the usable ones through the batcher, merge ``bad_image`` ones."""
        loop = asyncio.get_running_loop()
        budget, hard_limit = self.reward.settings.max_pixels, self.settings.max_image_pixels
        loaded = await asyncio.gather(*[
            loop.run_in_executor(self._decoders, decode_image, item, budget, hard_limit)
            for item in request.images if isinstance(item, bytes)
        ])  # fmt: skip
        decoded = iter(loaded)
        verdicts: list[ImageScore | None] = []
        usable, images, seeds = [], [], []
        for index, item in enumerate(request.images):
            if not isinstance(item, bytes):  # the entry was no bytes/base64 at all
                verdicts.append(ImageScore(None, None, BAD_IMAGE, 0, [], item))
                continue
            image = next(decoded)
            if not image.usable:
                verdicts.append(ImageScore(None, None, BAD_IMAGE, 0, [], f"{image.status}: {image.detail}"))
                continue
            verdicts.append(None)
            usable.append(index)
            images.append(image.image)
            seeds.append(None if request.seeds is None else request.seeds[index])
        if images:
            for index, result in zip(usable, await self.batcher.score(images, seeds), strict=True):
                verdicts[index] = result
        return verdicts
