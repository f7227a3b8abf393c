"""Batching across callers: images of concurrent requests share backend calls, with bounded concurrency.

verl-omni's reward loop sends one image per request, all samples of a batch at once; Flow-GRPO sends
64 per request. Either way the judge is fastest when each backend call carries ``batch_size`` images,
so requests put their images on one queue and a single collector cuts it into batches:

* at most ``settings.concurrency`` batches are in flight (the collector waits for a free slot before it
  starts the next batch, so images keep queuing while the backend is busy and the next batch is full);
* a batch leaves when it holds ``settings.batch_size`` images or ``max_wait_s`` after its first image
  arrived, whichever comes first (a lone request is not held back longer than that);
* each batch is one ``AestheticReward.ascore`` call, so retries, timeouts, failure statuses and the
  content seeds are the scorer's own; a request never waits on another request's failure.
* more than ``max_pending`` queued images refuse new work (``Overloaded``, HTTP 503) instead of letting
  the queue, and every caller's latency, grow without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from PIL import Image

from recipe.aesr1.scoring.scorer import AestheticReward, ImageScore


class Overloaded(RuntimeError):
    """More images are queued than the batcher admits; the caller should retry later."""


class JudgeBatcher:
    """Scores images of concurrent callers in shared backend calls; ``start`` inside the serving event loop."""

    def __init__(self, reward: AestheticReward, max_wait_s: float = 0.005, max_pending: int = 4096):
        if max_wait_s < 0 or max_pending < 1:
            raise ValueError(f"max_wait_s must be >= 0 and max_pending >= 1, got {max_wait_s}, {max_pending}")
        self.reward = reward
        self.max_wait_s = max_wait_s
        self.max_pending = max_pending
        self.pending = 0  # images queued or being scored
        self.batches = 0  # backend calls made (batch sizes tell how well batching works)
        self.batched_images = 0
        self._queue: asyncio.Queue | None = None
        self._collector: asyncio.Task | None = None
        self._in_flight: set[asyncio.Task] = set()

    def start(self) -> None:
        """Start the collector on the running event loop."""
        self._queue = asyncio.Queue()
        self._collector = asyncio.get_running_loop().create_task(self._collect())

    async def stop(self) -> None:
        """Stop collecting and cancel batches in flight (their callers get ``CancelledError``)."""
        tasks = [t for t in (self._collector, *self._in_flight) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def score(self, images: Sequence[Image.Image], seeds: Sequence[int | None] | None = None) -> list[ImageScore]:
        """One verdict per image, in order. ``seeds[i]`` None (or no ``seeds``) takes the image's content seed.

        Raises:
            Overloaded: when admitting the images would queue more than ``max_pending``.
        """
        if self._queue is None:
            raise RuntimeError("JudgeBatcher.start() was not called in this event loop")
        if self.pending + len(images) > self.max_pending:
            raise Overloaded(f"{self.pending} images queued; at most {self.max_pending} are admitted, retry later")
        seeds = [None] * len(images) if seeds is None else list(seeds)
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in images]
        self.pending += len(images)
        for image, seed, future in zip(images, seeds, futures, strict=True):
            self._queue.put_nowait((image, self.reward.content_seed(image) if seed is None else seed, future))
        try:
            return list(await asyncio.gather(*futures))
        finally:
            self.pending -= len(images)

    async def _collect(self) -> None:
        slots = asyncio.Semaphore(self.reward.settings.concurrency)
        size = self.reward.settings.batch_size
        loop = asyncio.get_running_loop()
        while True:
            await slots.acquire()
            batch = [await self._queue.get()]
            deadline = loop.time() + self.max_wait_s
            while len(batch) < size:
                try:
                    batch.append(self._queue.get_nowait())
                    continue
                except asyncio.QueueEmpty:
                    pass
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                except TimeoutError:
                    break
            # A caller that went away (client disconnected) leaves cancelled futures: skip its images.
            batch = [item for item in batch if not item[2].done()]
            if not batch:
                slots.release()
                continue
            task = loop.create_task(self._dispatch(batch, slots))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _dispatch(self, batch: list, slots: asyncio.Semaphore) -> None:
        try:
            self.batches += 1
            self.batched_images += len(batch)
            results = await self.reward.ascore([image for image, _, _ in batch], [seed for _, seed, _ in batch])
        except Exception as error:  # noqa: BLE001 - ascore turns backend failures into statuses; anything else is a bug to report to every caller
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(error)
        else:
            for (_, _, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
        finally:
            slots.release()
