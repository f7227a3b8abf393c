"""What the miniature's rule-based expert and factual judge measure in a picture (numpy + PIL only).

The statistics are the ones the synthetic scenes of ``data_prep.sample_release`` vary with their latent
quality, plus two descriptive ones, each a plain number in a stated range:

* ``saturation``: mean HSV saturation in [0, 1] (r ~ 0.99 with the sample's score).
* ``contrast``: standard deviation of luminance in [0, 0.5].
* ``brightness``: mean luminance in [0, 1] (exposure).
* ``grain``: mean absolute difference between luminance and its 3x3 median, in [0, 1]. The sample's poor
  pictures are blurred *and* noisy; the noise dominates the Laplacian variance (r ~ -0.98 with it, so
  ``laplacian_variance`` is reported too, but it measures grain here, not focus).
* ``subject_x``: horizontal position in [0, 1] of the region least like the sky and the ground colours
  (the drawn subject; 1/3 in the sample's better pictures).
* ``hue``: the name of the dominant (sky) hue, from ``HUE_NAMES``.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

# Hue wheel in eight named sectors, centred on these hue angles (degrees).
HUE_NAMES: dict[str, float] = {
    "red": 0.0, "orange": 30.0, "yellow": 60.0, "green": 120.0, "teal": 180.0, "blue": 225.0,
    "purple": 275.0, "pink": 320.0,
}
# Fractions of the height taken as "sky" (top) and "ground" (bottom) reference colours.
_SKY_ROWS, _GROUND_ROWS = 1 / 5, 1 / 8
# The subject is the 3 % of pixels farthest from both reference colours.
_SUBJECT_PERCENTILE = 97.0


@dataclass(frozen=True)
class ImageStatistics:
    saturation: float
    contrast: float
    brightness: float
    grain: float
    laplacian_variance: float
    subject_x: float
    hue: str


def decode_data_url(url: str) -> Image.Image:
    """The RGB picture of a ``data:image/...;base64,...`` URL; ValueError for anything else."""
    if not url.startswith("data:image/") or ";base64," not in url:
        raise ValueError(f"expected a base64 image data URL, got {url[:40]!r}...")
    data = base64.b64decode(url.split(",", 1)[1], validate=True)
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def hue_name(degrees: float) -> str:
    """The ``HUE_NAMES`` sector nearest to a hue angle (circular distance)."""
    def distance(name: str) -> float:
        gap = abs(degrees - HUE_NAMES[name]) % 360
        return min(gap, 360 - gap)

    return min(HUE_NAMES, key=distance)


def _laplacian(values: np.ndarray) -> np.ndarray:
    return 4 * values[1:-1, 1:-1] - values[:-2, 1:-1] - values[2:, 1:-1] - values[1:-1, :-2] - values[1:-1, 2:]


def measure(image: Image.Image) -> ImageStatistics:
    """Measure one picture (at least 8 x 8 pixels); see the module docstring for each statistic."""
    rgb = image.convert("RGB")
    if min(rgb.size) < 8:
        raise ValueError(f"image too small to measure: {rgb.width}x{rgb.height}")
    hsv = np.asarray(rgb.convert("HSV"), dtype=np.float64) / 255.0
    luminance = np.asarray(rgb.convert("L"), dtype=np.float64) / 255.0
    median = np.asarray(rgb.convert("L").filter(ImageFilter.MedianFilter(3)), dtype=np.float64) / 255.0
    smooth = np.asarray(rgb.filter(ImageFilter.MedianFilter(3)), dtype=np.float64)
    height = smooth.shape[0]
    sky = np.median(smooth[: max(1, int(height * _SKY_ROWS))].reshape(-1, 3), axis=0)
    ground = np.median(smooth[-max(1, int(height * _GROUND_ROWS)) :].reshape(-1, 3), axis=0)
    distance = np.minimum(np.linalg.norm(smooth - sky, axis=2), np.linalg.norm(smooth - ground, axis=2))
    ys, xs = np.nonzero(distance >= np.percentile(distance, _SUBJECT_PERCENTILE))
    weights = distance[ys, xs] + 1e-9
    subject_x = float((xs * weights).sum() / weights.sum() / max(1, smooth.shape[1] - 1))
    sky_hsv = np.asarray(Image.fromarray(sky.astype(np.uint8).reshape(1, 1, 3)).convert("HSV"), dtype=np.float64)
    return ImageStatistics(
        saturation=float(hsv[..., 1].mean()),
        contrast=float(luminance.std()),
        brightness=float(luminance.mean()),
        grain=float(np.abs(luminance - median).mean()),
        laplacian_variance=float(_laplacian(luminance).var()),
        subject_x=subject_x,
        hue=hue_name(float(sky_hsv[0, 0, 0]) / 255.0 * 360.0),
    )
