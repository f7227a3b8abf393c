"""A fake OpenAI-compatible judge with failure switches, and the tiny offline Qwen2-VL.

The fake judge reads the image's red level back as its score (``round(red / 255, 2)``), answers
without ``<answer>`` for red 0, refuses red 1 with HTTP 400 (a content filter); ``fail_next`` makes
the next requests answer HTTP 500, ``delay_s`` slows every answer, and it records the most
requests it saw in flight at once.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from recipe.aesr1.evaluation.tiny_vlm import save_tiny_vlm


class FakeJudge:
    def __init__(self):
        self.requests: list[dict] = []
        self.fail_next = 0
        self.delay_s = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()


def _reply(body: dict) -> tuple[int, str]:
    content = body["messages"][0]["content"]
    url = next(part["image_url"]["url"] for part in content if part["type"] == "image_url")
    red = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB").getpixel((0, 0))[0]
    if red == 0:
        return 200, "I would rather not give a number."
    if red == 1:
        return 400, "image refused by content filter"
    prompt = "".join(part.get("text", "") for part in content)
    answer = f"<answer>{round(red / 255, 2)}</answer>"
    return 200, answer if "Do not explain" in prompt else f"<think>Pleasing light, balanced lines.</think>{answer}"


def _handler(judge: FakeJudge):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, code, payload):
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._send(200 if self.path == "/health" else 404, {"status": "ok"})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with judge.lock:
                judge.requests.append(body)
                judge.in_flight += 1
                judge.max_in_flight = max(judge.max_in_flight, judge.in_flight)
                fail = judge.fail_next > 0
                judge.fail_next -= fail
            try:
                time.sleep(judge.delay_s)
                if fail:
                    return self._send(500, {"error": {"message": "server overloaded", "type": "server_error"}})
                code, text = _reply(body)
                if code != 200:
                    return self._send(code, {"error": {"message": text, "type": "invalid_request_error"}})
                choices = [{"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                           for i in range(body.get("n", 1))]
                self._send(200, {"id": "c", "object": "chat.completion", "created": 0, "model": body["model"],
                                 "choices": choices})
            finally:
                with judge.lock:
                    judge.in_flight -= 1

    return Handler


@pytest.fixture
def fake_judge():
    """(base_url, judge) of a real HTTP server on 127.0.0.1, stopped after the test."""
    judge = FakeJudge()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(judge))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", judge
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A tiny random-weight Qwen2-VL checkpoint folder (built offline)."""
    return str(save_tiny_vlm(tmp_path_factory.mktemp("tiny_qwen2_vl")))


@pytest.fixture(scope="session")
def draw():
    """draw(red, size=(40, 30)) -> an RGB PIL image the fake judge scores round(red / 255, 2)."""
    return lambda red, size=(40, 30): Image.new("RGB", size, (red, 90, 160))
