"""Validate each image once and, when embedding, produce RGB bytes within a pixel budget.

Checks, in order, with the reason code a skipped image gets in the report:
``missing_file`` (no such file), ``unreadable`` (OS error), ``not_an_image`` (PIL cannot identify
it), ``too_many_pixels`` (width * height above ``pixel_cap``, checked from the header before any
decoding: a decompression bomb never gets decoded), ``too_small`` (a side below ``min_side``),
``extreme_aspect_ratio`` (above ``max_aspect_ratio``: Qwen2-VL's resizer rejects > 200),
``corrupt`` (full decode fails, e.g. a truncated JPEG).

Embedding keeps the file's own bytes when it is an RGB JPEG/PNG needing no resize (lossless and
fast); otherwise grayscale/CMYK/palette/16-bit are converted to RGB, alpha is composited over white,
the image is shrunk (Lanczos) to fit ``max_pixels`` / ``max_side``, and re-encoded as JPEG. With
path references the file is only validated; consumers open it and convert to RGB themselves
(verl's RLHFDataset does), so resizing needs embedding.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

PIL_DEFAULT_PIXEL_CAP = 89_478_485  # PIL's own MAX_IMAGE_PIXELS; the largest IAA photos are ~25 MP
KEEP_FORMATS = ("JPEG", "PNG")


@dataclass(frozen=True)
class ImageOptions:
    """How images are checked and stored.

    Attributes:
        embed: store image bytes in the parquet (True) or the absolute path (False).
        max_pixels: shrink so that width * height <= max_pixels (None: no area budget). Needs embed.
        max_side: shrink so that the longest side <= max_side (None: no limit). Needs embed.
        pixel_cap: images above this many pixels are skipped as ``too_many_pixels`` (PIL refuses
            images above twice its own ``Image.MAX_IMAGE_PIXELS`` first; raise that to go higher).
        min_side: images with a side below this are skipped as ``too_small``.
        max_aspect_ratio: images with long/short side above this are skipped.
        jpeg_quality: quality of re-encoded JPEGs.
    """

    embed: bool = False
    max_pixels: int | None = None
    max_side: int | None = None
    pixel_cap: int = PIL_DEFAULT_PIXEL_CAP
    min_side: int = 16
    max_aspect_ratio: float = 200.0
    jpeg_quality: int = 95

    def __post_init__(self) -> None:
        if not self.embed and (self.max_pixels or self.max_side):
            raise ValueError("resizing (max_pixels / max_side) needs embedded images: path references point at the original files")


@dataclass(frozen=True)
class ImageResult:
    """Outcome for one image. ``ok`` False means skipped with ``reason`` and ``detail``.

    ``width``/``height`` are of the stored image; ``source_mode`` is the file's PIL mode;
    ``data`` holds the bytes to embed (None in path mode or when skipped).
    """

    ok: bool
    reason: str = "ok"
    detail: str = ""
    width: int = 0
    height: int = 0
    source_mode: str = ""
    data: bytes | None = None


def fitted_size(width: int, height: int, max_pixels: int | None, max_side: int | None) -> tuple[int, int]:
    """Largest size with the same aspect ratio within both budgets (never enlarges)."""
    factor = 1.0
    if max_pixels and width * height > max_pixels:
        factor = min(factor, math.sqrt(max_pixels / (width * height)))
    if max_side and max(width, height) > max_side:
        factor = min(factor, max_side / max(width, height))
    if factor >= 1.0:
        return width, height
    return max(1, math.floor(width * factor)), max(1, math.floor(height * factor))


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB version of any PIL mode; transparent pixels become white (not black)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grayscale: PIL's convert("RGB") would clip to 255; rescale to 8 bits first.
        return image.point(lambda v: v / 256).convert("L").convert("RGB")
    return image.convert("RGB")


def _skip(reason: str, detail: str = "", mode: str = "") -> ImageResult:
    return ImageResult(ok=False, reason=reason, detail=detail, source_mode=mode)


def load_image(path: str, options: ImageOptions) -> ImageResult:
    """Validate the image at ``path`` and prepare what the parquet stores (see module docstring)."""
    if not os.path.isfile(path):
        return _skip("missing_file", path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        return _skip("unreadable", str(error))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
    except UnidentifiedImageError as error:
        return _skip("not_an_image", str(error))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        return _skip("too_many_pixels", str(error))
    except (OSError, SyntaxError, ValueError) as error:
        return _skip("corrupt", f"{type(error).__name__}: {error}")
    with image:
        width, height, mode = image.width, image.height, image.mode
        if width * height > options.pixel_cap:
            return _skip("too_many_pixels", f"{width}x{height} > {options.pixel_cap} pixels", mode)
        if min(width, height) < options.min_side:
            return _skip("too_small", f"{width}x{height}, min side {options.min_side}", mode)
        if max(width, height) / min(width, height) > options.max_aspect_ratio:
            return _skip("extreme_aspect_ratio", f"{width}x{height}", mode)
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
            return _skip("corrupt", f"{type(error).__name__}: {error}", mode)
        if not options.embed:
            return ImageResult(ok=True, width=width, height=height, source_mode=mode)
        size = fitted_size(width, height, options.max_pixels, options.max_side)
        if mode == "RGB" and image.format in KEEP_FORMATS and size == (width, height):
            return ImageResult(ok=True, width=width, height=height, source_mode=mode, data=raw)
        rgb = to_rgb(image)
        if size != (width, height):
            rgb = rgb.resize(size, Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        rgb.save(buffer, format="JPEG", quality=options.jpeg_quality)
        return ImageResult(ok=True, width=size[0], height=size[1], source_mode=mode, data=buffer.getvalue())
