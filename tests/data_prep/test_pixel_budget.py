"""The one pixel budget (data_prep/pixel_budget.py): the processor's resize rule, and sizes within budget."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize as transformers_smart_resize

from data_prep.pixel_budget import DEFAULT_MAX_PIXELS, budget_size, fit_to_budget, smart_resize, visual_tokens

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
