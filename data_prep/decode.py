"""Opening images for scoring, with one defined outcome per file.

Every file gets a ``LoadedImage`` whose ``status`` says what happened:

* ``ok``: decoded as is (RGB).
* ``converted``: decoded and converted to RGB (grayscale, CMYK, palette, 16-bit, alpha composited on
  white); ``detail`` names the original mode.
* ``downscaled``: above the project's one pixel budget (``data_prep.pixel_budget``, default
  ``DEFAULT_MAX_PIXELS`` = 262,144 = 512 x 512, configurable) and shrunk by ``fit_to_budget``, as the
  training data was: the model sees the same picture size in training, evaluation, scoring and AesCoT.
* ``missing``, ``unreadable`` (not an image, truncated or corrupt, or an aspect ratio above 200 that
  the Qwen2-VL processor refuses), ``too_large`` (a declared size above ``hard_limit_pixels``, refused
  before decoding, as a decompression bomb would be): no image.

Pillow's own decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``, which raises inside ``Image.open``
for headers above ~179 MP) is replaced by ``hard_limit_pixels`` for the whole open-and-decode, so a
huge declared size gives the ``too_large`` outcome instead of an exception.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from data_prep.pixel_budget import (
    DEFAULT_MAX_PIXELS,
    budget_size,
    fit_to_budget,
    has_alpha,
    to_rgb,
)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")

DEFAULT_HARD_LIMIT_PIXELS = 400_000_000
"""Refuse to decode above this (e.g. a 20000 x 20000 panorama) instead of exhausting memory."""

USABLE = ("ok", "converted", "downscaled")

_PIL_LIMIT_LOCK = threading.Lock()  # Image.MAX_IMAGE_PIXELS is process-global


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
    """``to_rgb`` (data_prep's one conversion) and what it did, for the status detail."""
    if image.mode == "RGB":
        return image, ""
    return to_rgb(image), f"from {image.mode}" + (", alpha on white" if has_alpha(image) else "")


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
    with _PIL_LIMIT_LOCK:
        # Our own limit replaces PIL's decompression-bomb guard, which runs inside Image.open already.
        previous, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            return _decode(source, max_pixels, hard_limit_pixels, apply_exif_orientation)
        finally:
            Image.MAX_IMAGE_PIXELS = previous


def _decode(source: str | Path | bytes, max_pixels: int, hard_limit_pixels: int, exif: bool) -> LoadedImage:
    try:
        handle = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    except UnidentifiedImageError:
        return LoadedImage(None, "unreadable", "not a recognised image format")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        return LoadedImage(None, "unreadable", str(error) or type(error).__name__)
    with handle:
        width, height = handle.size
        if width * height > hard_limit_pixels:
            return LoadedImage(None, "too_large", f"{width}x{height} exceeds {hard_limit_pixels} pixels")
        try:
            target = budget_size(width, height, max_pixels)
        except ValueError as error:  # aspect ratio the processor refuses, or a side of 0
            return LoadedImage(None, "unreadable", str(error))
        try:
            if target != (width, height):
                handle.draft("RGB", target)  # JPEG: decode at a reduced size no smaller than the target
            image = ImageOps.exif_transpose(handle) if exif else handle
            image.load()
        except (OSError, ValueError, SyntaxError) as error:  # truncated or corrupt data
            return LoadedImage(None, "unreadable", str(error) or type(error).__name__)
    image, converted = _to_rgb(image)
    try:
        fitted = fit_to_budget(image, max_pixels)  # on the transposed image: budget_size keeps orientation
    except ValueError as error:
        return LoadedImage(None, "unreadable", str(error))
    if (width, height) != (fitted.width, fitted.height) and fitted.width * fitted.height < width * height:
        detail = f"{width}x{height} -> {fitted.width}x{fitted.height}" + (f", {converted}" if converted else "")
        return LoadedImage(fitted, "downscaled", detail)
    return LoadedImage(fitted, "converted" if converted else "ok", converted)


def decode_table_image(struct: dict, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """The ``image`` column of the evaluation table: ``{bytes, path}``, bytes preferred when present."""
    if not isinstance(struct, dict):
        return LoadedImage(None, "unreadable", f"image cell is {type(struct).__name__}, expected {{bytes, path}}")
    if struct.get("bytes"):
        return decode_image(bytes(struct["bytes"]), max_pixels, apply_exif_orientation=False)
    if struct.get("path"):
        return decode_image(struct["path"], max_pixels, apply_exif_orientation=False)
    return LoadedImage(None, "missing", "image cell has neither bytes nor path")
