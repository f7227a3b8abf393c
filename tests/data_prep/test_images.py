"""Image validation and normalisation: every reason code, every mode, the pixel budget."""

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from data_prep.images import ImageOptions, fitted_size, load_image, to_rgb

EMBED = ImageOptions(embed=True)


def test_rgb_jpeg_is_embedded_unchanged(tmp_path: Path, draw):
    path = draw.image(tmp_path / "a.jpg", seed=1)
    result = load_image(str(path), EMBED)
    assert result.ok and result.data == path.read_bytes()
    assert (result.width, result.height, result.source_mode) == (32, 24, "RGB")


def test_path_mode_validates_without_bytes(tmp_path: Path, draw):
    path = draw.image(tmp_path / "a.jpg", mode="L")
    result = load_image(str(path), ImageOptions())
    assert result.ok and result.data is None and result.source_mode == "L"


@pytest.mark.parametrize("mode", ["L", "CMYK", "P", "RGBA", "LA"])
def test_other_modes_are_embedded_as_rgb_jpeg(tmp_path: Path, draw, mode: str):
    path = draw.image(tmp_path / f"a.{mode}", mode=mode)
    result = load_image(str(path), EMBED)
    assert result.ok and result.source_mode == mode
    image = Image.open(io.BytesIO(result.data))
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (32, 24))


def test_transparent_pixels_become_white():
    image = Image.new("RGBA", (2, 1), (0, 0, 0, 0))
    image.putpixel((1, 0), (10, 20, 30, 255))
    rgb = to_rgb(image)
    assert [rgb.getpixel((0, 0)), rgb.getpixel((1, 0))] == [(255, 255, 255), (10, 20, 30)]


def test_sixteen_bit_grayscale_is_rescaled_not_clipped():
    image = Image.fromarray(np.full((2, 2), 65535, dtype=np.uint16))
    assert to_rgb(image).getpixel((0, 0)) == (255, 255, 255)
    half = Image.fromarray(np.full((2, 2), 32768, dtype=np.uint16))
    assert to_rgb(half).getpixel((0, 0)) == (128, 128, 128)


@pytest.mark.parametrize(
    ("make", "options", "reason"),
    [
        (lambda d, p: p, EMBED, "missing_file"),  # never written
        (lambda d, p: d.not_an_image(p), EMBED, "not_an_image"),  # an HTML error page saved as .jpg
        (lambda d, p: d.truncated_jpeg(p), EMBED, "corrupt"),  # download cut short
        (lambda d, p: d.truncated_jpeg(p), ImageOptions(), "corrupt"),  # path mode decodes too
        (lambda d, p: d.image(p), ImageOptions(pixel_cap=500), "too_many_pixels"),  # 768 px > cap
        (lambda d, p: d.image(p, size=(40, 8)), EMBED, "too_small"),  # 8 px side < 16
        (lambda d, p: d.image(p, size=(400, 17)), ImageOptions(max_aspect_ratio=20), "extreme_aspect_ratio"),
    ],
)
def test_bad_images_are_skipped_with_a_reason(tmp_path: Path, draw, make, options, reason: str):
    path = tmp_path / "bad.jpg"
    make(draw, path)
    result = load_image(str(path), options)
    assert not result.ok and result.reason == reason and result.data is None


def test_decompression_bomb_is_not_decoded(tmp_path: Path):
    # A PNG whose header claims 20000 x 20000 = 400 MP (PIL's own cap is 2 x 89 MP): rejected from
    # the header alone, before any pixel data is read.
    path = tmp_path / "bomb.png"
    Image.new("L", (4, 4)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = 12  # offset of the IHDR chunk type: after the 8-byte signature and the 4-byte length
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", 20000, 20000)
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    path.write_bytes(bytes(data))
    assert load_image(str(path), EMBED).reason == "too_many_pixels"
    assert load_image(str(path), ImageOptions(pixel_cap=10**10)).reason == "too_many_pixels"


def test_resize_fits_the_pixel_budget(tmp_path: Path, draw):
    path = draw.image(tmp_path / "big.jpg", size=(200, 100))
    result = load_image(str(path), ImageOptions(embed=True, max_pixels=5000))
    image = Image.open(io.BytesIO(result.data))
    assert image.size == (result.width, result.height) == (100, 50)


def test_resize_needs_embedding():
    with pytest.raises(ValueError, match="needs embedded images"):
        ImageOptions(max_pixels=1000)


@given(st.integers(1, 5000), st.integers(1, 5000), st.none() | st.integers(1, 10**7), st.none() | st.integers(1, 4000))
def test_fitted_size_respects_budgets_and_keeps_shape(width, height, max_pixels, max_side):
    new_w, new_h = fitted_size(width, height, max_pixels, max_side)
    assert 1 <= new_w <= width and 1 <= new_h <= height
    if max_pixels and new_w > 1 and new_h > 1:
        assert new_w * new_h <= max_pixels
    if max_side and new_w > 1 and new_h > 1:
        assert max(new_w, new_h) <= max_side
    if (new_w, new_h) != (width, height) and min(new_w, new_h) > 2:
        assert abs(new_w / new_h - width / height) <= 2 * max(width / height, 1) / min(new_w, new_h)
