"""One logged request: ask an endpoint these messages under this key, through the resumable request log.

The steps AesCoT and RED-Aes share: hash what is sent into a request key, return the logged entry when
the key already finished, else send through ``ChatEndpoint.complete`` (which validates the reply and
retries), and append the outcome with its cost (attempts, endpoint seconds, reported tokens) to the log
before anyone sees it, so a killed run resumes without repeating a finished request.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from recipe.aesr1.endpoints.chat_client import ChatEndpoint
from recipe.aesr1.endpoints.request_log import (
    OUTCOME_FAILED,
    OUTCOME_OK,
    LogEntry,
    RequestLog,
    request_key,
)


def payload_for_key(model: str, messages: list[dict[str, Any]], **params: Any) -> dict:
    """What the request key hashes: the request with each image data URL replaced by its sha256.

    Hashing the data URL (base64 of the exact bytes sent) keeps the key small, changes it whenever
    an image changes, and tells apart requests that carry several images.
    """

    def strip(part: Any) -> Any:
        if isinstance(part, dict) and part.get("type") == "image_url":
            url = part["image_url"]["url"]
            return {"type": "image_url", "image_url": {"url": "sha256:" + hashlib.sha256(url.encode()).hexdigest()}}
        return part

    stripped = [
        {**m, "content": [strip(p) for p in m["content"]] if isinstance(m["content"], list) else m["content"]}
        for m in messages
    ]
    return {"model": model, "messages": stripped, **params}


class LoggedRequests:
    """The requests of one run, made through its log (one writer: the run holds ``exclusive_dir``).

    ``retry_failed``: a logged failure is asked again instead of counting as finished.
    ``requests_made``: attempts made in this process (0 when everything came from the log).
    """

    def __init__(self, log: RequestLog, retry_failed: bool):
        self.log = log
        self.retry_failed = retry_failed
        self.requests_made = 0
        self._in_flight: dict[str, asyncio.Future[LogEntry]] = {}

    def finished(self, key: str) -> LogEntry | None:
        """The logged entry of ``key`` when it needs no new request: a success, or a failure kept as such."""
        logged = self.log.get(key)
        return logged if logged is not None and (logged.ok or not self.retry_failed) else None

    async def ask(
        self, endpoint: ChatEndpoint, stage: str, record_id: str, messages: list[dict[str, Any]],
        validate: Callable[[str], object],
    ) -> LogEntry:
        """The entry of one chat request (``ok`` with the validated text, or ``failed`` with its error).

        The key hashes the model, the messages (images by digest) and the sampling parameters, so changed
        settings never reuse a logged reply.
        """
        params = {"temperature": endpoint.config.temperature, "max_tokens": endpoint.config.max_tokens}
        key = request_key(stage, record_id, payload_for_key(endpoint.config.model, messages, **params))

        async def send() -> LogEntry:
            result = await endpoint.complete(messages, validate, request_key=key)
            return LogEntry(key, stage, record_id, OUTCOME_OK if result.ok else OUTCOME_FAILED, result.text,
                            result.finish_reason, result.attempts, result.error, endpoint.config.model,
                            round(result.seconds, 4), result.prompt_tokens, result.completion_tokens)

        return self.finished(key) or await self.once(key, send)

    async def once(self, key: str, send: Callable[[], Awaitable[LogEntry]]) -> LogEntry:
        """Make the request ``send`` and log its entry; callers asking the same key meanwhile share it.

        For requests that are not chat (RED-Aes's edits): ``send`` returns the entry to log.
        """
        if key not in self._in_flight:
            self._in_flight[key] = asyncio.ensure_future(self._send_and_log(send))
            self._in_flight[key].add_done_callback(lambda _: self._in_flight.pop(key, None))
        return await self._in_flight[key]

    async def _send_and_log(self, send: Callable[[], Awaitable[LogEntry]]) -> LogEntry:
        entry = await send()
        # No await between the reply and this durable write: a cancelled task never loses a reply it
        # has accepted, and a reply is accepted only here.
        self.requests_made += entry.attempts
        self.log.append(entry)
        return entry
