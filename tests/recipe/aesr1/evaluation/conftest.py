"""Shared fixtures: PIL-drawn benchmark tables, a local OpenAI-compatible server, a tiny Qwen2-VL.

The server answers like a perfectly formatted judge whose score is the image's red level
(``round(red / 255, 2)``), so a test can draw an image for any prediction it wants and check the
metrics exactly. A pure black image (red 0) gets an answer without ``<answer>``: a parse failure;
red level 1 gets HTTP 400, as a content filter would answer.
"""

from __future__ import annotations

import base64
import io
import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

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
        self.lock = threading.Lock()


def _answer(body: dict) -> str:
    content = body["messages"][0]["content"]
    url = next(part["image_url"]["url"] for part in content if part["type"] == "image_url")
    image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")
    red = image.getpixel((0, 0))[0]
    if red == 0:
        return UNPARSEABLE
    if red == 1:
        return REFUSED
    return f"<think>Balanced composition and pleasing light.</think><answer>{round(red / 255, 2)}</answer>"


def _handler(judge: FakeJudge):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest output clean
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with judge.lock:
                judge.requests.append(body)
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


def build_tiny_vlm(folder, kind: str):
    """Save a random-weight Qwen2-VL or Qwen2.5-VL (~80-90K parameters) with an offline tokenizer."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        PreTrainedTokenizerFast,
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
    )
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    special = [
        "<|endoftext|>",
        "<|im_start|>",
        "<|im_end|>",
        "<|vision_start|>",
        "<|vision_end|>",
        "<|image_pad|>",
        "<|video_pad|>",
    ]
    words = [
        "<think>",
        "</think>",
        "<answer>",
        "</answer>",
        "0.42",
        "0.7",
        "light",
        "colour",
        "user",
        "assistant",
        "\n",
    ]
    vocab = {token: i for i, token in enumerate(special + words + ["[UNK]"])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
        "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ c['text'] }}{% endif %}"
        "{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=special,
        chat_template=template,
    )
    ids = tokenizer.convert_tokens_to_ids
    text_config = dict(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=4096,
        rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]},
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    tokens = dict(
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
    )
    patches = dict(patch_size=14, spatial_merge_size=2, temporal_patch_size=2)
    torch.manual_seed(0)
    if kind == "qwen2_vl":
        vision = dict(depth=1, embed_dim=32, hidden_size=32, num_heads=2, mlp_ratio=2, **patches)
        model = Qwen2VLForConditionalGeneration(Qwen2VLConfig(text_config=text_config, vision_config=vision, **tokens))
    else:  # qwen2_5_vl: windowed attention in block 0, full attention in block 1
        vision = dict(
            depth=2,
            hidden_size=32,
            intermediate_size=64,
            num_heads=2,
            out_hidden_size=32,
            fullatt_block_indexes=[1],
            window_size=56,
            **patches,
        )
        model = Qwen2_5_VLForConditionalGeneration(
            Qwen2_5_VLConfig(text_config=text_config, vision_config=vision, **tokens)
        )
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = None
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    Qwen2VLImageProcessorPil(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 16).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session", params=["qwen2_vl", "qwen2_5_vl"])
def tiny_vlm(request, tmp_path_factory):
    """Folder of a tiny random-weight Qwen2-VL, then of a Qwen2.5-VL (the paper's backbone family)."""
    return build_tiny_vlm(tmp_path_factory.mktemp(request.param), request.param)


@pytest.fixture(scope="session")
def helpers():
    """The drawing and table helpers above (test modules cannot import conftest under importlib mode)."""
    from types import SimpleNamespace

    return SimpleNamespace(png_bytes=png_bytes, red_for=red_for, write_table=write_table, UNPARSEABLE=UNPARSEABLE)
