"""A CPU image editor for quality-oriented edits with controlled, ordered strengths (PIL + numpy).

RED-Aes edits images with diffusion editors (Sec. 3.1). Quality-oriented edits (Sec. 4.4: colour,
lighting, sharpness) can also be made exactly on CPU, which gives variants whose order is known by
construction: the same operation at a larger strength moves the image further in the same
direction. Each operation takes a ``strength`` in [-1, 1] (signed operations: brighter/darker,
more/less contrast, saturation, warmer/cooler) or [0, 1] (one-directional ones: crop, blur, sharpen,
noise, JPEG compression); 0 is the identity for every operation but JPEG.

The editor also follows short instruction texts (``EditSpec.instruction`` writes them; free text is
matched by keywords, :func:`spec_from_instruction`), so that it plugs into the data engine beside
the HTTP instruction editors. An instruction it cannot map to an operation is not edited.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from data_prep.pixel_budget import to_rgb

# Largest change per unit strength (ours; strength 1 is a strong but still photographic edit).
MAX_EV = 1.5  # exposure: +-1.5 stops
MAX_CONTRAST = 0.8  # contrast factor 1 +- 0.8
MAX_SATURATION = 1.0  # saturation factor 1 +- 1 (strength -1: greyscale)
MAX_WHITE_BALANCE = 0.25  # red/blue gains 1 +- 0.25
MAX_CROP = 0.4  # share of each side removed
MAX_BLUR_RADIUS = 4.0  # Gaussian radius in pixels
MAX_SHARPEN_PERCENT = 300  # unsharp-mask amount
MAX_NOISE_STD = 40.0  # Gaussian noise std on the 0-255 scale
JPEG_QUALITY_RANGE = (95, 5)  # quality at strength 0 and 1

SIGNED_OPS = ("exposure", "contrast", "saturation", "white_balance")
UNSIGNED_OPS = ("crop", "blur", "sharpen", "noise", "jpeg")
OPERATIONS = SIGNED_OPS + UNSIGNED_OPS


@dataclass(frozen=True)
class EditSpec:
    """One classical edit: an operation of ``OPERATIONS`` and its strength (range: module docstring)."""

    op: str
    strength: float

    def __post_init__(self) -> None:
        if self.op not in OPERATIONS:
            raise ValueError(f"unknown classical edit {self.op!r}; known: {', '.join(OPERATIONS)}")
        low = -1.0 if self.op in SIGNED_OPS else 0.0
        if not low <= self.strength <= 1.0:
            raise ValueError(f"strength of {self.op!r} must be in [{low:g}, 1], got {self.strength}")

    def instruction(self) -> str:
        """Canonical instruction text, e.g. ``Apply exposure with strength +0.50.``; parsed back exactly."""
        return f"Apply {self.op} with strength {self.strength:+.2f}."


def _srgb_to_linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def _from_float(x: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(x * 255), 0, 255).astype(np.uint8), "RGB")


def exposure(image: Image.Image, strength: float) -> Image.Image:
    """Scale linear light by ``2 ** (strength * MAX_EV)`` (photographic exposure), clip to white."""
    x = _srgb_to_linear(np.asarray(image, dtype=np.float64) / 255)
    return _from_float(_linear_to_srgb(np.clip(x * 2 ** (strength * MAX_EV), 0, 1)))


def contrast(image: Image.Image, strength: float) -> Image.Image:
    """PIL contrast factor ``1 + strength * MAX_CONTRAST`` around the mean grey level."""
    return ImageEnhance.Contrast(image).enhance(1 + strength * MAX_CONTRAST)


def saturation(image: Image.Image, strength: float) -> Image.Image:
    """PIL colour factor ``1 + strength * MAX_SATURATION`` (blend with the greyscale image)."""
    return ImageEnhance.Color(image).enhance(1 + strength * MAX_SATURATION)


def white_balance(image: Image.Image, strength: float) -> Image.Image:
    """Colour temperature: strength > 0 warms (red gain up, blue gain down), < 0 cools."""
    x = np.asarray(image, dtype=np.float64) / 255
    gains = np.array([1 + strength * MAX_WHITE_BALANCE, 1.0, 1 - strength * MAX_WHITE_BALANCE])
    return _from_float(x * gains)


def crop(image: Image.Image, strength: float) -> Image.Image:
    """Recompose by a centred crop removing ``strength * MAX_CROP`` of each side, resized back to the input size."""
    w, h = image.size
    keep_w, keep_h = max(1, round(w * (1 - strength * MAX_CROP))), max(1, round(h * (1 - strength * MAX_CROP)))
    left, top = (w - keep_w) // 2, (h - keep_h) // 2
    return image.crop((left, top, left + keep_w, top + keep_h)).resize((w, h), Image.Resampling.LANCZOS)


def blur(image: Image.Image, strength: float) -> Image.Image:
    """Gaussian blur of radius ``strength * MAX_BLUR_RADIUS``."""
    return image.filter(ImageFilter.GaussianBlur(strength * MAX_BLUR_RADIUS))


def sharpen(image: Image.Image, strength: float) -> Image.Image:
    """Unsharp mask, radius 2, amount ``strength * MAX_SHARPEN_PERCENT`` %."""
    return image.filter(ImageFilter.UnsharpMask(radius=2, percent=round(strength * MAX_SHARPEN_PERCENT), threshold=0))


def noise(image: Image.Image, strength: float, seed: int = 0) -> Image.Image:
    """Additive Gaussian noise of std ``strength * MAX_NOISE_STD`` (0-255 scale); one fixed pattern per seed,
    so variants of one image differ only by amplitude."""
    x = np.asarray(image, dtype=np.float64)
    pattern = np.random.default_rng(seed).standard_normal(x.shape)
    return _from_float((x + strength * MAX_NOISE_STD * pattern) / 255)


def jpeg(image: Image.Image, strength: float) -> Image.Image:
    """Re-encode as JPEG at quality linearly from 95 (strength 0) to 5 (strength 1)."""
    best, worst = JPEG_QUALITY_RANGE
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=round(best + strength * (worst - best)))
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


_APPLY = {
    "exposure": exposure,
    "contrast": contrast,
    "saturation": saturation,
    "white_balance": white_balance,
    "crop": crop,
    "blur": blur,
    "sharpen": sharpen,
    "noise": noise,
    "jpeg": jpeg,
}


def apply_edit(image: Image.Image, spec: EditSpec) -> Image.Image:
    """Apply one edit to an image (any PIL mode; the result is RGB of the same size)."""
    return _APPLY[spec.op](to_rgb(image), spec.strength)


def ordered_variants(image: Image.Image, op: str, strengths: list[float]) -> list[Image.Image]:
    """The same operation at several strengths: variants ordered along the edit's direction."""
    return [apply_edit(image, EditSpec(op, s)) for s in strengths]


# Keyword -> (operation, sign) for free-text instructions, checked in this order (ours).
_KEYWORDS: list[tuple[str, str, float]] = [
    (r"\b(brighten|brighter|increase (the )?exposure|lift the shadows)\b", "exposure", +1),
    (r"\b(darken|darker|decrease (the )?exposure|reduce (the )?exposure|underexpos)", "exposure", -1),
    (r"\b(increase|boost|more|add) (the )?contrast\b", "contrast", +1),
    (r"\b(reduce|decrease|lower|less|soften) (the )?contrast\b", "contrast", -1),
    (r"\b(desaturate|mute the colou?rs|reduce (the )?saturation)\b", "saturation", -1),
    (r"\b(saturate|saturation|vibran|vivid)", "saturation", +1),
    (r"\b(warm|warmer)\b", "white_balance", +1),
    (r"\b(cool|cooler|colder)\b", "white_balance", -1),
    (r"\b(crop|recompose|reframe|tighter framing)", "crop", +1),
    (r"\b(blur|defocus|soft focus)", "blur", +1),
    (r"\b(sharpen|crisper|more detail)", "sharpen", +1),
    (r"\b(noise|grain|grainy)\b", "noise", +1),
    (r"\b(jpeg|compression artifacts?|compress)", "jpeg", +1),
]
_CANONICAL = re.compile(r"^Apply (\w+) with strength ([+-]?\d+(?:\.\d+)?)\.$")
_AMOUNTS = [
    (r"\b(slightly|subtly|a little|a bit)\b", 0.25),
    (r"\b(strongly|significantly|heavily|greatly|much)\b", 0.8),
]
DEFAULT_AMOUNT = 0.5  # strength of a free-text instruction without an amount word (ours)


def spec_from_instruction(instruction: str) -> EditSpec | None:
    """The classical edit an instruction asks for, or None when it asks for none the editor can make."""
    text = instruction.strip()
    canonical = _CANONICAL.match(text)
    if canonical:
        return EditSpec(canonical.group(1), float(canonical.group(2)))
    lowered = text.lower()
    amount = next((value for pattern, value in _AMOUNTS if re.search(pattern, lowered)), DEFAULT_AMOUNT)
    for pattern, op, sign in _KEYWORDS:
        if re.search(pattern, lowered):
            return EditSpec(op, sign * amount)
    return None


class ClassicalEditor:
    """The data engine's editor interface (``name``, ``edit(image_bytes, instruction) -> bytes | None``) on CPU."""

    def __init__(self, name: str = "classical"):
        self.name = name

    def edit(self, image: bytes, instruction: str) -> bytes | None:
        """PNG bytes of the edited image (lossless, so a JPEG edit's artefacts survive), or None if the
        instruction names no edit the editor can make."""
        spec = spec_from_instruction(instruction)
        if spec is None:
            return None
        with Image.open(io.BytesIO(image)) as source:
            edited = apply_edit(source, spec)
        buffer = io.BytesIO()
        edited.save(buffer, format="PNG")
        return buffer.getvalue()
