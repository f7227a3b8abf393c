"""Image validation and normalisation: every reason code, every mode, the pixel budget."""

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data_prep import images
from data_prep.images import ImageOptions, load_image, to_rgb
from data_prep.pixel_budget import DEFAULT_MAX_PIXELS, budget_size, visual_tokens

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


@pytest.mark.parametrize("mode", ["L", "CMYK", "P"])
def test_modes_every_consumer_converts_right_are_stored_as_they_are(tmp_path: Path, draw, mode: str):
    path = draw.image(tmp_path / f"a.{mode}", mode=mode)
    result = load_image(str(path), EMBED)
    assert result.ok and result.source_mode == mode and result.changes == () and result.data == path.read_bytes()


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_modes_are_prepared_as_rgb_jpeg(tmp_path: Path, draw, mode: str):
    path = draw.image(tmp_path / f"a.{mode}", mode=mode)
    result = load_image(str(path), EMBED)
    assert result.ok and result.source_mode == mode and result.changes == ("converted",)
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


def _png_with_header_size(path: Path, width: int, height: int) -> Path:
    """A 4x4 PNG whose header claims ``width`` x ``height``: what a decompression bomb looks like."""
    Image.new("1", (4, 4)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = 12  # offset of the IHDR chunk type: after the 8-byte signature and the 4-byte length
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    path.write_bytes(bytes(data))
    return path


def test_decompression_bomb_is_not_decoded(tmp_path: Path):
    # The header claims 20000 x 20000 = 400 MP: rejected from the header alone, before any pixel data is read.
    path = _png_with_header_size(tmp_path / "bomb.png", 20000, 20000)
    result = load_image(str(path), EMBED)
    assert result.reason == "too_many_pixels" and result.detail == "20000x20000 > 89478485 pixels"


def test_the_users_pixel_cap_is_the_only_cap(tmp_path: Path):
    # D10: 99 MP is above PIL's own limit (89 MP warns, 179 MP raises); a user cap of 200 MP lets it through
    # the header check (the 4x4 pixel data then fails to decode: corrupt, not too_many_pixels).
    path = _png_with_header_size(tmp_path / "big.png", 11000, 9000)
    assert load_image(str(path), ImageOptions(pixel_cap=200_000_000)).reason == "corrupt"
    assert load_image(str(path), ImageOptions(pixel_cap=98_000_000)).reason == "too_many_pixels"
    assert Image.MAX_IMAGE_PIXELS == 89_478_485  # PIL's global limit is restored


def test_not_an_image_detail_is_the_same_in_every_run(tmp_path: Path, draw):
    # D9: PIL's message names an object address (<_io.BytesIO object at 0x7fd0...>): reports of identical runs differed.
    path = draw.not_an_image(tmp_path / "page.jpg")
    details = {load_image(str(path), EMBED).detail for _ in range(3)}
    assert details == {"no image format PIL reads; 26 bytes starting b'<html>404 not fo'"}


def test_resize_fits_the_pixel_budget(tmp_path: Path, draw):
    path = draw.image(tmp_path / "big.jpg", size=(200, 100))
    result = load_image(str(path), ImageOptions(embed=True, max_pixels=5000))
    image = Image.open(io.BytesIO(result.data))
    assert image.size == (result.width, result.height) == budget_size(200, 100, 5000) == (84, 28)
    assert result.changes == ("resized",) and (result.source_width, result.source_height) == (200, 100)


@pytest.mark.parametrize("size", [(1024, 768), (2000, 1500), (768, 1024)])
def test_default_options_keep_every_image_within_the_budget(tmp_path: Path, draw, size):
    path = draw.image(tmp_path / "photo.jpg", size=size)
    for options, prepared in ((ImageOptions(), str(tmp_path / "prepared.jpg")), (EMBED, None)):
        result = load_image(str(path), options, prepared)
        stored = Image.open(result.stored_path or io.BytesIO(result.data))
        assert stored.size == (result.width, result.height)
        assert visual_tokens(*stored.size) <= DEFAULT_MAX_PIXELS // 28**2


def test_aspect_ratio_is_checked_on_what_the_model_receives(tmp_path: Path, draw):
    # D6: 12000x60 (ratio 200) is stored as 7224x28 under the budget (ratio 258), which Qwen2-VL refuses.
    path = draw.image(tmp_path / "strip.jpg", size=(12000, 60))
    result = load_image(str(path), EMBED)
    assert result.reason == "extreme_aspect_ratio" and result.detail == "12000x60 stored as 7224x28: 258.0 > 200"
    assert load_image(str(path), ImageOptions(embed=True, max_pixels=None)).ok  # no budget: stored as it is


def test_stored_images_pass_the_qwen2_vl_processor(tmp_path: Path, draw):
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        Qwen2VLImageProcessorPil,
    )

    processor = Qwen2VLImageProcessorPil()
    for i, size in enumerate([(5600, 56), (3000, 16), (1024, 768), (17, 3000)]):
        result = load_image(str(draw.image(tmp_path / f"{i}.jpg", size=size)), EMBED)
        if result.ok:
            processor(images=[Image.open(io.BytesIO(result.data))], return_tensors="np")  # raises on a ratio > 200
        else:
            assert result.reason in ("too_small", "extreme_aspect_ratio"), result


def _rotated_jpeg(path: Path, orientation: int) -> Path:
    """96x48 pixels (left half black, right half white) tagged with an EXIF orientation."""
    pixels = np.zeros((48, 96, 3), np.uint8)
    pixels[:, 48:] = 255
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(path, exif=exif.tobytes(), quality=95)
    return path


def _as_consumers_see(result, path_mode: bool) -> list[Image.Image]:
    """The picture as verl's RL dataset (datasets' decoder) and its SFT dataset (plain PIL) get it."""
    from datasets import Image as ImageFeature

    cell = {"bytes": None, "path": result.stored_path} if path_mode else {"bytes": result.data, "path": None}
    plain = Image.open(cell["path"] or io.BytesIO(cell["bytes"]))
    return [ImageFeature().decode_example(cell).convert("RGB"), plain.convert("RGB")]


@pytest.mark.parametrize("path_mode", [True, False], ids=["paths", "embed"])
def test_exif_orientation_is_applied_once_in_every_mode(tmp_path: Path, path_mode: bool):
    # D7: datasets transposed path images (48x96) while re-encoded ones lost the tag (96x48).
    path = _rotated_jpeg(tmp_path / "turned.jpg", orientation=6)  # 6: rotate 90 degrees clockwise to view
    options = ImageOptions(embed=not path_mode)
    result = load_image(str(path), options, str(tmp_path / "prepared.jpg") if path_mode else None)
    assert (result.width, result.height, result.changes) == (48, 96, ("oriented",))
    for seen in _as_consumers_see(result, path_mode):
        assert seen.size == (48, 96)
        top, bottom = np.asarray(seen)[:40].mean(), np.asarray(seen)[56:].mean()
        assert top < 15 and bottom > 240  # turned clockwise, the black left half is on top


def _sixteen_bit_png(path: Path) -> Path:
    values = np.zeros((32, 32), np.uint16)
    values[:16] = 7710  # 30 / 255 of the 16-bit range: dark, but PIL's convert("RGB") clips it to white
    values[16:] = 58082  # 225 / 255
    Image.fromarray(values).save(path)
    return path


def _transparent_png(path: Path) -> Path:
    pixels = np.zeros((32, 32, 4), np.uint8)
    pixels[:16] = (10, 20, 30, 255)  # opaque top half; the bottom half is fully transparent
    Image.fromarray(pixels, "RGBA").save(path)
    return path


@pytest.mark.parametrize(("make", "top", "bottom"), [(_sixteen_bit_png, 30, 225), (_transparent_png, 20, 255)])
def test_paths_and_embed_modes_give_the_model_the_same_pixels(tmp_path: Path, make, top: int, bottom: int):
    # D8: a 16-bit PNG came out nearly white and transparency black through verl's convert("RGB") in path mode.
    path = make(tmp_path / "source.png")
    via_path = load_image(str(path), ImageOptions(), str(tmp_path / "prepared.jpg"))
    embedded = load_image(str(path), EMBED)
    assert via_path.stored_path and via_path.changes == embedded.changes == ("converted",)
    assert Path(via_path.stored_path).read_bytes() == embedded.data
    for seen in _as_consumers_see(via_path, True) + _as_consumers_see(embedded, False):
        pixels = np.asarray(seen, float)
        assert abs(pixels[:16].mean() - top) < 3 and abs(pixels[16:].mean() - bottom) < 3


def test_images_within_budget_are_referenced_not_copied(tmp_path: Path, draw):
    path = draw.image(tmp_path / "a.jpg", size=(640, 400))
    result = load_image(str(path), ImageOptions(), str(tmp_path / "prepared.jpg"))
    assert result.ok and result.stored_path is None and result.data is None and not (tmp_path / "prepared.jpg").exists()


def test_budget_below_one_visual_token_is_refused():
    with pytest.raises(ValueError, match="at least 784"):
        ImageOptions(max_pixels=500)


def test_a_cameras_multi_picture_jpeg_is_kept_as_it_is(tmp_path: Path):
    # PIL opens such files as MPO, not JPEG; re-encoding them (lossless PNG) would only bloat the parquet.
    path = tmp_path / "camera.jpg"
    Image.new("RGB", (64, 48), (10, 20, 30)).save(path, format="MPO", save_all=True, append_images=[Image.new("RGB", (64, 48))])
    result = load_image(str(path), EMBED)
    assert result.ok and result.changes == () and result.data == path.read_bytes()


# --- libjpeg-turbo's direct decode (the fast path) against PIL's decode (the reference verl's readers use) ---

def _photo_jpeg(size: tuple[int, int], **save) -> bytes:
    """A smooth photo-like JPEG (gradient + light noise), so damaged variants look like damaged photos."""
    width, height = size
    rng = np.random.default_rng(3)
    ramp = np.linspace(30, 220, width)[None, :, None] * np.ones((height, 1, 3))
    pixels = np.clip(ramp + rng.normal(0, 6, (height, width, 3)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90, **save)
    return buffer.getvalue()


def _damaged_variants() -> dict[str, bytes]:
    variants = {}
    for name, save in {"baseline": {}, "progressive": {"progressive": True}, "restarts": {"restart_marker_blocks": 4}}.items():
        data = _photo_jpeg((640, 480), **save)
        variants[f"{name} intact"] = data
        for cut in (0.1, 0.5, 0.9, 0.995):
            variants[f"{name} cut at {cut:.1%}"] = data[: int(len(data) * cut)]
        variants[f"{name} without EOI"] = data[:-2]
        for offset in (0.3, 0.6):  # a flipped byte in the entropy-coded data
            flipped = bytearray(data)
            flipped[int(len(data) * offset)] ^= 0x5A
            variants[f"{name} bit flip at {offset:.0%}"] = bytes(flipped)
    return variants


def _pil_decodes(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
        return True
    except (OSError, SyntaxError, ValueError):
        return False


@pytest.mark.parametrize(("name", "data"), list(_damaged_variants().items()))
@pytest.mark.parametrize("options", [EMBED, ImageOptions(embed=True, max_pixels=None)], ids=["resized", "validated"])
def test_a_damaged_jpeg_gets_the_verdict_of_a_full_pil_decode(tmp_path: Path, name: str, data: bytes, options: ImageOptions):
    # libjpeg-turbo is strict (any warning fails); what it refuses goes to PIL, so the verdict is PIL's.
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    result = load_image(str(path), options)
    assert result.ok == _pil_decodes(data), f"{name}: {result.reason} {result.detail}"
    assert result.ok or result.reason == "corrupt"


@pytest.mark.parametrize(("size", "mode"), [((640, 480), "RGB"), ((2000, 1500), "RGB"), ((1100, 900), "L")])
def test_the_direct_jpeg_decode_gives_the_pixels_of_the_pil_path(tmp_path: Path, monkeypatch, size, mode: str):
    # The slow reference: PIL's draft decode, to_rgb, shrink_pixels. The fast path decodes at libjpeg's
    # M/8 scales instead of PIL's powers of two: nearly the same picture, well within JPEG noise.
    path = tmp_path / "photo.jpg"
    Image.open(io.BytesIO(_photo_jpeg(size))).convert(mode).save(path, quality=92)
    fast = load_image(str(path), EMBED)
    monkeypatch.setattr(images, "_libjpeg_can_decode", lambda image, changes: False)
    reference = load_image(str(path), EMBED)
    assert fast.changes == reference.changes == ("resized",) and (fast.width, fast.height) == (reference.width, reference.height)
    a, b = (np.asarray(Image.open(io.BytesIO(r.data)).convert("RGB"), np.float64) for r in (fast, reference))
    assert 10 * np.log10(255**2 / np.mean((a - b) ** 2)) > 38
