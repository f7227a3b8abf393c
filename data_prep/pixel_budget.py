"""The project's one pixel budget: how large an image may be when a Qwen2(.5)-VL model sees it.

Every consumer (data_prep's parquet, verl's RL and SFT datasets, validation, evaluation, scoring,
AesCoT requests, RED-Aes edits) shrinks images with ``fit_to_budget`` to the same ``max_pixels``, so
the model sees the same picture in training and at test time and no prompt outgrows the context.

Default 262,144 = 512 x 512 pixels: the ``max_pixels`` of Aes-R1's released training code, i.e. at most
262,144 / 28**2 = 334 visual tokens per image for Qwen2-VL/Qwen2.5-VL (14-pixel patches merged 2 x 2).

Why the budget is applied to the pixels and not to the processor: verl's datasets decode the
``datasets.Image`` column to PIL (so a ``max_pixels`` key in the image struct is lost) and transformers'
Qwen2-VL processor ignores a ``max_pixels=`` argument. An image already within the budget passes the
processor's own resize (``smart_resize``, which rounds each side to a multiple of 28) within budget.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image

DEFAULT_MAX_PIXELS = 262_144
"""512 x 512: Aes-R1's released code (``max_pixels``); also the default of every CLI and config."""

PATCH_FACTOR = 28
"""Qwen2-VL / Qwen2.5-VL: 14-pixel patches, merged 2 x 2 into one visual token."""

PROCESSOR_MIN_PIXELS = 56 * 56
PROCESSOR_MAX_PIXELS = 28 * 28 * 1280
"""The Qwen2-VL image processor's own defaults (``size.shortest_edge`` / ``size.longest_edge``)."""


def smart_resize(
    height: int,
    width: int,
    factor: int = PATCH_FACTOR,
    min_pixels: int = PROCESSOR_MIN_PIXELS,
    max_pixels: int = PROCESSOR_MAX_PIXELS,
) -> tuple[int, int]:
    """The size the Qwen2-VL processor resizes a ``height`` x ``width`` image to (sides multiples of ``factor``).

    The same rule as transformers' ``qwen2_vl`` ``smart_resize`` (a test compares them): round each side
    to the nearest multiple of ``factor``; if the area then exceeds ``max_pixels`` scale down and floor,
    if below ``min_pixels`` scale up and ceil. Kept here so that data code does not import transformers.

    Raises:
        ValueError: for an aspect ratio above 200 (the processor refuses those) or a side below 1.
    """
    if min(height, width) < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    if max(height, width) / min(height, width) > 200:
        raise ValueError(f"aspect ratio must be at most 200, got {width}x{height}")
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def visual_tokens(width: int, height: int) -> int:
    """Visual tokens the Qwen2-VL processor gives a ``width`` x ``height`` image (its default limits)."""
    h_bar, w_bar = smart_resize(height, width)
    return (h_bar // PATCH_FACTOR) * (w_bar // PATCH_FACTOR)


def budget_size(width: int, height: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """The (width, height) to store an image at so that the processor's resize of it stays within budget.

    An image whose processed size is already within ``max_pixels`` keeps its size (never enlarged);
    otherwise it gets the processor's own target size under ``max_pixels`` (sides multiples of 28, which
    the processor then leaves unchanged), so shrinking happens once, with our resampling filter.

    Raises:
        ValueError: for ``max_pixels`` below one 28 x 28 token, or what ``smart_resize`` refuses.
    """
    if max_pixels < PATCH_FACTOR * PATCH_FACTOR:
        raise ValueError(f"max_pixels must be at least {PATCH_FACTOR ** 2} (one visual token), got {max_pixels}")
    h_bar, w_bar = smart_resize(height, width)
    if h_bar * w_bar <= max_pixels:
        return width, height
    h_bar, w_bar = smart_resize(height, width, max_pixels=max_pixels)
    return min(w_bar, width), min(h_bar, height)  # a side under 28 px stays as it is


PREFILTER_ABOVE = 1.2
"""Shrink factors (source / stored side) above which ``shrink_pixels`` low-passes before sampling: below
it bicubic alone is 44.5 dB or more from Lanczos on a photo, and 640x480 -> 588x420 (factor 1.14) costs no filter."""

LANCZOS_LOBES = 3
REDUCING_GAP = 2.0
"""Pillow's ``reducing_gap``: an area reduction first leaves at least this factor to the Lanczos low-pass."""


def lanczos_taps(factor: float, lobes: int = LANCZOS_LOBES) -> np.ndarray:
    """The 1-D Lanczos kernel stretched by ``factor`` (> 1 shrinks), normalised: a low-pass at the output's Nyquist.

    L(x) = sinc(x / factor) * sinc(x / (lobes * factor)) for |x| < lobes * factor, the filter Pillow's
    ``Image.resize(LANCZOS)`` applies when shrinking by ``factor``.
    """
    if factor <= 1:
        return np.ones(1, np.float32)
    reach = int(math.ceil(lobes * factor))
    x = np.arange(-reach, reach + 1) / factor
    taps = np.where(np.abs(x) < lobes, np.sinc(x) * np.sinc(x / lobes), 0.0)
    return (taps / taps.sum()).astype(np.float32)


def shrink_pixels(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``pixels`` (height x width [x 1-4 channels], uint8) shrunk to ``size`` = (width, height).

    The project's one resampling filter: the picture of Pillow's Lanczos (43 dB PSNR or more against it
    on a photo at every factor, tests/data_prep/test_pixel_budget.py) at a fraction of its CPU time,
    which lets data preparation keep pace with decoding (issue 15). As Pillow's ``reducing_gap``: an
    area reduction by an integer factor that leaves at least ``REDUCING_GAP`` to shrink (a JPEG
    decoder's DCT scaling does this step before ``data_prep.images`` calls here), the Lanczos low-pass
    for the rest when it exceeds ``PREFILTER_ABOVE`` (below it bicubic alone is as close), then
    OpenCV's bicubic to sample the output grid.
    """
    height, width = pixels.shape[:2]
    if (width, height) == tuple(size):
        return pixels
    if size[0] > width or size[1] > height:
        raise ValueError(f"shrink_pixels only shrinks: {width}x{height} -> {size[0]}x{size[1]}")
    factor = int(min(width / size[0], height / size[1]) / REDUCING_GAP)
    if factor >= 2:
        pixels = cv2.resize(pixels, (width // factor, height // factor), interpolation=cv2.INTER_AREA)
        height, width = pixels.shape[:2]
    across, down = width / size[0], height / size[1]
    if max(across, down) > PREFILTER_ABOVE:
        pixels = cv2.sepFilter2D(pixels, -1, lanczos_taps(across), lanczos_taps(down), borderType=cv2.BORDER_REFLECT)
    return cv2.resize(pixels, tuple(size), interpolation=cv2.INTER_CUBIC)


SHRINK_MODES = ("RGB", "L", "RGBA", "LA")
"""8-bit modes ``fit_to_budget`` resamples as they are; other modes go through ``to_rgb`` first."""


def has_alpha(image: Image.Image) -> bool:
    """Whether ``image`` has transparency (an alpha band, or a palette with a transparent entry)."""
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (image.mode == "P" and "transparency" in image.info)


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB version of any PIL mode; transparent pixels become white (not black)."""
    if image.mode == "RGB":
        return image
    if has_alpha(image):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grayscale: PIL's convert("RGB") would clip to 255; rescale to 8 bits first.
        return image.point(lambda v: v / 256).convert("L").convert("RGB")
    return image.convert("RGB")


def fit_to_budget(image: Image.Image, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """``image`` shrunk with ``shrink_pixels`` to ``budget_size``; the same object when it already fits."""
    size = budget_size(image.width, image.height, max_pixels)
    if size == image.size:
        return image
    if image.mode not in SHRINK_MODES:
        image = to_rgb(image)
    return Image.fromarray(shrink_pixels(np.asarray(image), size), image.mode)
