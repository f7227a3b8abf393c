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


def fit_to_budget(image: Image.Image, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """``image`` shrunk (Lanczos) to ``budget_size``; the same object when it already fits."""
    size = budget_size(image.width, image.height, max_pixels)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS)
