"""A small synthetic release in AVA's native format, for demos and smoke runs (never a benchmark).

Writes ``AVA.txt`` (15 columns: index, id, ten vote counts, two tags, challenge), the official-style
test list ``aesthetics_image_lists/generic_test.jpgl`` and ``images/<id>.jpg``, exactly the files
``python -m data_prep ava`` reads. Each image's votes are drawn around a latent quality that the
picture shows (contrast, saturation and sharpness of a drawn scene grow with it), so a model has
something real, if simple, to learn from the pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def write_ava_like_release(root: str | Path, n_images: int = 200, test_fraction: float = 0.25, seed: int = 0, size: tuple[int, int] = (96, 72)) -> Path:
    """Write ``n_images`` synthetic AVA-format entries under ``root``; returns ``root``.

    Votes: 100-250 per image, from a discretised normal on 1..10 centred at ``1 + 9 * quality``.
    """
    if n_images < 4:
        raise ValueError(f"n_images must be at least 4, got {n_images}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    root = Path(root)
    images = root / "images"
    images.mkdir(parents=True, exist_ok=True)
    (root / "aesthetics_image_lists").mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    quality = rng.beta(4.0, 4.0, n_images)
    ids = [str(100000 + 7 * i) for i in range(n_images)]
    rows = []
    for i, (image_id, q) in enumerate(zip(ids, quality.tolist())):
        _draw_scene(q, rng, size).save(images / f"{image_id}.jpg", quality=90)
        votes = np.clip(np.rint(rng.normal(1 + 9 * q, 1.4, int(rng.integers(100, 251)))), 1, 10).astype(int)
        counts = np.bincount(votes, minlength=11)[1:]
        rows.append(" ".join([str(i + 1), image_id, *map(str, counts), "0", "0", str(1 + i % 5)]))
    (root / "AVA.txt").write_text("\n".join(rows) + "\n")
    test = sorted(rng.choice(n_images, size=max(1, int(round(test_fraction * n_images))), replace=False))
    (root / "aesthetics_image_lists" / "generic_test.jpgl").write_text("".join(f"{ids[i]}\n" for i in test))
    return root


def _draw_scene(quality: float, rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """A sky/ground scene with a subject; better images are crisper, more saturated, better exposed."""
    width, height = size
    hue = rng.uniform(0, 1)
    saturation, contrast = 0.15 + 0.8 * quality, 0.25 + 0.75 * quality
    sky = _hsv(hue, saturation, 0.55 + 0.4 * contrast)
    ground = _hsv((hue + 0.35) % 1, saturation, 0.5 - 0.35 * contrast)
    image = Image.new("RGB", size, sky)
    draw = ImageDraw.Draw(image)
    horizon = int(height * rng.uniform(0.5, 0.75))
    draw.rectangle([0, horizon, width, height], fill=ground)
    # Good pictures put the subject near a rule-of-thirds point, poor ones anywhere.
    cx = int(width * (1 / 3 if quality > 0.5 else rng.uniform(0.05, 0.95)))
    cy = int(horizon - height * 0.15)
    r = int(min(width, height) * 0.12)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_hsv((hue + 0.5) % 1, saturation, 0.9))
    blur = float(2.5 * (1 - quality))
    image = image.filter(ImageFilter.GaussianBlur(blur)) if blur > 0.2 else image
    noise = rng.normal(0, 25 * (1 - quality), (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 255).astype(np.uint8))


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    pixel = Image.new("HSV", (1, 1), (int(h * 255), int(s * 255), int(max(0.0, min(1.0, v)) * 255))).convert("RGB")
    return pixel.getpixel((0, 0))
