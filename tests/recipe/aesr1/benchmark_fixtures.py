"""Fixtures of the evaluation, backend and photo-CLI tests: PIL-drawn benchmark tables, a local
OpenAI-compatible server, a tiny Qwen2-VL (imported by those folders' conftest.py).

The server answers like a perfectly formatted judge whose score is the image's red level
(``round(red / 255, 2)``), so a test can draw an image for any prediction it wants and check the
metrics exactly. A pure black image (red 0) gets an answer without ``<answer>``: a parse failure;
red level 1 gets HTTP 400, as a content filter would answer. ``judge.script`` maps a red level to
one fault per attempt, played by the AesCoT fake server's ``send_scripted`` (429, 500, drop,
malformed, nochoices, nonutf8, empty, trickle:S, echo:STATUS, delay:S[:B] ...).
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from recipe.aesr1.miniature.tiny_vlm import save_tiny_vlm

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "aescot"))  # the one fake server's faults
from aescot_fakes import send_scripted  # noqa: E402

UNPARSEABLE = "I would rather not give a number."
REFUSED = object()  # red level 1: the server answers HTTP 400, as a content filter would


def png_bytes(red: int, size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (red, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def red_for(prediction: float) -> int:
    """The red level the fake judge reads back as ``prediction`` (two decimals)."""
    return round(prediction * 255)


def write_table(path, rows) -> None:
    """rows: dicts with id, dataset, split, score and either image_bytes or image_path."""
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    table = pa.table(
        {
            "id": pa.array([r["id"] for r in rows], pa.string()),
            "dataset": pa.array([r["dataset"] for r in rows], pa.string()),
            "split": pa.array([r.get("split", "test") for r in rows], pa.string()),
            "score": pa.array([r["score"] for r in rows], pa.float64()),
            "raw_score": pa.array([r["score"] * 10 for r in rows], pa.float64()),
            "image": pa.array([{"bytes": r.get("image_bytes"), "path": r.get("image_path")} for r in rows], image_type),
            "vote_count": pa.array([100] * len(rows), pa.int64()),  # an extra column consumers ignore
        }
    )
    pq.write_table(table, path)


class FakeJudge:
    """State of the fake server: request log and switches."""

    def __init__(self):
        self.requests: list[dict] = []
        self.ignore_n = False
        self.script: dict[int, list[str]] = {}  # red level -> behaviour per attempt
        self.attempts: dict[int, int] = {}
        self.authorizations: set[str] = set()
        self.lock = threading.Lock()

    def behaviour(self, red: int) -> str:
        with self.lock:
            attempt = self.attempts.get(red, 0)
            self.attempts[red] = attempt + 1
        plan = self.script.get(red, [])
        return plan[attempt] if attempt < len(plan) else "ok"


def _red(body: dict) -> int:
    content = body["messages"][0]["content"]
    url = next(part["image_url"]["url"] for part in content if part["type"] == "image_url")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB").getpixel((0, 0))[0]


def _answer(body: dict) -> str:
    red = _red(body)
    if red == 0:
        return UNPARSEABLE
    if red == 1:
        return REFUSED
    return f"<think>Balanced composition and pleasing light.</think><answer>{round(red / 255, 2)}</answer>"


def _payload(judge: FakeJudge, body: dict) -> dict:
    """The normal 200 body: ``n`` identical choices (one when ``ignore_n``), with top-k logprobs if asked."""
    text = _answer(body)
    n = 1 if judge.ignore_n else body.get("n", 1)
    logprobs = None
    if body.get("logprobs"):
        k = body["top_logprobs"]
        top = [{"token": f"t{j}", "logprob": math.log(1.0 / k), "bytes": None} for j in range(k)]
        tokens = [{"token": "t0", "logprob": math.log(1.0 / k), "bytes": None, "top_logprobs": top}] * 3
        logprobs = {"content": tokens}
    choice = lambda i: {  # noqa: E731
        "index": i,
        "message": {"role": "assistant", "content": text},
        "finish_reason": "stop",
        "logprobs": logprobs,
    }
    payload = {
        "id": "cmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": body["model"],
        "choices": [choice(i) for i in range(n)],
        "usage": {"prompt_tokens": 1, "completion_tokens": 3 * n, "total_tokens": 1 + 3 * n},
    }
    return payload


def _handler(judge: FakeJudge):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest output clean
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with judge.lock:
                judge.requests.append(body)
                judge.authorizations.add(self.headers.get("Authorization", ""))
            behaviour = judge.behaviour(_red(body))
            if behaviour != "ok":
                send_scripted(self, behaviour, lambda: _payload(judge, body))
                return
            text = _answer(body)
            if text is REFUSED:
                data = json.dumps(
                    {"error": {"message": "image refused by content filter", "type": "invalid_request_error"}}
                ).encode()
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            payload = _payload(judge, body)
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def fake_judge():
    """(base_url, judge) of a real HTTP server on 127.0.0.1, stopped after the test."""
    judge = FakeJudge()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(judge))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", judge
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session", params=["qwen2_vl", "qwen2_5_vl"])
def tiny_vlm(request, tmp_path_factory):
    """Folder of a tiny random-weight Qwen2-VL, then of a Qwen2.5-VL (the paper's backbone family)."""
    return save_tiny_vlm(tmp_path_factory.mktemp(request.param), request.param)


class DiesAfter:
    """Wraps a backend and raises after ``calls`` generate calls, like a job killed mid-run."""

    def __init__(self, inner, calls):
        self.inner, self.calls, self.name = inner, calls, inner.name

    def generate(self, *args):
        if self.calls == 0:
            raise KeyboardInterrupt("killed")
        self.calls -= 1
        return self.inner.generate(*args)


@pytest.fixture(scope="session")
def helpers():
    """The drawing and table helpers above (test modules cannot import conftest under importlib mode)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        png_bytes=png_bytes, red_for=red_for, write_table=write_table, UNPARSEABLE=UNPARSEABLE, DiesAfter=DiesAfter
    )
