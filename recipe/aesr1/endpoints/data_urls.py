"""Images as the evaluation table stores them (``{bytes, path}``, the ``datasets.Image`` layout) and
as the pipeline sends or shows them (data URLs, digests, thumbnails)."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path
from typing import Any

from PIL import Image

from data_prep.decode import decode_image
from data_prep.pixel_budget import DEFAULT_MAX_PIXELS

_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif", "BMP": "image/bmp"}


def image_bytes(image: dict[str, Any], where: str = "") -> bytes:
    """The encoded bytes of a ``{bytes, path}`` struct: embedded bytes, else the file at ``path``.

    Raises:
        ValueError: naming ``where`` (e.g. the parquet file and row) when neither is usable.
    """
    data = image.get("bytes") if isinstance(image, dict) else None
    if data:
        return bytes(data)
    path = image.get("path") if isinstance(image, dict) else None
    if path and Path(path).is_file():
        return Path(path).read_bytes()
    raise ValueError(f"{where}: image has no bytes and no readable path ({path!r})")


def image_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def data_url(data: bytes) -> str:
    """A ``data:image/...;base64,...`` URL as the chat-completions ``image_url`` part takes it."""
    with Image.open(io.BytesIO(data)) as image:
        mime = _MIME.get(image.format or "", None)
    if mime is None:
        raise ValueError(f"unsupported image format for a data URL: {image.format!r}")
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def budgeted_data_url(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> str:
    """``data_url`` of the image within the project's one pixel budget (``data_prep.pixel_budget``).

    The image is opened by the evaluation's ``decode_image`` (same budget, same outcome for a bomb or a
    corrupt file). One already within budget is sent as its original bytes; a larger one is shrunk by
    ``fit_to_budget`` and re-encoded (PNG stays PNG, anything else becomes JPEG quality 95).

    Raises:
        ValueError: the bytes are no usable image (the message gives the decoder's outcome).
    """
    loaded = decode_image(data, max_pixels, apply_exif_orientation=False)
    if not loaded.usable:
        raise ValueError(f"image {loaded.status}: {loaded.detail}")
    if loaded.status != "downscaled":
        return data_url(data)
    with Image.open(io.BytesIO(data)) as original:
        fmt = "PNG" if original.format == "PNG" else "JPEG"
    buffer = io.BytesIO()
    loaded.image.save(buffer, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return data_url(buffer.getvalue())


def thumbnail_data_url(data: bytes, max_side: int = 384) -> str:
    """A small JPEG data URL for the audit page (keeps the page light for dozens of records)."""
    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("RGB")
        image.thumbnail((max_side, max_side))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=85)
    return f"data:image/jpeg;base64,{base64.b64encode(buffer.getvalue()).decode()}"
