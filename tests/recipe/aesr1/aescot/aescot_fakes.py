"""A real chat-completions server on 127.0.0.1 for the AesCoT tests, and tiny prepared parquet.

The server plays the expert and both judges, decided by the request-key header's stage:
* expert: reads the score from the Appendix B prompt and the image's colour from the data URL, and
  writes a critique naming that colour and a level word (poor / decent / excellent);
* alignment judge: maps the level word back to bad / fair / good (no image, no score needed);
* factual judge: decodes the image and lists the colour claim when it is wrong;
* leakage judge: says yes when the critique ranks the picture "near the top".
Record ids choose defects: ``leak*`` (a "7 out of 10"), ``wrongcolor*``, ``misaligned*``, ``tags*``
(an ``<answer>`` tag inside the critique), ``long*`` (finish_reason "length"), ``garbage*`` (the
alignment judge never gives a level). A ``script`` maps "stage/id" or "id" to one behaviour per
attempt: ok, an HTTP status (429, 500, 401, ...), drop (close without answer), malformed (invalid
JSON), nochoices (JSON without choices), delay:S (answer after S seconds), retry-after:S (a 429
with that header), and the faults ``send_scripted`` lists (empty, huge, nonutf8, trickle:S, echo:STATUS).
The evaluation tests' server plays the same faults through ``send_scripted``.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image, ImageDraw

COLORS = {"red": (200, 30, 30), "green": (30, 170, 60), "blue": (30, 60, 200), "yellow": (220, 200, 40)}
LEVEL_WORDS = {"bad": "poor", "fair": "decent", "good": "excellent"}
KEY_HEADER = "X-AesCoT-Request-Key"


def draw_image(color: str, fmt: str = "PNG", size: tuple[int, int] = (48, 48)) -> bytes:
    """A picture of one colour with a white square: enough for the fake judges to check claims."""
    image = Image.new("RGB", size, COLORS[color])
    ImageDraw.Draw(image).rectangle([16, 16, 24, 24], fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def color_of(data_url: str) -> str:
    data = base64.b64decode(data_url.split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as image:
        pixel = image.convert("RGB").getpixel((2, 2))
    return min(COLORS, key=lambda name: sum((a - b) ** 2 for a, b in zip(COLORS[name], pixel)))


def image_sizes(body: dict) -> list[tuple[int, int]]:
    """(width, height) of every image part of a chat request."""
    content = body["messages"][0]["content"]
    urls = [p["image_url"]["url"] for p in content if p["type"] == "image_url"] if isinstance(content, list) else []
    sizes = []
    for url in urls:
        with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as image:
            sizes.append(image.size)
    return sizes


def write_table(path, rows: list[dict]) -> None:
    """Evaluation-table layout of the data contract: id, dataset, split, score, raw_score, image."""
    table = pa.table(
        {
            "id": [r["id"] for r in rows],
            "dataset": [r.get("dataset", "ava") for r in rows],
            "split": [r.get("split", "train") for r in rows],
            "score": pa.array([float(r["score"]) for r in rows], pa.float64()),
            "raw_score": pa.array([float(r["score"]) * 10 for r in rows], pa.float64()),
            "image": pa.array(
                [{"bytes": r.get("bytes", draw_image(r.get("color", "red"))), "path": r.get("path")} for r in rows],
                pa.struct([("bytes", pa.binary()), ("path", pa.string())]),
            ),
            "vote_count": pa.array([100] * len(rows), pa.int64()),  # an extra column consumers ignore
        }
    )
    pq.write_table(table, path)


def _level(score: float) -> str:
    return "bad" if score < 0.4 else ("fair" if score < 0.7 else "good")


class FakeChatServer:
    def __init__(self, script: dict[str, list[str]] | None = None, delay_s: float = 0.0,
                 suffixes: dict[str, str] | None = None):
        self.script = script or {}
        self.suffixes = suffixes or {}  # id -> sentence the expert appends to its critique
        self.delay_s = delay_s
        self.requests: list[dict] = []  # one per HTTP request: key, behaviour
        self.authorizations: set[str] = set()
        self.in_flight = 0
        self.max_in_flight = 0
        self._attempts: Counter = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    server.handle(self, json.loads(body))
                finally:
                    with server._lock:
                        server.in_flight -= 1

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()

    def ok_counts(self) -> Counter:
        return Counter(r["key"] for r in self.requests if r["behaviour"] == "ok")

    def handle(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        key = handler.headers.get(KEY_HEADER, "")
        self.authorizations.add(handler.headers.get("Authorization", ""))
        stage, record_id = key.split("/")[0], "/".join(key.split("/")[1:-1])
        name = record_id.split("/")[-1]
        with self._lock:
            attempt = self._attempts[key]
            self._attempts[key] += 1
        plan = self.script.get(f"{stage}/{name}", self.script.get(name, []))
        behaviour = plan[attempt] if attempt < len(plan) else "ok"
        with self._lock:
            self.requests.append({"key": key, "behaviour": behaviour, "time": time.monotonic(),
                                  "image_sizes": image_sizes(body)})
        if self.delay_s:
            time.sleep(self.delay_s)

        def ok_payload() -> dict:
            text, finish = self.answer(stage, name, body)
            if stage == "generate" and name in self.suffixes:
                text += " " + self.suffixes[name]
            return chat_completion(body["model"], [text], finish)

        send_scripted(handler, behaviour, ok_payload)

    @staticmethod
    def answer(stage: str, name: str, body: dict) -> tuple[str, str]:
        content = body["messages"][0]["content"]
        parts = content if isinstance(content, list) else [{"type": "text", "text": content}]
        text = "".join(p["text"] for p in parts if p["type"] == "text")
        images = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
        if stage == "generate":
            score = float(re.search(r"aesthetic rating of this picture\s*is (\d\.\d\d)", text).group(1))
            level = _level(score)
            color = color_of(images[0])
            if name.startswith("wrongcolor"):
                color = next(c for c in COLORS if c != color)
            if name.startswith("misaligned"):
                level = {"bad": "good", "fair": "bad", "good": "bad"}[level]
            critique = (f"The frame is dominated by {color} tones around a small white square. "
                        f"Light and shadow are simple; the composition is centred. "
                        f"Overall this is a {LEVEL_WORDS[level]} photograph.")
            if name.startswith("leak"):
                critique += " I would give it a solid 7 out of 10."
            if name.startswith("tags"):
                critique += " <answer>"
            return critique, ("length" if name.startswith("long") else "stop")
        if stage == "alignment":
            if name.startswith("garbage"):
                return "I cannot decide.", "stop"
            word = re.search(r"this is a (\w+) photograph", text).group(1)
            return {v: k for k, v in LEVEL_WORDS.items()}[word], "stop"
        if stage == "leakage_judge":  # sees through a leak no rule names: a rank "near the top"
            return ("yes" if "near the top" in text else "no"), "stop"
        if stage == "factual":
            claimed = re.search(r"dominated by (\w+) tones", text).group(1)
            claims = [] if claimed == color_of(images[0]) else [f"The frame is dominated by {claimed} tones."]
            return json.dumps({"unsupported_claims": claims}), "stop"
        raise AssertionError(f"unknown stage {stage!r}")


def chat_completion(model: str, texts: list[str], finish: str = "stop", logprobs: dict | None = None) -> dict:
    """A chat.completion body with one choice per text."""
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": i, "finish_reason": finish, "logprobs": logprobs,
                     "message": {"role": "assistant", "content": text}} for i, text in enumerate(texts)],
        "usage": {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4},
    }


def send_scripted(handler: BaseHTTPRequestHandler, behaviour: str, ok_payload) -> None:
    """Answer one request as ``behaviour`` says (see the module docstring); ``ok_payload()`` is the normal body.

    Besides the behaviours above: ``empty`` (a 200 with empty content), ``huge`` (a 200 KB critique with
    finish_reason stop), ``nonutf8`` (a 200 whose body is not UTF-8), ``trickle:S`` (the normal reply
    sent byte by byte over S seconds), ``echo:STATUS`` (an error whose body repeats the Authorization
    header, as a careless proxy does).
    """
    if behaviour.startswith("delay:"):  # delay:S answers normally after S seconds, delay:S:B plays B then
        _, seconds, *rest = behaviour.split(":", 2)
        time.sleep(float(seconds))
        behaviour = rest[0] if rest else "ok"
    if behaviour == "drop":
        handler.close_connection = True
        return
    if behaviour.startswith("retry-after:"):  # a 429 that names its wait
        send_json(handler, 429, {"error": {"message": "slow down"}}, headers={"Retry-After": behaviour.split(":")[1]})
    elif behaviour.startswith("echo:"):
        auth = handler.headers.get("Authorization", "")
        send_json(handler, int(behaviour.split(":")[1]), {"error": {"message": f"bad request with header {auth}"}})
    elif behaviour.isdigit():  # 429, 500, 401, 400 ...
        send_json(handler, int(behaviour), {"error": {"message": f"scripted {behaviour}"}})
    elif behaviour == "malformed":
        send_raw(handler, 200, b'{"id": "x", "choices": [ {"mess')
    elif behaviour == "nochoices":
        send_json(handler, 200, {"id": "x", "object": "chat.completion", "created": 0, "model": "m"})
    elif behaviour == "nonutf8":
        send_raw(handler, 200, b'{"id": "x", "choices": "\xff\xfe\xfa"}')
    elif behaviour in ("empty", "huge"):
        payload = ok_payload()
        for choice in payload["choices"]:
            choice["message"]["content"] = "" if behaviour == "empty" else "The light is soft. " * 10_600
        send_json(handler, 200, payload)
    elif behaviour.startswith("trickle:"):
        data = json.dumps(ok_payload()).encode()
        send_raw(handler, 200, data, pause_s=float(behaviour.split(":")[1]) / len(data))
    else:
        send_json(handler, 200, ok_payload())


def send_json(handler, status: int, payload: dict, headers: dict | None = None) -> None:
    send_raw(handler, status, json.dumps(payload).encode(), headers)


def send_raw(handler, status: int, data: bytes, headers: dict | None = None, pause_s: float = 0.0) -> None:
    try:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if pause_s:
            for index in range(len(data)):
                handler.wfile.write(data[index : index + 1])
                handler.wfile.flush()
                time.sleep(pause_s)
        else:
            handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up (timeout, cancelled or killed run): nothing to answer

# id -> (score, colour). Ids choose the fake expert's defects (see the module docstring).
TABLE_ROWS = {
    "ok-b1": (0.12, "red"), "ok-b2": (0.25, "green"), "ok-b3": (0.31, "blue"), "ok-b4": (0.38, "yellow"),
    "leak-b": (0.20, "red"), "wrongcolor-b": (0.33, "green"),
    "ok-f1": (0.45, "blue"), "ok-f2": (0.52, "yellow"), "ok-f3": (0.61, "red"), "ok-f4": (0.69, "green"),
    "misaligned-f": (0.55, "blue"), "tags-f": (0.50, "yellow"), "garbage-f": (0.48, "red"), "fail-f": (0.58, "green"),
    "ok-g1": (0.71, "blue"), "ok-g2": (0.80, "yellow"), "ok-g3": (0.88, "red"), "ok-g4": (0.97, "green"),
    "long-g": (0.75, "blue"), "flaky-g": (0.90, "yellow"),
}
# What each id must end as when every record is processed with short_circuit on.
EXPECTED_REASONS = {
    "leak-b": ["leakage"], "wrongcolor-b": ["factual_error"], "misaligned-f": ["misaligned"],
    "tags-f": ["format"], "garbage-f": ["alignment_judge_failed"], "fail-f": ["generation_failed"],
    "long-g": ["truncated"],
}
# Transient and permanent failures the server plays, per "stage/id" or id, one entry per attempt.
FAILURE_SCRIPT = {
    "generate/flaky-g": ["429", "drop", "malformed", "500", "nochoices"],  # then ok: succeeds on attempt 6
    "generate/fail-f": ["500"] * 100,  # never succeeds
    "alignment/ok-f2": ["429", "429"],
    "factual/ok-b1": ["drop"],
}
