"""Every image file gets a defined outcome: decoded, converted, shrunk, or refused with a reason."""

import io
import struct
import zlib

import pytest
from PIL import Image

from data_prep.decode import decode_image, decode_table_image
from data_prep.pixel_budget import DEFAULT_MAX_PIXELS, budget_size, visual_tokens


def _save(image, path, fmt):
    image.save(path, format=fmt)
    return path


@pytest.mark.parametrize(
    "image,fmt,status,detail",
    [
        (Image.new("RGB", (20, 10), (1, 2, 3)), "PNG", "ok", ""),
        (Image.new("L", (20, 10), 77), "PNG", "converted", "from L"),  # grayscale
        (Image.new("CMYK", (20, 10), (0, 50, 100, 0)), "JPEG", "converted", "from CMYK"),
        (Image.new("RGBA", (20, 10), (255, 0, 0, 0)), "PNG", "converted", "alpha on white"),
        (Image.new("P", (20, 10)), "GIF", "converted", "from P"),
        (Image.new("RGB", (20, 10), (9, 9, 9)), "WEBP", "ok", ""),
        (Image.new("I;16", (20, 10), 40000), "PNG", "converted", "from I"),  # 16-bit grayscale
    ],
)
def test_decodable_images(tmp_path, image, fmt, status, detail):
    path = _save(image, tmp_path / f"x.{fmt.lower()}", fmt)
    got = decode_image(path)
    assert got.status == status and detail in got.detail
    assert got.image.mode == "RGB" and got.image.size == (20, 10) and got.usable


def test_transparent_pixels_become_white(tmp_path):
    path = _save(Image.new("RGBA", (4, 4), (255, 0, 0, 0)), tmp_path / "t.png", "PNG")
    assert decode_image(path).image.getpixel((0, 0)) == (255, 255, 255)


def test_large_image_is_downscaled_keeping_aspect(tmp_path):
    path = _save(Image.new("RGB", (400, 200), (5, 5, 5)), tmp_path / "big.jpg", "JPEG")
    got = decode_image(path, max_pixels=20_000)
    assert got.status == "downscaled" and got.usable
    assert got.image.width * got.image.height <= 20_000
    assert got.image.size == budget_size(400, 200, 20_000)  # the project's one budget (28-pixel multiples)
    assert got.image.width / got.image.height == pytest.approx(2.0, rel=0.2)


def test_default_is_the_projects_pixel_budget(tmp_path):
    path = _save(Image.new("RGB", (1200, 900), (5, 5, 5)), tmp_path / "photo.jpg", "JPEG")
    got = decode_image(path)
    assert got.status == "downscaled" and got.image.size == budget_size(1200, 900, DEFAULT_MAX_PIXELS)
    assert got.image.width * got.image.height <= DEFAULT_MAX_PIXELS == 262_144
    assert visual_tokens(*got.image.size) <= DEFAULT_MAX_PIXELS // 28**2  # the processor keeps it in budget
    small = _save(Image.new("RGB", (500, 500), (5, 5, 5)), tmp_path / "small.png", "PNG")
    assert decode_image(small).status == "ok" and decode_image(small).image.size == (500, 500)


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` and holds no pixel data (what a bomb's header says)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.mark.parametrize("width, height, status", [(40_000, 40_000, "too_large"), (15_000, 15_000, "unreadable")])
def test_a_huge_declared_size_is_an_outcome_not_a_crash(tmp_path, width, height, status):
    # Pillow's own guard raises DecompressionBombError inside Image.open above ~179 MP.
    assert width * height > 2 * Image.MAX_IMAGE_PIXELS
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header(width, height))
    for got in (decode_image(path), decode_image(path.read_bytes()), decode_table_image({"bytes": path.read_bytes()})):
        assert got.status == status and got.image is None and got.detail
    assert Image.MAX_IMAGE_PIXELS == 89_478_485  # Pillow's guard is restored for everyone else


def test_huge_image_is_refused_before_decoding(tmp_path):
    path = _save(Image.new("RGB", (300, 300)), tmp_path / "huge.png", "PNG")
    got = decode_image(path, hard_limit_pixels=50_000)
    assert got.status == "too_large" and got.image is None and "300x300" in got.detail


def test_bad_files_get_a_reason(tmp_path):
    (tmp_path / "notes.jpg").write_text("not a picture")
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (30, 60, 90)).save(buffer, format="JPEG")
    (tmp_path / "cut.jpg").write_bytes(buffer.getvalue()[:200])  # truncated download
    assert decode_image(tmp_path / "missing.png").status == "missing"
    assert decode_image(tmp_path / "notes.jpg").status == "unreadable"
    truncated = decode_image(tmp_path / "cut.jpg")
    assert truncated.status == "unreadable" and truncated.detail


def test_table_cells(tmp_path):
    png = io.BytesIO()
    Image.new("RGB", (5, 5)).save(png, format="PNG")
    assert decode_table_image({"bytes": png.getvalue(), "path": None}).status == "ok"
    _save(Image.new("RGB", (5, 5)), tmp_path / "a.png", "PNG")
    assert decode_table_image({"bytes": None, "path": str(tmp_path / "a.png")}).status == "ok"
    assert decode_table_image({"bytes": None, "path": None}).status == "missing"
    assert decode_table_image(None).status == "unreadable"


def test_exif_orientation_applied_for_users_not_for_benchmarks():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 0, 0)).save(buffer, format="JPEG", exif=exif)
    assert decode_image(buffer.getvalue()).image.size == (20, 40)  # as a photo viewer shows it
    # benchmark tables keep the stored orientation, as data_prep stores it and training reads it
    assert decode_table_image({"bytes": buffer.getvalue(), "path": None}).image.size == (40, 20)
