"""The one pixel budget (data_prep/pixel_budget.py): the processor's resize rule, sizes within budget, the filter."""

from pathlib import Path

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
    smart_resize as transformers_smart_resize,
)

from data_prep.pixel_budget import (
    DEFAULT_MAX_PIXELS,
    budget_size,
    fit_to_budget,
    shrink_pixels,
    smart_resize,
    visual_tokens,
)

sides = st.integers(min_value=8, max_value=6000)


@settings(max_examples=500, deadline=None)
@given(sides, sides)
def test_smart_resize_equals_the_processors_rule(height, width):
    if max(height, width) / min(height, width) > 200:
        return
    assert smart_resize(height, width) == transformers_smart_resize(height, width)
    assert smart_resize(height, width, max_pixels=DEFAULT_MAX_PIXELS) == transformers_smart_resize(
        height, width, max_pixels=DEFAULT_MAX_PIXELS
    )


@settings(max_examples=500, deadline=None)
@given(sides, sides, st.sampled_from([100_000, DEFAULT_MAX_PIXELS, 1_003_520]))
def test_a_budget_sized_image_stays_within_budget_after_the_processor(width, height, max_pixels):
    if max(height, width) / min(height, width) > 50:  # beyond that a 28-pixel short side alone can overflow
        return
    w, h = budget_size(width, height, max_pixels)
    assert w <= width and h <= height  # never enlarged
    h_bar, w_bar = smart_resize(h, w)
    assert h_bar * w_bar <= max_pixels  # what the processor then feeds the model


@pytest.mark.parametrize(
    "size, expected, tokens",
    [
        ((512, 512), (512, 512), 18 * 18),  # processor rounds to 504 x 504: within budget, kept
        ((96, 72), (96, 72), 3 * 3),  # small images are never enlarged by us
        ((1024, 768), (588, 420), 21 * 15),  # FLICKR-AES-sized: 999 tokens at full size
        ((2000, 1500), (588, 420), 21 * 15),
        ((524, 500), (504, 476), 18 * 17),  # fits by area (262,000) but rounds up to 268,128: shrunk
    ],
)
def test_budget_size_by_hand(size, expected, tokens):
    assert budget_size(*size) == expected
    assert visual_tokens(*expected) == tokens


def test_fit_to_budget_resizes_only_when_needed():
    small = Image.new("RGB", (300, 200))
    assert fit_to_budget(small) is small
    assert fit_to_budget(Image.new("RGB", (1600, 1200))).size == budget_size(1600, 1200)


def test_a_budget_below_one_token_is_refused():
    with pytest.raises(ValueError, match="one visual token"):
        budget_size(100, 100, max_pixels=100)


# --- the resampling filter: fast code (OpenCV) against the slow reference (Pillow's Lanczos) ---

PHOTO = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"  # a real photo shipped with matplotlib


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / error))


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    with Image.open(PHOTO) as image:
        return image.convert("RGB")  # 512 x 600


@pytest.mark.parametrize("size", [(470, 552), (430, 504), (384, 450), (300, 352), (257, 301), (200, 235), (120, 141), (45, 53)])
def test_shrink_pixels_matches_lanczos_on_a_photo(photo: Image.Image, size: tuple[int, int]):
    # Factors 0.92 (bicubic only) to 0.09 (area by 5, low-pass, bicubic): 43 dB PSNR or more against
    # the Lanczos reference (about what a q95 JPEG of the result changes; bicubic alone fell to 32 dB at 0.5).
    fast = shrink_pixels(np.asarray(photo), size)
    reference = np.asarray(photo.resize(size, Image.Resampling.LANCZOS))
    assert fast.shape == reference.shape == (size[1], size[0], 3) and fast.dtype == np.uint8
    assert _psnr(fast, reference) > 43


def test_shrink_pixels_antialiases_large_factors():
    # A one-pixel checkerboard shrunk by 5: its average is mid-grey; plain cubic sampling without the
    # box step would alias it into stripes far from 127.
    board = (np.indices((500, 500)).sum(axis=0) % 2 * 255).astype(np.uint8)
    shrunk = shrink_pixels(board, (100, 100))
    assert abs(float(shrunk.mean()) - 127.5) < 3 and shrunk.std() < 10


def test_shrink_pixels_only_shrinks():
    pixels = np.zeros((10, 20, 3), np.uint8)
    assert shrink_pixels(pixels, (20, 10)) is pixels
    with pytest.raises(ValueError, match="only shrinks"):
        shrink_pixels(pixels, (21, 10))


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "LA"])
def test_fit_to_budget_keeps_eight_bit_modes(mode: str):
    assert fit_to_budget(Image.new(mode, (1600, 1200))).mode == mode


def test_fit_to_budget_rescales_sixteen_bit_images_instead_of_clipping():
    half = Image.fromarray(np.full((1200, 1600), 32768, dtype=np.uint16))
    fitted = fit_to_budget(half)
    assert fitted.mode == "RGB" and fitted.size == (588, 420) and fitted.getpixel((10, 10)) == (128, 128, 128)
