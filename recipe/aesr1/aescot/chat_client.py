"""One OpenAI-compatible chat-completions endpoint, with bounded concurrency, timeouts and retries.

The ``openai`` client's own retries are switched off so that every HTTP attempt is counted here and
the retry policy is ours: exponential backoff with jitter (honouring ``Retry-After``) on 429, 5xx,
408/409, connection errors, timeouts and malformed replies (unparsable body, no choices, empty
content, or content the caller's ``validate`` rejects). Other 4xx answers fail the record at once;
401/403/404 stop the run, since every other request would fail the same way.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openai

from recipe.aesr1.aescot.config import EndpointConfig

logger = logging.getLogger(__name__)

_RETRYABLE_STATUS = {408, 409, 429}
_FATAL_ERRORS = (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)


class FatalEndpointError(RuntimeError):
    """The endpoint refuses every request (bad key, unknown model or URL): the run must stop."""


class MalformedReply(ValueError):
    """The reply arrived but is unusable (no choices, empty content, content failing validation)."""


@dataclass(frozen=True)
class ChatResult:
    """Outcome of one logical request after all its attempts.

    Attributes:
        text: message content of the reply, or None when the retries ran out.
        finish_reason: e.g. ``stop`` or ``length``; None when failed.
        attempts: HTTP requests made (>= 1).
        error: the last error when failed, else None.
    """

    text: str | None
    finish_reason: str | None
    attempts: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def resolve_api_key(config: EndpointConfig) -> str:
    """Read the key from the environment variable named by ``api_key_env`` (never from the config)."""
    if config.api_key_env is None:
        return "EMPTY"
    key = os.environ.get(config.api_key_env)
    if not key:
        raise ValueError(
            f"environment variable {config.api_key_env!r} (api_key_env of endpoint {config.base_url}) is not "
            "set; export it, or set api_key_env=null for a server without authentication"
        )
    return key


def _reply_content(response: Any) -> tuple[str, str | None]:
    """Text and finish reason of a chat completion; MalformedReply when the body lacks them."""
    choices = getattr(response, "choices", None)
    if not choices:
        raise MalformedReply(f"reply has no choices: {str(response)[:200]!r}")
    message = getattr(choices[0], "message", None)
    content = getattr(message, "content", None)
    if not isinstance(content, str) or not content.strip():
        raise MalformedReply("reply has no message content")
    return content, getattr(choices[0], "finish_reason", None)


def _describe(error: BaseException) -> str:
    status = getattr(error, "status_code", None)
    text = str(error).replace("\n", " ")[:300]
    return f"{type(error).__name__}" + (f" (HTTP {status})" if status else "") + f": {text}"


def _retry_after_s(error: BaseException) -> float | None:
    response = getattr(error, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class ChatEndpoint:
    """Async client for one endpoint; ``complete`` never raises for a per-record failure.

    Use as ``async with ChatEndpoint(config, "expert") as endpoint: await endpoint.complete(...)``.
    """

    def __init__(self, config: EndpointConfig, name: str):
        self.config = config
        self.name = name
        self._semaphore = asyncio.Semaphore(config.max_concurrency)
        self._client = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=resolve_api_key(config),
            timeout=config.timeout_s,
            max_retries=0,
        )

    async def __aenter__(self) -> "ChatEndpoint":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._client.close()

    def _backoff_s(self, retry_index: int, error: BaseException | None) -> float:
        delay = min(self.config.backoff_max_s, self.config.backoff_base_s * 2**retry_index)
        delay *= random.uniform(0.5, 1.0)  # jitter: clients that failed together do not retry together
        retry_after = _retry_after_s(error)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.config.backoff_max_s))
        return delay

    async def complete(
        self,
        messages: list[dict[str, Any]],
        validate: Callable[[str], object] = lambda text: None,
        request_key: str | None = None,
    ) -> ChatResult:
        """Send one chat request, retrying as the module docstring says.

        Args:
            messages: chat messages in the OpenAI format (image parts as data URLs).
            validate: called on the reply text; raising ValueError marks the reply malformed (retried).
            request_key: sent in the configured header, for matching server logs.

        Raises:
            FatalEndpointError: on 401/403/404.
        """
        headers = {}
        if request_key is not None and self.config.request_key_header:
            headers[self.config.request_key_header] = request_key
        last_error = "no attempt made"
        last_exception: BaseException | None = None
        attempts = 0
        for retry_index in range(self.config.max_retries + 1):
            attempts += 1
            try:
                async with self._semaphore:
                    response = await self._client.chat.completions.create(
                        model=self.config.model,
                        messages=messages,
                        temperature=self.config.temperature,
                        max_tokens=self.config.max_tokens,
                        extra_headers=headers,
                    )
                text, finish_reason = _reply_content(response)
                validate(text)
                return ChatResult(text, finish_reason, attempts, None)
            except _FATAL_ERRORS as error:
                raise FatalEndpointError(f"{self.name} endpoint {self.config.base_url}: {_describe(error)}") from error
            except openai.APIStatusError as error:
                last_error, last_exception = _describe(error), error
                if error.status_code < 500 and error.status_code not in _RETRYABLE_STATUS:
                    return ChatResult(None, None, attempts, last_error)  # e.g. 400: this request is bad
            except (openai.APIConnectionError, openai.APIResponseValidationError, ValueError) as error:
                # Connection drops and timeouts; bodies that are not JSON or not a chat completion.
                last_error, last_exception = _describe(error), error
            if retry_index < self.config.max_retries:
                delay = self._backoff_s(retry_index, last_exception)
                logger.debug("%s: %s; retry in %.2fs", request_key, last_error, delay)
                await asyncio.sleep(delay)
        logger.warning("%s: giving up after %d attempts: %s", request_key, attempts, last_error)
        return ChatResult(None, None, attempts, last_error)
