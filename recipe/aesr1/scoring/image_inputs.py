"""Images as image-generation RL frameworks hand them over, turned into what the judge sees.

Flow-GRPO and DiffusionNFT pass a float tensor ``(N, 3, H, W)`` in [0, 1] or a uint8 array
``(N, H, W, 3)``; mm_grpo passes float NCHW tensors; curation code passes PIL images. Every image is
converted to RGB PIL and shrunk to the project's one pixel budget (``data_prep.pixel_budget``), so the
judge sees the same picture size as in training and evaluation.

An image's identity for seeding is the SHA-256 of its pixels after that conversion: the same picture
gets the same seed (and so the same sampled critique) in any batch position, in any step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from PIL import Image

from data_prep.pixel_budget import DEFAULT_MAX_PIXELS, fit_to_budget


def _array_to_pils(array: np.ndarray) -> list[Image.Image]:
    """(N, 3, H, W) or (N, H, W, 3) [or one (3, H, W)/(H, W, 3)]; float in [0, 1] or uint8."""
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"expected a batch of images (N, 3, H, W) or (N, H, W, 3), got shape {array.shape}")
    if array.shape[1] in (1, 3) and array.shape[-1] not in (1, 3):
        array = array.transpose(0, 2, 3, 1)  # NCHW -> NHWC
    elif array.shape[-1] not in (1, 3):
        raise ValueError(f"cannot find a channel axis of size 1 or 3 in shape {array.shape}")
    if array.dtype == np.uint8:
        pixels = array
    elif np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ValueError("float images contain NaN or inf")
        # Flow-GRPO's own conversion: (x * 255).round().clamp(0, 255)
        pixels = np.clip(np.round(array.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
    else:
        raise ValueError(f"images must be uint8 or float in [0, 1], got dtype {array.dtype}")
    if pixels.shape[-1] == 1:
        pixels = np.repeat(pixels, 3, axis=-1)
    return [Image.fromarray(np.ascontiguousarray(p), "RGB") for p in pixels]


def to_pil_images(images: object, max_pixels: int = DEFAULT_MAX_PIXELS) -> list[Image.Image]:
    """RGB PIL images within the pixel budget, from a PIL list, a numpy array or a torch tensor.

    Accepted: a sequence of PIL images or of per-image arrays; an array/tensor of shape
    ``(N, 3, H, W)`` or ``(N, H, W, 3)``, uint8 (0-255) or float (0-1; rounded as Flow-GRPO does).
    Tensors may live on any device and require grad; they are detached and copied to the CPU.

    Raises:
        ValueError: for a shape without a channel axis, another dtype, or non-finite floats.
    """
    if hasattr(images, "detach") and hasattr(images, "cpu"):  # a torch tensor, without importing torch
        tensor = images.detach().cpu()
        images = tensor.float().numpy() if tensor.is_floating_point() else tensor.numpy()
    if isinstance(images, np.ndarray):
        pils = _array_to_pils(images)
    elif isinstance(images, Image.Image):
        pils = [images]
    elif isinstance(images, Sequence) and not isinstance(images, (str, bytes)):
        pils = []
        for i, item in enumerate(images):
            if isinstance(item, Image.Image):
                pils.append(item)
            elif not isinstance(item, np.ndarray) and not hasattr(item, "detach"):
                raise ValueError(f"image {i}: expected a PIL image or an array, got {type(item).__name__}")
            else:
                try:
                    pils += to_pil_images(item, max_pixels)
                except ValueError as error:
                    raise ValueError(f"image {i}: {error}") from None
    else:
        raise ValueError(f"images must be PIL images, a numpy array or a torch tensor, got {type(images).__name__}")
    return [fit_to_budget(p.convert("RGB") if p.mode != "RGB" else p, max_pixels) for p in pils]


def content_key(image: Image.Image) -> str:
    """SHA-256 hex digest of an RGB image's size and pixels: equal pictures, equal keys."""
    digest = hashlib.sha256(f"{image.width}x{image.height}:".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()
