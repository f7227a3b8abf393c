"""One OpenAI-compatible chat-completions endpoint: where it is, how it is asked, how failures are retried.

Used by every client of such endpoints: the AesCoT expert and judges, RED-Aes's experts and judges, and
the ``openai`` scoring backend (``scoring/backends/openai_backend.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass
class EndpointConfig:
    """One OpenAI-compatible chat-completions endpoint (vLLM, SGLang, a hosted API)."""

    # e.g. a local `vllm serve Qwen/Qwen2.5-VL-72B-Instruct` (the paper used GPT-4.1 as expert).
    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "Qwen/Qwen2.5-VL-72B-Instruct"
    # Name of the environment variable holding the key; the key itself is never logged or written.
    # null: send the placeholder "EMPTY" (a vLLM server started without --api-key).
    api_key_env: Optional[str] = "OPENAI_API_KEY"
    max_concurrency: int = 16  # ours: requests in flight to this endpoint
    timeout_s: float = 300.0  # ours: per-request timeout
    max_retries: int = 6  # ours: retries after the first attempt on 429/5xx/connection/malformed
    backoff_base_s: float = 2.0  # ours: delay before retry i is base * 2**i (jittered), capped below
    backoff_max_s: float = 120.0
    temperature: float = 0.7  # ours: the paper gives no sampling parameters for the expert
    max_tokens: int = 1024  # ours: a critique longer than this is rejected as "truncated"
    # Send the request key as a header so server logs can be matched with the on-disk request log.
    request_key_header: Optional[str] = "X-AesCoT-Request-Key"
