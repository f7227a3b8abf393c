"""Every input layout a framework hands over becomes the same RGB picture, within the pixel budget."""

import numpy as np
import pytest
import torch
from PIL import Image

from data_prep.pixel_budget import budget_size
from recipe.aesr1.scoring.image_inputs import content_key, to_pil_images


def _pixels(n=3, h=20, w=24, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, h, w, 3), dtype=np.uint8)


def test_float_nchw_uint8_nhwc_and_pil_give_identical_pictures():
    nhwc = _pixels()
    layouts = [
        nhwc,  # uint8 NHWC, as Flow-GRPO's numpy path
        torch.from_numpy(nhwc).permute(0, 3, 1, 2).float() / 255.0,  # float NCHW in [0, 1]
        torch.from_numpy(nhwc).permute(0, 3, 1, 2).float().div(255.0).requires_grad_(),  # needs detach
        [Image.fromarray(a) for a in nhwc],  # a PIL list
        list(nhwc),  # a list of per-image arrays
    ]
    keys = [[content_key(p) for p in to_pil_images(layout)] for layout in layouts]
    assert all(k == keys[0] for k in keys)
    assert len(set(keys[0])) == 3  # different pictures, different keys
    assert np.array_equal(np.asarray(to_pil_images(layouts[1])[2]), nhwc[2])


def test_grayscale_and_rgba_become_rgb():
    gray = to_pil_images(np.full((1, 8, 8, 1), 7, dtype=np.uint8))[0]
    rgba = to_pil_images([Image.new("RGBA", (8, 8), (1, 2, 3, 255))])[0]
    assert gray.mode == rgba.mode == "RGB" and gray.getpixel((0, 0)) == (7, 7, 7)


def test_large_images_are_shrunk_to_the_one_pixel_budget():
    image = to_pil_images([Image.new("RGB", (2000, 1000))], max_pixels=262_144)[0]
    assert image.size == budget_size(2000, 1000, 262_144) and image.width * image.height <= 262_144


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((2, 5, 8, 8), np.uint8), "channel axis"),  # 5 channels
        (np.zeros((8, 8), np.uint8), "batch of images"),  # 2-D
        (np.zeros((1, 3, 4, 4), np.int64), "dtype"),  # int64 is neither uint8 nor float
        (np.full((1, 3, 4, 4), np.nan, np.float32), "NaN"),
        ("image.png", "PIL images"),  # a path is not an image: the caller decodes files
        (["a.png"], "image 0"),
    ],
)
def test_bad_input_is_a_clear_error(bad, message):
    with pytest.raises(ValueError, match=message):
        to_pil_images(bad)
