"""Real HTTP servers on 127.0.0.1 for the data-engine tests, and a tiny source table.

Image world: a source is a flat grey picture; its "aesthetics" is ``10 - 12 |mean luminance - 0.55|``
(dark images are poor, mid-grey is best), so brightening a dark source improves it.

* chat server (stage from the request-key header ``anchorK/…``, ``instruct/…``, ``viescoreK/…``, ``judgeK/…``):
  anchor experts score the aesthetics (expert K adds 0.2 K); the instruction expert asks for
  "Apply exposure with strength +0.50." (PT) or seven canonical exposure/blur instructions (RL);
  VIEScore judges give 2 to an edit identical to its source, else 9; judge K answers the aesthetic
  difference (+0.05 K). Record ids choose defects: ``noinstr*`` (the expert never answers usable
  JSON), ``badrl*`` (six RL instructions instead of seven), ``disagree*`` (judge 1 flips the sign),
  ``leaky*`` (every anchor expert writes "6 out of 10" in its analysis), ``halfleak*`` (expert 1 does).
* edit server (``POST /v1/images/edits``, OpenAI images API): model ``good`` applies the canonical
  instruction with the built-in classical editor, ``identity`` returns the source, ``broken``
  answers HTTP 500, ``garbage`` returns base64 bytes that are no image.
"""

from __future__ import annotations

import base64
import email
import io
import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from PIL import Image

from data_prep.layouts import TABLE_FEATURES, image_cell, table_row
from data_prep.parquet_io import write_parquet_atomic
from recipe.aesr1.red_aes.classical_editor import ClassicalEditor

KEY_HEADER = "X-AesCoT-Request-Key"  # the request-key header of recipe.aesr1.aescot.config.EndpointConfig
RL_INSTRUCTIONS = [f"Apply exposure with strength {s:+.2f}." for s in (0.2, 0.5, -0.3, -0.6, 0.8, -0.1)]
RL_INSTRUCTIONS.insert(4, "Apply blur with strength +0.50.")  # no luminance change: judges answer 0


def rl_category(instruction: str) -> str:
    """The category the fake instruction expert names for one of RL_INSTRUCTIONS."""
    return "sharpness, blur or noise" if "blur" in instruction else "contrast or exposure change"


def grey_png(level: float, size: int | tuple[int, int] = 24) -> bytes:
    image = Image.new("RGB", (size, size) if isinstance(size, int) else size, tuple([round(level * 255)] * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def aesthetics(data: bytes) -> float:
    with Image.open(io.BytesIO(data)) as image:
        lum = np.asarray(image.convert("L"), dtype=np.float64).mean() / 255
    return float(np.clip(10 - 12 * abs(lum - 0.55), 1, 10))


def write_sources(path, levels: dict[str, float], corrupt: tuple[str, ...] = (), size=(24, 24), split="train") -> None:
    """The source table (evaluation-table layout); ids in ``corrupt`` get bytes that are no image."""
    rows = []
    for id_, level in levels.items():
        data = b"not an image" if id_ in corrupt else grey_png(level, size)
        rows.append(
            table_row(
                id=id_,
                dataset="ava",
                split=split,
                score=level,
                raw_score=1 + 9 * level,
                vote_count=10,
                vote_std=1.0,
                width=size[0],
                height=size[1],
                image=image_cell(data, None),
            )
        )
    write_parquet_atomic(rows, TABLE_FEATURES.arrow_schema, path, row_group_size=2)


def _images(messages) -> list[bytes]:
    out = []
    for part in messages[0]["content"]:
        if part["type"] == "image_url":
            out.append(base64.b64decode(part["image_url"]["url"].split(",", 1)[1]))
    return out


class _BackloggedServer(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5; the engine opens up to ~70 connections at once
    # (HTTP/1.0: one per request), and a starved accept loop must not turn that into timeouts.
    request_queue_size = 256


class _Server:
    def __init__(self, handler_factory):
        self.requests: Counter = Counter()
        self._server = _BackloggedServer(("127.0.0.1", 0), handler_factory(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


def _reply(handler: BaseHTTPRequestHandler, status: int, body: dict | bytes) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def chat_answer(stage: str, record: str, messages) -> str:
    images = _images(messages)
    if stage.startswith("anchor"):
        k, name = int(stage[-1]), record.split("/")[-1]
        score = aesthetics(images[0]) + 0.2 * k
        analysis = f"Expert {k}: a flat grey field, luminance-driven appeal."
        if name.startswith("leaky") or (name.startswith("halfleak") and k == 1):
            analysis += " I would rate it 6 out of 10."
        return f"<think>{analysis}</think><answer>{min(score, 10):.2f}</answer>"
    if stage == "instruct":
        text = messages[0]["content"][-1]["text"]
        if record.split("/")[-1].startswith("noinstr"):
            return "I cannot help with that."
        if "diverse editing instructions" in text:
            n = 6 if record.split("/")[-1].startswith("badrl") else 7
            entries = [{"instruction": i, "category": rl_category(i)} for i in RL_INSTRUCTIONS[:n]]
            return "```json\n" + json.dumps({"instructions": entries}) + "\n```"
        return json.dumps(
            {
                "analysis": "Underexposed and dull.",
                "instruction": "Apply exposure with strength +0.50.",
                "category": "contrast or exposure change",
            }
        )
    if stage.startswith("viescore"):
        same = images[0] == images[1]
        value = 2 if same else 9
        return json.dumps(
            {"editing_success": value, "over_editing": 9, "naturalness": 9, "artifacts": 9, "reasoning": "ok"}
        )
    if stage.startswith("judge"):
        k = int(stage[-1])
        delta = aesthetics(images[1]) - aesthetics(images[0])
        if abs(delta) > 1e-6:
            delta += 0.05 * k
        if record.split("/")[-1].startswith("disagree") and k == 1:
            delta = -delta
        return f"<think>Judge {k}: the edit changes the brightness.</think><answer>{delta:+.2f}</answer>"
    raise ValueError(f"unknown stage {stage!r}")


class FakeChatServer(_Server):
    def __init__(self, delay_s: float = 0.0):
        self.keys: Counter = Counter()  # request key -> times served
        self.image_sizes: set[tuple[int, int]] = set()  # (width, height) of every image received

        def factory(server):
            class Handler(BaseHTTPRequestHandler):
                def log_message(self, *args):
                    pass

                def do_POST(self):
                    try:
                        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                    except json.JSONDecodeError:  # a client killed in mid-request
                        return
                    key = self.headers.get(KEY_HEADER, "")
                    parts = key.split("/")
                    stage, record = parts[0], "/".join(parts[1:-1])
                    server.requests[stage] += 1
                    server.keys[key] += 1
                    server.image_sizes.update(Image.open(io.BytesIO(i)).size for i in _images(body["messages"]))
                    time.sleep(delay_s)
                    text = chat_answer(stage, record, body["messages"])
                    _reply(
                        self,
                        200,
                        {
                            "id": "x",
                            "object": "chat.completion",
                            "created": int(time.time()),
                            "model": body["model"],
                            "choices": [
                                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
                            ],
                        },
                    )

            return Handler

        super().__init__(factory)


def _multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    message = email.message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields = {}
    for part in message.get_payload():
        name = re.search(r'name="([^"]+)"', part.get("Content-Disposition", "")).group(1)
        fields[name] = part.get_payload(decode=True)
    return fields


class FakeEditServer(_Server):
    def __init__(self):
        editor = ClassicalEditor()

        def factory(server):
            class Handler(BaseHTTPRequestHandler):
                def log_message(self, *args):
                    pass

                def do_POST(self):
                    body = self.rfile.read(int(self.headers["Content-Length"]))
                    if self.path != "/v1/images/edits":
                        return _reply(self, 404, {"error": {"message": f"no route {self.path}"}})
                    fields = _multipart(self.headers["Content-Type"], body)
                    model = fields["model"].decode()
                    server.requests[model] += 1
                    if model == "broken":
                        return _reply(self, 500, {"error": {"message": "editor crashed"}})
                    source, prompt = fields["image"], fields["prompt"].decode()
                    data = {
                        "good": lambda: editor.edit(source, prompt),
                        "identity": lambda: source,
                        "garbage": lambda: b"not an image",
                    }[model]()
                    _reply(self, 200, {"created": 0, "data": [{"b64_json": base64.b64encode(data).decode()}]})

            return Handler

        super().__init__(factory)


# Per-request deadline of the fake endpoints: a timeout is logged as a final failure and changes which
# requests follow, so on a loaded 2-core machine it must never fire (the replies take milliseconds).
TIMEOUT_S = 120

SOURCES = {"a1": 0.25, "a2": 0.30, "disagree3": 0.28, "noinstr4": 0.20, "badrl5": 0.32}


def _endpoint(url, model, **extra):
    return {"base_url": url, "model": model, "api_key_env": None, "max_retries": 1, "backoff_base_s": 0.005,
            "backoff_max_s": 0.01, "timeout_s": TIMEOUT_S, "max_concurrency": 8, **extra}  # fmt: skip


def engine_config_yaml(tmp_path, chat_url: str, edit_url: str, out: str = "out") -> str:
    """A data-engine YAML for the fake servers: 3 experts, 2 VIEScore judges, 3 judges, 5 editors
    (classical, two good HTTP editors, one returning its input, one broken); 3 of 5 must pass."""
    from omegaconf import OmegaConf

    table = tmp_path / "sources.parquet"
    if not table.exists():
        write_sources(table, SOURCES)
    http = {"kind": "http", "base_url": edit_url, "max_retries": 0, "timeout_s": TIMEOUT_S}
    data = {
        "anchor_experts": [_endpoint(chat_url, f"expert-{k}") for k in range(3)],
        "instruction_expert": _endpoint(chat_url, "instructor", temperature=0.7),
        "viescore_judges": [_endpoint(chat_url, f"vie-{k}") for k in range(2)],
        "judges": [_endpoint(chat_url, f"judge-{k}") for k in range(3)],
        "editors": [
            {"name": "classical", "kind": "classical"},
            {"name": "qwen", "model": "good", **http},
            {"name": "flux", "model": "good", **http},
            {"name": "longcat", "model": "identity", **http},
            {"name": "seedream", "model": "broken", **http},
        ],
        "sources": {"inputs": [str(table)], "datasets": ["ava"]},
        "filters": {"min_successful_editors": 3},
        "build": {"rl_sources": 5, "calibration_size": 3},
        "output_dir": str(tmp_path / out),
        "show_progress": False,
    }
    path = tmp_path / f"{out}.yaml"
    OmegaConf.save(OmegaConf.create(data), path)
    return str(path)


def engine_config_for(tmp_path, chat_url: str, edit_url: str, out: str = "out", **overrides):
    from recipe.aesr1.red_aes.engine.config import load_engine_config

    path = engine_config_yaml(tmp_path, chat_url, edit_url, out)
    return load_engine_config(path, [f"{k}={v}" for k, v in overrides.items()])
