"""A rule-based AesCoT expert and judges behind an OpenAI-compatible chat-completions server on 127.0.0.1.

The miniature pipeline runs the real AesCoT code (client, request log, filters, SFT export) against it:

    python -m recipe.aesr1.miniature.expert_server --port 8000   # then expert.base_url=http://127.0.0.1:8000/v1

or from Python: ``with ExpertServer() as server: server.url`` (port 0 picks a free port).

It answers ``POST /v1/chat/completions`` (and ``GET /v1/models``) and tells the four requests of
``recipe.aesr1.aescot.requests`` apart by their prompts (``aescot.prompts``), as a real model would:

* the construction prompt (Appendix B): it reads the hidden score and the image, measures the image
  (``image_statistics``) and writes a critique in ``critique_grammar`` whose claims follow the
  measurements and whose mood and judgment follow the score's level, never the score itself;
* the alignment prompt: the level the critique's wording implies (``judges.implied_level``);
* the factual prompt: ``{"unsupported_claims": [...]}`` from ``judges.unsupported_claims``;
* the leakage-judge prompt: "yes" when the leakage rules (``aescot.leakage``) find a leak in the
  critique without knowing the score (a judge is not shown it), else "no".

Differs from a real expert: the wording is a fixed grammar of about 300 words, and each choice among
phrasings is seeded by (server seed, image, score), so a rerun writes the same critique. ``wording``
(``critique_grammar.WORDINGS``) asks for one phrasing per claim (``fixed``) or one terse sentence
(``terse``, what the main job uses: see the miniature's README).
A request it cannot read gets HTTP 400 with the reason (the client then fails that record).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from data_prep.levels import score_level
from data_prep.prompts import IMAGE_PLACEHOLDER
from recipe.aesr1.aescot.leakage import find_leakage
from recipe.aesr1.aescot.prompts import (
    ALIGNMENT_JUDGE_PROMPT,
    CONSTRUCTION_PROMPT,
    FACTUAL_JUDGE_PROMPT,
    LEAKAGE_JUDGE_PROMPT,
)
from recipe.aesr1.miniature.critique_grammar import WORDINGS, write_critique
from recipe.aesr1.miniature.image_statistics import decode_data_url, measure
from recipe.aesr1.miniature.judges import implied_level, unsupported_claims

MODEL_NAME = "aesr1-miniature-expert"

_MARK = "\x00"
# Each prompt's fixed text before and after its <image> (the client strips the text around the image).
_CONSTRUCTION_BEFORE, _CONSTRUCTION_AFTER = CONSTRUCTION_PROMPT.split(IMAGE_PLACEHOLDER)
_SCORE = re.compile(r"\s*" + re.escape(_CONSTRUCTION_AFTER.split("{score}")[0].strip()) + r"\s+(\d\.\d\d)\b")
_ALIGNMENT_BEFORE = ALIGNMENT_JUDGE_PROMPT.format(critique=_MARK).split(_MARK)[0]
_FACTUAL_BEFORE, _FACTUAL_AFTER = FACTUAL_JUDGE_PROMPT.format(critique=_MARK).split(IMAGE_PLACEHOLDER)
_FACTUAL_CRITIQUE_HEAD = _FACTUAL_AFTER.split(_MARK)[0].strip()
_LEAKAGE_BEFORE = LEAKAGE_JUDGE_PROMPT.format(critique=_MARK).split(_MARK)[0]


class BadRequest(ValueError):
    """The request is not one of the pipeline's three (answered with HTTP 400)."""


def _parts(messages: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Texts and image URLs of the last user message, in order."""
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        raise BadRequest("no user message")
    content = users[-1].get("content")
    parts = content if isinstance(content, list) else [{"type": "text", "text": str(content)}]
    texts = [p.get("text", "") for p in parts if p.get("type") == "text"]
    images = [p["image_url"]["url"] for p in parts if p.get("type") == "image_url"]
    return texts, images


def _seeded_rng(seed: int, image_url: str, score: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}\n{score}\n{image_url}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def answer(messages: list[dict[str, Any]], seed: int = 0, wording: str = "varied") -> tuple[str, str]:
    """(stage, reply text) for one chat request of the AesCoT pipeline; BadRequest when it is none."""
    texts, images = _parts(messages)
    if texts and texts[0].startswith(_CONSTRUCTION_BEFORE.rstrip()):
        match = _SCORE.match(texts[1] if len(texts) > 1 else "")
        if match is None or len(images) != 1:
            raise BadRequest("construction prompt without one image and a two-decimal score after it")
        score = match.group(1)
        stats = measure(decode_data_url(images[0]))
        return "generate", write_critique(stats, score_level(float(score)), _seeded_rng(seed, images[0], score), wording)
    if texts and texts[0].startswith(_ALIGNMENT_BEFORE) and not images:
        return "alignment", implied_level(texts[0][len(_ALIGNMENT_BEFORE) :])
    if texts and texts[0].startswith(_LEAKAGE_BEFORE) and not images:
        return "leakage_judge", "yes" if find_leakage(texts[0][len(_LEAKAGE_BEFORE) :], None).leaked else "no"
    if texts and texts[0].startswith(_FACTUAL_BEFORE.rstrip()):
        after = texts[1] if len(texts) > 1 else ""
        if len(images) != 1 or _FACTUAL_CRITIQUE_HEAD not in after:
            raise BadRequest("factual prompt without one image and a critique")
        critique = after.split(_FACTUAL_CRITIQUE_HEAD, 1)[1]
        claims = unsupported_claims(critique, measure(decode_data_url(images[0])))
        return "factual", json.dumps({"unsupported_claims": claims})
    raise BadRequest(
        "not an AesCoT construction, alignment, factual or leakage-judge prompt (recipe/aesr1/aescot/prompts.py)"
    )


def completion(body: dict[str, Any], seed: int = 0, wording: str = "varied") -> tuple[str, dict[str, Any]]:
    """(stage, chat.completion payload) for one request body; ``max_tokens`` cuts the reply (in words)."""
    stage, text = answer(body.get("messages") or [], seed, wording)
    words = text.split(" ")
    max_tokens = body.get("max_tokens")
    finish = "stop"
    if isinstance(max_tokens, int) and len(words) > max_tokens:
        text, finish = " ".join(words[:max_tokens]), "length"
    return stage, {
        "id": "chatcmpl-" + hashlib.sha256(text.encode()).hexdigest()[:16],
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", MODEL_NAME),
        "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 0, "completion_tokens": len(text.split()), "total_tokens": len(text.split())},
    }


class ExpertServer:
    """The server in a background thread: ``with ExpertServer(port=0) as server: server.url``.

    ``requests`` counts answered requests per stage (and ``"bad_request"``), for tests and logs.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int = 0, wording: str = "varied"):
        if wording not in WORDINGS:
            raise ValueError(f"wording must be one of {list(WORDINGS)}, got {wording!r}")
        self.seed, self.wording = seed, wording
        self.requests: Counter = Counter()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), _handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def count(self, stage: str) -> None:
        with self._lock:
            self.requests[stage] += 1

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def __enter__(self) -> "ExpertServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()


def _handler(server: ExpertServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # the pipeline's request log is the record
            pass

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                model = {"id": MODEL_NAME, "object": "model", "owned_by": "aesr1"}
                self._send(200, {"object": "list", "data": [model]})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            try:
                stage, payload = completion(json.loads(body), server.seed, server.wording)
            except (BadRequest, ValueError, KeyError, TypeError) as error:  # JSON, data URL, image errors
                server.count("bad_request")
                self._send(400, {"error": {"message": f"{type(error).__name__}: {error}", "type": "invalid_request"}})
                return
            server.count(stage)
            self._send(200, payload)

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recipe.aesr1.miniature.expert_server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (keep it local)")
    parser.add_argument("--port", type=int, default=8000, help="port; 0 picks a free one")
    parser.add_argument("--seed", type=int, default=0, help="seed of the choice among phrasings")
    parser.add_argument("--wording", choices=WORDINGS, default="varied", help="critique_grammar.WORDINGS")
    args = parser.parse_args(argv)
    server = ExpertServer(args.host, args.port, args.seed, args.wording)
    print(f"AesCoT miniature expert on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
