"""The CPU stand-in for ``vllm serve`` decodes request images through the project's guarded decoder."""

import base64
import io
import struct
import zlib

import pytest
from PIL import Image

from recipe.aesr1.reward_model.local_server import request_to_inputs


def _body(raw: bytes) -> dict:
    url = "data:image/png;base64," + base64.b64encode(raw).decode()
    return {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "Rate "}, {"type": "image_url", "image_url": {"url": url}}, {"type": "text", "text": "."}]}]}


def _png(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _bomb() -> bytes:
    data = bytearray(_png())
    at = data.index(b"IHDR")
    data[at + 4 : at + 12] = struct.pack(">II", 60_000, 60_000)
    data[at + 17 : at + 21] = struct.pack(">I", zlib.crc32(bytes(data[at : at + 17])))
    return bytes(data)


def test_a_valid_image_is_decoded_within_the_pixel_budget():
    image, prompt = request_to_inputs(_body(_png((2000, 1000))))
    assert prompt == "Rate <image>." and image.mode == "RGB" and image.width * image.height <= 262_144


@pytest.mark.parametrize("raw, reason", [
    (_bomb(), "too_large"),  # a declared 3.6 gigapixels: refused before decoding
    (_png()[:60], "unreadable"),  # truncated
    (b"plain text", "unreadable"),  # not an image
])  # fmt: skip
def test_hostile_images_are_refused_with_a_reason(raw, reason):
    with pytest.raises(ValueError, match=reason):
        request_to_inputs(_body(raw))


def test_invalid_base64_is_refused():
    body = _body(b"")
    body["messages"][0]["content"][1]["image_url"]["url"] = "data:image/png;base64,%%%"
    with pytest.raises(ValueError, match="base64"):
        request_to_inputs(body)
