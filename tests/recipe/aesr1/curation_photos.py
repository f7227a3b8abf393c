"""Shared by the curation tests: external readers (exiftool, chromium) and photo folders with bursts."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance

_EXIF_IFD, _DATETIME_ORIGINAL = 0x8769, 0x9003


def require_binary(name: str) -> str:
    """Path of an external program the test needs; skipped (with the reason) where it is not installed.
    ``tests/run.sh`` installs it from Debian's packages when it can."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (tests/run.sh installs it with apt-get as root)")
    return path


def save_photo(image: Image.Image, path: Path, taken_at: datetime | None = None) -> Path:
    """A JPEG as a camera writes it: with EXIF DateTimeOriginal when ``taken_at`` is given."""
    exif = Image.Exif()
    if taken_at is not None:
        exif.get_ifd(_EXIF_IFD)[_DATETIME_ORIGINAL] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    image.convert("RGB").save(path, "JPEG", quality=92, exif=exif)
    return path


def center_crop(image: Image.Image, fraction: float) -> Image.Image:
    """A slightly tighter framing of the same shot, at the original size."""
    w, h = image.size
    box = (round(w * fraction), round(h * fraction), round(w * (1 - fraction)), round(h * (1 - fraction)))
    return image.crop(box).resize(image.size, Image.Resampling.BICUBIC)


def exposure(image: Image.Image, factor: float) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(factor)


VARIANTS = {"crop": lambda im: center_crop(im, 0.02), "brighter": lambda im: exposure(im, 1.08), "darker": lambda im: exposure(im, 0.92)}


def write_shoot(originals: list[Path], folder: Path, burst_of: int = 3, start: datetime = datetime(2026, 5, 1, 9, 0)) -> dict[str, str]:
    """A shoot: every original once, 10 minutes apart, and for the first ``burst_of`` originals three
    near-identical frames (2 % tighter crop, +-8 % exposure) 1-3 s after it. Returns {file name: the
    original's stem} for the files that belong to a constructed burst."""
    folder.mkdir(parents=True, exist_ok=True)
    bursts: dict[str, str] = {}
    for k, original in enumerate(originals):
        image = Image.open(original).convert("RGB")
        taken = start + timedelta(minutes=10 * k)
        save_photo(image, folder / f"{original.stem}.jpg", taken)
        if k < burst_of:
            bursts[f"{original.stem}.jpg"] = original.stem
            for j, (name, make) in enumerate(VARIANTS.items(), start=1):
                save_photo(make(image), folder / f"{original.stem}_{name}.jpg", taken + timedelta(seconds=j))
                bursts[f"{original.stem}_{name}.jpg"] = original.stem
    return bursts
