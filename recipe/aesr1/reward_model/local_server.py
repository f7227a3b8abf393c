"""A minimal OpenAI-compatible judge server over an in-process backend: the CPU stand-in for ``vllm serve``.

It answers ``POST /v1/chat/completions`` (one user message: text, one ``image_url`` data URL, text),
``GET /v1/models`` and ``GET /health``, which is what the reward client and ``aesr1-score --backend
openai`` use. Each request runs ``backend.generate`` on one of ``replicas`` model copies, so ``n``
concurrent requests proceed in parallel up to the replica count (vLLM instead batches them on one GPU).
Use it for the tests, the benchmark and for trying the reward loop without a GPU:

    python -m recipe.aesr1.reward_model.local_server --model tiny --port 8000 --replicas 2

Real checkpoints belong on ``vllm serve CKPT --served-model-name aes-r1 --generation-config vllm``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import queue
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

from data_prep.decode import decode_image
from data_prep.prompts import IMAGE_PLACEHOLDER
from recipe.aesr1.scoring.backends import InferenceBackend, SamplingSettings


def request_to_inputs(body: dict) -> tuple[Image.Image, str]:
    """The image and the ``<image>`` prompt of a chat request built like ``OpenAIBackend._messages``."""
    messages = body.get("messages") or []
    if len(messages) != 1 or not isinstance(messages[0].get("content"), list):
        raise ValueError("expected one user message whose content is a list of text and image_url parts")
    prompt, image = "", None
    for part in messages[0]["content"]:
        if part.get("type") == "text":
            prompt += part["text"]
        elif part.get("type") == "image_url":
            if image is not None:
                raise ValueError("expected exactly one image_url part")
            url = part["image_url"]["url"]
            if not url.startswith("data:image/"):
                raise ValueError("only data:image/...;base64 URLs are served")
            image = _decode_data_url(url)
            prompt += IMAGE_PLACEHOLDER
    if image is None:
        raise ValueError("the message has no image_url part")
    return image, prompt


def _decode_data_url(url: str) -> Image.Image:
    """The image of a base64 data URL through the project's guarded decoder and pixel budget.

    A decompression bomb, truncated or non-image bytes raise ``ValueError`` (HTTP 400), as vLLM refuses them.
    """
    try:
        raw = base64.b64decode(url.split(",", 1)[1], validate=True)
    except (IndexError, binascii.Error) as error:
        raise ValueError(f"the image data URL is not valid base64: {error}") from None
    loaded = decode_image(raw)
    if not loaded.usable:
        raise ValueError(f"the image could not be used: {loaded.status} ({loaded.detail})")
    return loaded.image


class JudgeServer:
    """A ``ThreadingHTTPServer`` on ``host:port`` (0 = any free port) over ``replicas`` backends."""

    def __init__(self, make: Callable[[], InferenceBackend], model_name: str, replicas: int = 1,
                 host: str = "127.0.0.1", port: int = 0):
        self.model_name = model_name
        self.free: queue.Queue[InferenceBackend] = queue.Queue()
        for _ in range(max(1, replicas)):
            self.free.put(make())
        self.httpd = ThreadingHTTPServer((host, port), _handler(self))
        self.httpd.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> JudgeServer:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def complete(self, body: dict) -> dict:
        image, prompt = request_to_inputs(body)
        sampling = SamplingSettings(
            temperature=float(body.get("temperature", 1.0)),
            top_p=float(body.get("top_p", 1.0)),
            max_new_tokens=int(body.get("max_tokens") or body.get("max_completion_tokens") or 1024),
            n=int(body.get("n", 1)),
        )
        backend = self.free.get()
        try:
            samples = backend.generate([image], prompt, sampling, [int(body.get("seed") or 0)])[0]
        finally:
            self.free.put(backend)
        tokens = sum(s.n_tokens for s in samples)
        return {
            "id": f"cmpl-{time.monotonic_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model_name,
            "choices": [
                {"index": i, "message": {"role": "assistant", "content": s.text}, "finish_reason": "stop",
                 "logprobs": None}
                for i, s in enumerate(samples)
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": tokens, "total_tokens": tokens},
        }


def _handler(server: JudgeServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet: the client logs what matters
            pass

        def _send(self, code: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            try:
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout): nobody to tell
                pass

        def do_GET(self):
            if self.path.rstrip("/") == "/health":
                self._send(200, {"status": "ok"})
            elif self.path.rstrip("/") == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": server.model_name, "object": "model"}]})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

        def do_POST(self):
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            try:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                payload = server.complete(body)
            except (ValueError, KeyError, OSError) as error:  # a malformed request: say why, as vLLM does
                return self._send(400, {"error": {"message": str(error), "type": "invalid_request_error"}})
            except Exception as error:  # noqa: BLE001 - the backend failed: a 500 the client may retry
                message = f"{type(error).__name__}: {error}"
                return self._send(500, {"error": {"message": message, "type": "server_error"}})
            self._send(200, payload)

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aesr1-judge-server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="checkpoint folder for the hf backend")
    parser.add_argument("--served-model-name", default="aes-r1")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--replicas", type=int, default=1, help="model copies serving requests in parallel")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    from recipe.aesr1.scoring.backends import make_backend

    server = JudgeServer(lambda: make_backend("hf", args.model, device=args.device), args.served_model_name,
                         args.replicas, args.host, args.port)
    print(f"serving {args.model} as {args.served_model_name!r} at {server.base_url}", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
