"""Opening images for scoring, with one defined outcome per file.

Every file gets a ``LoadedImage`` whose ``status`` says what happened:

* ``ok``: decoded as is (RGB).
* ``converted``: decoded and converted to RGB (grayscale, CMYK, palette, 16-bit, alpha composited on
  white); ``detail`` names the original mode.
* ``downscaled``: larger than ``max_pixels`` and shrunk, keeping the aspect ratio (the model's image
  processor would shrink it anyway; doing it first bounds memory).
* ``missing``, ``unreadable`` (not an image, truncated or corrupt), ``too_large`` (above
  ``hard_limit_pixels``, refused before decoding, as a decompression bomb would be): no image.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")

DEFAULT_MAX_PIXELS = 16_000_000
"""Above ~16 MP images are shrunk before scoring; Qwen2.5-VL's processor caps inputs at ~12.8 MP."""

DEFAULT_HARD_LIMIT_PIXELS = 400_000_000
"""Refuse to decode above this (e.g. a 20000 x 20000 panorama) instead of exhausting memory."""

USABLE = ("ok", "converted", "downscaled")


@dataclass(frozen=True)
class LoadedImage:
    """``image`` is an RGB PIL image when ``status`` is in ``USABLE``, else None."""

    image: Image.Image | None
    status: str
    detail: str = ""

    @property
    def usable(self) -> bool:
        return self.status in USABLE


def _to_rgb(image: Image.Image) -> tuple[Image.Image, str]:
    mode = image.mode
    if mode == "RGB":
        return image, ""
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB"), f"from {mode}, alpha on white"
    if mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit grayscale: scale to 8 bits first
        return image.point(lambda v: v / 256).convert("L").convert("RGB"), f"from {mode}"
    return image.convert("RGB"), f"from {mode}"


def decode_image(
    source: str | Path | bytes,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    hard_limit_pixels: int = DEFAULT_HARD_LIMIT_PIXELS,
    apply_exif_orientation: bool = True,
) -> LoadedImage:
    """Open a file path or encoded bytes; never raises for a bad image, returns its outcome instead.

    ``apply_exif_orientation`` rotates a photo as viewers show it (user scoring). Benchmark images
    keep the stored orientation (False), as data_prep stores them and verl's training loader reads them.
    """
    if isinstance(source, (str, Path)) and not Path(source).is_file():
        return LoadedImage(None, "missing", f"no such file: {source}")
    try:
        handle = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    except UnidentifiedImageError:
        return LoadedImage(None, "unreadable", "not a recognised image format")
    except OSError as error:
        return LoadedImage(None, "unreadable", str(error))
    with handle:
        width, height = handle.size
        if width * height > hard_limit_pixels:
            return LoadedImage(None, "too_large", f"{width}x{height} exceeds {hard_limit_pixels} pixels")
        try:
            # Our own limit replaces PIL's decompression-bomb guard, which would refuse large photos.
            previous, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
            try:
                if width * height > max_pixels:
                    handle.draft("RGB", (width // 2, height // 2))  # JPEG: decode at reduced size
                image = ImageOps.exif_transpose(handle) if apply_exif_orientation else handle
                image.load()
            finally:
                Image.MAX_IMAGE_PIXELS = previous
        except (OSError, ValueError, SyntaxError) as error:  # truncated or corrupt data
            return LoadedImage(None, "unreadable", str(error) or type(error).__name__)
    image, converted = _to_rgb(image)
    if width * height > max_pixels:  # the JPEG draft may already have shrunk part of the way
        if image.width * image.height > max_pixels:
            scale = math.sqrt(max_pixels / (image.width * image.height))
            size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
            image = image.resize(size, Image.Resampling.LANCZOS)
        detail = f"{width}x{height} -> {image.width}x{image.height}" + (f", {converted}" if converted else "")
        return LoadedImage(image, "downscaled", detail)
    return LoadedImage(image, "converted" if converted else "ok", converted)


def decode_table_image(struct: dict, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """The ``image`` column of the evaluation table: ``{bytes, path}``, bytes preferred when present."""
    if not isinstance(struct, dict):
        return LoadedImage(None, "unreadable", f"image cell is {type(struct).__name__}, expected {{bytes, path}}")
    if struct.get("bytes"):
        return decode_image(bytes(struct["bytes"]), max_pixels, apply_exif_orientation=False)
    if struct.get("path"):
        return decode_image(struct["path"], max_pixels, apply_exif_orientation=False)
    return LoadedImage(None, "missing", "image cell has neither bytes nor path")
