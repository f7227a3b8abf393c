"""The project's one OpenAI-compatible chat-completions client (AesCoT, judges, RED-Aes, evaluation, scoring).

Public API (kept small and stable; other packages call only these):

* ``ChatEndpoint(config, name, api_key=None)``: async context manager for one endpoint
  (``EndpointConfig``: URL, model, concurrency, timeout, retries, backoff, sampling defaults).
* ``await endpoint.complete(messages, validate=..., request_key=None, n=1, params=None) -> ChatResult``:
  one logical request; never raises for a per-request failure, only ``FatalEndpointError``.
* ``ChatResult`` (``text``, ``finish_reason``, ``attempts``, ``error``, ``choices``, ``ok``, and its cost:
  ``seconds``, ``prompt_tokens``, ``completion_tokens``) and
  ``ChatChoice`` (``text``, ``finish_reason``, ``logprobs``).
* ``redact(text, secrets=())``: remove keys and bearer tokens from any text before it is stored or printed.
* ``resolve_api_key(config)``, ``FatalEndpointError``, ``MalformedReply``.

One policy for every caller:

* Timeout: ``timeout_s`` is a deadline per attempt, from sending the request to having the whole reply
  (a reply trickled slower than that is abandoned and retried), not the HTTP client's per-read timeout.
* Retries: the ``openai`` client's own retries are off, so every HTTP attempt is counted here.
  Exponential backoff with jitter (honouring ``Retry-After``) on 429, 5xx, 408/409, connection errors,
  timeouts and malformed replies (unparsable or non-UTF-8 body, no choices, empty content, or content
  the caller's ``validate`` rejects), at most ``max_retries`` times. Other 4xx answers fail the request at
  once; 401/403/404 raise ``FatalEndpointError``, since every other request would fail the same way.
* Secrets: every error text this module returns, raises or logs has passed through ``redact`` with the
  endpoint's key, and the original exception is not chained (a traceback cannot print an echoed key).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import openai

from recipe.aesr1.endpoints.config import EndpointConfig

logger = logging.getLogger(__name__)

_RETRYABLE_STATUS = {408, 409, 429}
_FATAL_ERRORS = (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)
_PLACEHOLDER_KEY = "EMPTY"  # what servers without authentication accept
REDACTED = "[REDACTED]"
# Token shapes that are secrets whoever's they are: an Authorization value and OpenAI-style keys.
_TOKEN_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic)\s+[^\s\"',;}\]]+"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"),
)


class FatalEndpointError(RuntimeError):
    """The endpoint refuses every request (bad key, unknown model or URL): the run must stop."""


class MalformedReply(ValueError):
    """The reply arrived but is unusable (no choices, empty content, content failing validation)."""


@dataclass(frozen=True)
class ChatChoice:
    """One returned choice: its content, finish reason and the raw ``logprobs`` object (or None)."""

    text: str
    finish_reason: str | None
    logprobs: Any = None


@dataclass(frozen=True)
class ChatResult:
    """Outcome of one logical request after all its attempts.

    Attributes:
        text: content of the first choice, or None when the request failed.
        finish_reason: e.g. ``stop`` or ``length`` (first choice); None when failed.
        attempts: HTTP requests made (>= 1).
        error: the last error (redacted) when failed, else None.
        choices: every returned choice (``n`` asked; an endpoint may return fewer); empty when failed.
        seconds: time spent in HTTP attempts (from a free concurrency slot to the whole reply), summed over
            the attempts; waiting for a slot and backoff sleeps are not the endpoint's cost.
        prompt_tokens, completion_tokens: the accepted reply's ``usage``; None when the endpoint reports none
            or the request failed.
    """

    text: str | None
    finish_reason: str | None
    attempts: int
    error: str | None
    choices: tuple[ChatChoice, ...] = ()
    seconds: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each secret, bearer/basic credential and ``sk-...`` key replaced by ``[REDACTED]``."""
    for secret in secrets:
        if secret and secret != _PLACEHOLDER_KEY and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) + " " if m.lastindex else "") + REDACTED, text)
    return text


def resolve_api_key(config: EndpointConfig) -> str:
    """Read the key from the environment variable named by ``api_key_env`` (never from the config)."""
    if config.api_key_env is None:
        return _PLACEHOLDER_KEY
    key = os.environ.get(config.api_key_env)
    if not key:
        raise ValueError(
            f"environment variable {config.api_key_env!r} (api_key_env of endpoint {config.base_url}) is not "
            "set; export it, or set api_key_env=null for a server without authentication"
        )
    return key


def _reply_choices(response: Any) -> tuple[ChatChoice, ...]:
    """Every choice of a chat completion; MalformedReply when the body lacks choices or content."""
    choices = getattr(response, "choices", None)
    if not choices:
        raise MalformedReply(f"reply has no choices: {str(response)[:200]!r}")
    result = []
    for choice in choices:
        content = getattr(getattr(choice, "message", None), "content", None)
        if not isinstance(content, str) or not content.strip():
            raise MalformedReply("reply has no message content")
        result.append(ChatChoice(content, getattr(choice, "finish_reason", None), getattr(choice, "logprobs", None)))
    return tuple(result)


def _usage(response: Any) -> tuple[int | None, int | None]:
    """(prompt_tokens, completion_tokens) of a reply's ``usage``; None for what it does not report."""
    usage = getattr(response, "usage", None)
    prompt, completion = (getattr(usage, name, None) for name in ("prompt_tokens", "completion_tokens"))
    return (prompt if isinstance(prompt, int) else None, completion if isinstance(completion, int) else None)


def _retry_after_s(error: BaseException | None) -> float | None:
    response = getattr(error, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class ChatEndpoint:
    """Async client for one endpoint; ``complete`` never raises for a per-request failure.

    Use as ``async with ChatEndpoint(config, "expert") as endpoint: await endpoint.complete(...)``.
    ``api_key`` overrides ``config.api_key_env`` (a key given on a command line).
    """

    def __init__(self, config: EndpointConfig, name: str, api_key: str | None = None):
        self.config = config
        self.name = name
        self._semaphore = asyncio.Semaphore(config.max_concurrency)
        self._key = api_key or resolve_api_key(config)
        self._client = openai.AsyncOpenAI(
            base_url=config.base_url, api_key=self._key, timeout=config.timeout_s, max_retries=0
        )

    async def __aenter__(self) -> "ChatEndpoint":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._client.close()

    def redact(self, text: str) -> str:
        """``redact`` with this endpoint's key."""
        return redact(text, (self._key,))

    def _describe(self, error: BaseException) -> str:
        status = getattr(error, "status_code", None)
        if isinstance(error, TimeoutError):
            text = f"no complete reply within timeout_s={self.config.timeout_s}"
        else:
            text = str(error).replace("\n", " ")[:300]
        return self.redact(f"{type(error).__name__}" + (f" (HTTP {status})" if status else "") + f": {text}")

    def _backoff_s(self, retry_index: int, error: BaseException | None) -> float:
        delay = min(self.config.backoff_max_s, self.config.backoff_base_s * 2**retry_index)
        delay *= random.uniform(0.5, 1.0)  # jitter: clients that failed together do not retry together
        retry_after = _retry_after_s(error)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.config.backoff_max_s))
        return delay

    async def _attempt(self, messages: list[dict[str, Any]], headers: dict, n: int, params: dict,
                       clock: list[float]) -> Any:
        async with self._semaphore:
            # The deadline starts once a slot is free, and covers the whole body (trickled replies too).
            start = time.perf_counter()
            try:
                async with asyncio.timeout(self.config.timeout_s):
                    return await self._client.chat.completions.create(
                        **{"model": self.config.model, "messages": messages, "temperature": self.config.temperature,
                           "max_tokens": self.config.max_tokens, "extra_headers": headers,
                           **({"n": n} if n != 1 else {}), **params}
                    )
            finally:
                clock[0] += time.perf_counter() - start  # a failed attempt costs the endpoint time too

    async def complete(
        self,
        messages: list[dict[str, Any]],
        validate: Callable[[str], object] = lambda text: None,
        request_key: str | None = None,
        n: int = 1,
        params: dict[str, Any] | None = None,
    ) -> ChatResult:
        """Send one chat request, retrying as the module docstring says.

        Args:
            messages: chat messages in the OpenAI format (image parts as data URLs).
            validate: called on each choice's text; raising ValueError marks the reply malformed (retried).
            request_key: sent in the configured header, for matching server logs.
            n: choices to ask for (an endpoint ignoring ``n`` returns fewer; the caller tops up).
            params: request fields overriding the config's (``temperature``, ``max_tokens``, ``top_p``,
                ``seed``, ``logprobs``, ``extra_body`` ...).

        Raises:
            FatalEndpointError: on 401/403/404 (message redacted).
        """
        headers = {}
        if request_key is not None and self.config.request_key_header:
            headers[self.config.request_key_header] = request_key
        last_error = "no attempt made"
        last_exception: BaseException | None = None
        attempts = 0
        clock = [0.0]  # seconds in attempts, added to by _attempt
        for retry_index in range(self.config.max_retries + 1):
            attempts += 1
            try:
                response = await self._attempt(messages, headers, n, dict(params or {}), clock)
                choices = tuple(
                    ChatChoice(self.redact(c.text), c.finish_reason, c.logprobs) for c in _reply_choices(response)
                )
                for choice in choices:
                    validate(choice.text)
                prompt_tokens, completion_tokens = _usage(response)
                return ChatResult(choices[0].text, choices[0].finish_reason, attempts, None, choices, clock[0],
                                  prompt_tokens, completion_tokens)
            except _FATAL_ERRORS as error:
                message = f"{self.name} endpoint {self.config.base_url}: {self._describe(error)}"
                raise FatalEndpointError(message) from None  # not chained: the original may echo the key
            except openai.APIStatusError as error:
                last_error, last_exception = self._describe(error), error
                if error.status_code < 500 and error.status_code not in _RETRYABLE_STATUS:
                    return ChatResult(None, None, attempts, last_error, seconds=clock[0])  # e.g. 400: a bad request
            except (openai.APIConnectionError, openai.APIResponseValidationError, ValueError, TimeoutError) as error:
                # Connection drops, deadlines; bodies that are not JSON, not UTF-8 or not a chat completion.
                last_error, last_exception = self._describe(error), error
            if retry_index < self.config.max_retries:
                delay = self._backoff_s(retry_index, last_exception)
                logger.debug("%s: %s; retry in %.2fs", request_key, last_error, delay)
                await asyncio.sleep(delay)
        logger.warning("%s: giving up after %d attempts: %s", request_key, attempts, last_error)
        return ChatResult(None, None, attempts, last_error, seconds=clock[0])
