"""Validate each image once and decide the pixels the model will receive, the same in every mode.

Checks, in order, with the reason code a skipped image gets in the report:
``missing_file`` (no such file), ``unreadable`` (OS error), ``not_an_image`` (PIL cannot identify
it), ``too_many_pixels`` (width * height above ``pixel_cap``, checked from the header before any
decoding: a decompression bomb never gets decoded), then, on the size the model will receive
(after EXIF orientation and the pixel budget): ``too_small`` (a side below ``min_side``),
``extreme_aspect_ratio`` (above ``max_aspect_ratio``: Qwen2-VL's processor refuses > 200), and
``corrupt`` (the decode fails, e.g. a truncated JPEG).

What the model receives is decided here once, for every mode:

- an image that needs no change -- within the pixel budget (``data_prep.pixel_budget``), no EXIF
  rotation, and a mode that every consumer's ``convert("RGB")`` turns into the right picture
  (``AS_IS_MODES``) -- is stored as it is: its path, or with ``embed`` the file's own bytes;
- every other image is prepared once: EXIF orientation applied, converted to RGB (alpha over
  white, 16-bit rescaled), shrunk to ``budget_size`` with ``pixel_budget.shrink_pixels`` (the
  picture of Pillow's Lanczos), and encoded as JPEG q95 (``encode_jpeg``). Its bytes are embedded,
  or written once to a prepared file whose path the parquet stores.

So verl's RL dataset (``datasets`` decodes, applying EXIF orientation), verl's SFT dataset
(``qwen_vl_utils``, no orientation) and our evaluation all see the same pixels, in both modes.

Decoding reads every entropy-coded byte (so truncation and bit errors are found as by a full
decode) at the smallest DCT scale that still covers what is needed: 1/8 to validate, the stored
size to shrink. A plain RGB or grey JPEG goes straight through libjpeg-turbo (``simplejpeg``, in
strict mode: any warning counts), which skips PIL's per-image overhead; whatever it refuses, and
every other format, is decoded by PIL, whose verdict is the one verl's readers would reach
(tests/data_prep/test_images.py compares the two on damaged files and on pixels).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np
import simplejpeg
from PIL import Image, ImageOps, UnidentifiedImageError

from data_prep.atomic_files import write_bytes_atomic
from data_prep.pixel_budget import (
    DEFAULT_MAX_PIXELS,
    budget_size,
    shrink_pixels,
    to_rgb,
)

DEFAULT_PIXEL_CAP = 89_478_485  # PIL's own MAX_IMAGE_PIXELS; the largest IAA photos are ~25 MP
KEEP_FORMATS = ("JPEG", "MPO", "PNG")  # MPO: a camera's multi-picture JPEG; readers take its first frame
DRAFT_FORMATS = ("JPEG", "MPO")
LIBJPEG_MODES = ("RGB", "L")  # what libjpeg-turbo turns into RGB itself (CMYK/YCCK go through PIL)
AS_IS_MODES = ("RGB", "L", "CMYK", "YCbCr", "1")
"""Modes whose plain ``convert("RGB")`` (what verl and qwen_vl_utils do) is the right picture; palette
images without transparency too. Alpha modes (black under verl, white under qwen_vl_utils) and
16-bit modes (clipped to white by ``convert``) are prepared instead."""
ORIENTATION_TAG = 0x0112
JPEG_VALIDATION_SCALE = 8  # the smallest DCT scale: every coefficient is still entropy-decoded

# One image per process at a time: the worker pool is the parallelism, and OpenCV's own resize
# threads would only add CPU time on cores the other workers already use.
cv2.setNumThreads(1)


@dataclass(frozen=True)
class ImageOptions:
    """How images are checked and stored.

    Attributes:
        embed: store image bytes in the parquet (True) or a path (False): the original file when it
            needs no change, else a prepared copy written once under the output folder.
        max_pixels: the pixel budget (``data_prep.pixel_budget``); None stores every image at its
            own size (only for models other than Qwen2-VL: the processor's own limit then applies).
        pixel_cap: images above this many pixels are skipped as ``too_many_pixels``; this is the only
            cap (PIL's own decompression-bomb limit is lifted while the header is checked against it).
        min_side: images whose stored size has a side below this are skipped as ``too_small``.
        max_aspect_ratio: images whose stored long/short side exceeds this are skipped.
        jpeg_quality: quality of prepared JPEGs.
    """

    embed: bool = False
    max_pixels: int | None = DEFAULT_MAX_PIXELS
    pixel_cap: int = DEFAULT_PIXEL_CAP
    min_side: int = 16
    max_aspect_ratio: float = 200.0
    jpeg_quality: int = 95

    def __post_init__(self) -> None:
        if self.max_pixels is not None:
            budget_size(28, 28, self.max_pixels)  # raises for a budget below one visual token
        if self.pixel_cap < 1 or self.min_side < 1 or not self.max_aspect_ratio >= 1:
            raise ValueError(f"pixel_cap and min_side must be >= 1 and max_aspect_ratio >= 1, got {self}")


@dataclass(frozen=True)
class ImageResult:
    """Outcome for one image. ``ok`` False means skipped with ``reason`` and ``detail``.

    ``width``/``height`` are of what the model receives (after orientation and budget);
    ``source_width``/``source_height``/``source_mode`` of the file; ``changes`` lists what was done
    (``oriented``, ``converted``, ``resized``; empty: stored as is); ``data`` holds the bytes to
    embed (None in path mode or when skipped); ``stored_path`` is the prepared file written in path
    mode (None: the original is referenced).
    """

    ok: bool
    reason: str = "ok"
    detail: str = ""
    width: int = 0
    height: int = 0
    source_width: int = 0
    source_height: int = 0
    source_mode: str = ""
    changes: tuple[str, ...] = ()
    data: bytes | None = None
    stored_path: str | None = None


def converts_as_is(image: Image.Image) -> bool:
    """Whether a plain ``convert("RGB")`` of ``image`` is the picture ``to_rgb`` gives."""
    if image.mode == "P":
        return "transparency" not in image.info
    return image.mode in AS_IS_MODES


def orientation(image: Image.Image) -> int:
    """The EXIF orientation (1..8; 1 or a missing/broken tag: as stored)."""
    try:
        value = image.getexif().get(ORIENTATION_TAG, 1)
    except (OSError, SyntaxError, ValueError, TypeError):
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _skip(reason: str, detail: str = "", mode: str = "", size: tuple[int, int] = (0, 0)) -> ImageResult:
    return ImageResult(ok=False, reason=reason, detail=detail, source_mode=mode, source_width=size[0], source_height=size[1])


@contextmanager
def _own_pixel_cap() -> Iterator[None]:
    """Lift PIL's decompression-bomb limit: ``pixel_cap`` is checked from the header instead (one cap)."""
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _stored_size(width: int, height: int, turned: bool, options: ImageOptions) -> tuple[int, int]:
    """The size the model receives: after orientation (``turned``: sides swap) and the budget."""
    if turned:
        width, height = height, width
    if options.max_pixels is None:
        return width, height
    return budget_size(width, height, options.max_pixels)


def _decode(image: Image.Image, target: tuple[int, int] | None) -> None:
    """Decode the pixels; JPEGs at the smallest DCT scale that still covers ``target`` (None: validation)."""
    if image.format in DRAFT_FORMATS:
        image.draft(None, target or _validation_size(image.size))
    image.load()


def load_image(path: str, options: ImageOptions, prepared_path: str | None = None) -> ImageResult:
    """Validate the image at ``path`` and prepare what the parquet stores (see the module docstring).

    Args:
        path: the original image file.
        options: checks and budget.
        prepared_path: where a prepared copy goes in path mode (written atomically); without it the
            prepared bytes are returned in ``data`` (embed mode, or a caller that stores them itself).
    """
    if not os.path.isfile(path):
        return _skip("missing_file", path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        return _skip("unreadable", f"{type(error).__name__}: {error.strerror or error}")
    with _own_pixel_cap():
        try:
            image = Image.open(io.BytesIO(raw))
        except UnidentifiedImageError:
            return _skip("not_an_image", f"no image format PIL reads; {len(raw)} bytes starting {raw[:16]!r}")
        except (OSError, SyntaxError, ValueError) as error:
            return _skip("corrupt", f"{type(error).__name__}: {error}")
        with image:
            return _check_and_store(image, raw, options, prepared_path)


def _check_and_store(image: Image.Image, raw: bytes, options: ImageOptions, prepared_path: str | None) -> ImageResult:
    source = (image.width, image.height)
    mode = image.mode
    if source[0] * source[1] > options.pixel_cap:
        return _skip("too_many_pixels", f"{source[0]}x{source[1]} > {options.pixel_cap} pixels", mode, source)
    turn = orientation(image)
    try:
        stored = _stored_size(*source, turn in (5, 6, 7, 8), options)
    except ValueError:  # the budget's resize rule refuses aspect ratios above 200
        stored = source
    where = f"{source[0]}x{source[1]}" + (f" stored as {stored[0]}x{stored[1]}" if stored != source else "")
    if min(stored) < options.min_side:
        return _skip("too_small", f"{where}, min side {options.min_side}", mode, source)
    if max(stored) / min(stored) > options.max_aspect_ratio:
        return _skip("extreme_aspect_ratio", f"{where}: {max(stored) / min(stored):.1f} > {options.max_aspect_ratio:g}", mode, source)
    changes = tuple(
        name for name, needed in (
            ("oriented", turn != 1), ("converted", not converts_as_is(image)),
            ("resized", stored != (source[::-1] if turn in (5, 6, 7, 8) else source)),
        ) if needed
    )
    # Decode at the smallest JPEG scale that covers the stored size (in the file's own orientation).
    target = None if not changes else (stored[::-1] if turn in (5, 6, 7, 8) else stored)
    pixels = _decode_libjpeg(raw, target or _validation_size(source)) if _libjpeg_can_decode(image, changes) else None
    if pixels is None:  # not a plain JPEG, or libjpeg reported something: PIL's decode, as verl's readers do, decides
        try:
            _decode(image, target)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
            return _skip("corrupt", f"{type(error).__name__}: {error}", mode, source)
    result = dict(ok=True, width=stored[0], height=stored[1], source_width=source[0], source_height=source[1], source_mode=mode, changes=changes)
    if not changes:
        if not options.embed:
            return ImageResult(**result)
        if image.format in KEEP_FORMATS:
            return ImageResult(**result, data=raw)
        return ImageResult(**result, data=_encode_lossless(raw))
    if pixels is None:
        pixels = np.asarray(to_rgb(ImageOps.exif_transpose(image) if turn != 1 else image))
    data = encode_jpeg(shrink_pixels(pixels, stored), options.jpeg_quality)
    if prepared_path is None:
        return ImageResult(**result, data=data)
    write_bytes_atomic(prepared_path, data)
    return ImageResult(**result, stored_path=prepared_path)


def _libjpeg_can_decode(image: Image.Image, changes: tuple[str, ...]) -> bool:
    """A baseline or progressive JPEG in RGB or grey that at most needs resizing: libjpeg-turbo decodes it directly."""
    return image.format == "JPEG" and image.mode in LIBJPEG_MODES and set(changes) <= {"resized"}


def _validation_size(source: tuple[int, int]) -> tuple[int, int]:
    return max(1, source[0] // JPEG_VALIDATION_SCALE), max(1, source[1] // JPEG_VALIDATION_SCALE)


def _decode_libjpeg(raw: bytes, minimum: tuple[int, int]) -> np.ndarray | None:
    """RGB pixels at the smallest DCT scale (M/8) covering ``minimum``; None when libjpeg warns or fails.

    ``strict``: any recoverable error (corrupt data, premature end) fails too, so a file libjpeg
    decodes here is one PIL decodes as well; the rest go to PIL, whose verdict verl's readers share.
    """
    try:
        return simplejpeg.decode_jpeg(raw, colorspace="RGB", min_width=minimum[0], min_height=minimum[1], strict=True)
    except ValueError:
        return None


def encode_jpeg(pixels: np.ndarray, quality: int) -> bytes:
    """RGB pixels as a baseline JPEG (4:2:0, accurate DCT): the one encoder of prepared images."""
    return simplejpeg.encode_jpeg(np.ascontiguousarray(pixels), quality=quality, colorspace="RGB", colorsubsampling="420", fastdct=False)


def _encode_lossless(raw: bytes) -> bytes:
    """A format other than JPEG/PNG (TIFF, BMP, WebP...) that needs no change: the same pixels as PNG."""
    with Image.open(io.BytesIO(raw)) as image:
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="PNG")
        return buffer.getvalue()
