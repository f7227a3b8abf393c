"""Source and edited images of the data engine, held to the project's one pixel budget.

Every source is shrunk before any model sees it, and every edit before it is stored, with
``data_prep.pixel_budget.fit_to_budget`` (default 262,144 pixels = 512 x 512): the experts, editors and
judges see the picture the trained model will see, and no training prompt outgrows verl's context
(an editor returning 1024 x 1024 would otherwise give ~1,300 visual tokens per image).
"""

from __future__ import annotations

import hashlib
import io

from PIL import Image, ImageOps

from data_prep.pixel_budget import fit_to_budget

KEPT_FORMATS = ("PNG", "WEBP")  # lossless stays lossless; everything else is stored as JPEG q95


def within_budget(data: bytes, max_pixels: int) -> bytes:
    """``data`` itself when the image fits ``max_pixels`` upright, else the upright image shrunk by
    ``fit_to_budget`` and re-encoded (PNG/WEBP keep their format, others become JPEG quality 95).

    EXIF orientation is applied when it is not the identity, so a rotated photo is stored as seen.
    Deterministic: the same bytes in give the same bytes out (request keys and resumes rely on it).

    Raises:
        ValueError: the bytes do not decode as an image.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            fmt = image.format or ""
            upright = ImageOps.exif_transpose(image) if image.getexif().get(0x0112, 1) != 1 else image
            fitted = fit_to_budget(upright, max_pixels)
            if fitted is image:
                return data
            out_format = fmt if fmt in KEPT_FORMATS else "JPEG"
            if out_format == "JPEG" and fitted.mode not in ("RGB", "L"):
                fitted = fitted.convert("RGB")
            buffer = io.BytesIO()
            fitted.save(buffer, format=out_format, **({"quality": 95} if out_format == "JPEG" else {}))
            return buffer.getvalue()
    except (OSError, SyntaxError, ValueError) as error:  # PIL's errors for undecodable data
        raise ValueError(f"not a decodable image ({type(error).__name__}: {error})") from error


def content_hashes(data: bytes) -> tuple[str, str]:
    """``(sha256 of the bytes, 256-bit average hash of the pixels)`` of one image.

    The average hash (16 x 16 grey thumbnail, one bit per pixel above the mean) matches an image and
    its re-encoded or resized copy, which the byte hash misses; a flat image has the all-zero hash.
    """
    with Image.open(io.BytesIO(data)) as image:
        grey = ImageOps.exif_transpose(image).convert("L").resize((16, 16), Image.Resampling.BOX)
    pixels = list(grey.getdata())
    mean = sum(pixels) / len(pixels)
    bits = "".join("1" if p > mean else "0" for p in pixels)
    return "sha256:" + hashlib.sha256(data).hexdigest(), f"ahash:{int(bits, 2):064x}"
