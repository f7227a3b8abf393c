"""Shared by the curation tests: external readers (exiftool, chromium) and photo folders with bursts."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance

_EXIF_IFD, _DATETIME_ORIGINAL = 0x8769, 0x9003
# Screenshots the browser tests write (kept by CI as artifacts; outputs/ is not committed).
ARTIFACTS = Path(os.environ.get("AESR1_TEST_ARTIFACTS", "outputs/test-artifacts"))


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


def softened(image: Image.Image) -> Image.Image:
    """A worse frame of the same shot: slightly blurred, half the saturation (the sample release's labels
    grow with sharpness and saturation, so a judge that learned them should rank it lower)."""
    from PIL import ImageFilter

    return ImageEnhance.Color(image.filter(ImageFilter.GaussianBlur(1.2))).enhance(0.5)


VARIANTS = {"crop": lambda im: center_crop(im, 0.02), "brighter": lambda im: exposure(im, 1.08), "darker": lambda im: exposure(im, 0.92)}


def photo_like_scene(seed: int) -> Image.Image:
    """A 320 x 240 photo-like picture: smooth gradients and a few shapes at random places (distinct per seed).

    The main job's synthetic scenes are all drawn by one generator (sky, ground, one disc) and look alike
    to a perceptual hash; these do not, so a test can check the hash alone.
    """
    import numpy as np
    from PIL import ImageDraw

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:240, 0:320] / 240.0
    base = np.stack([np.sin(x * rng.uniform(1, 6) + rng.uniform(0, 6)) for _ in range(3)], -1) * 80 + 120
    image = Image.fromarray(np.clip(base + y[..., None] * rng.uniform(-60, 60, 3), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        cx, cy, r = rng.integers(0, 320), rng.integers(0, 240), rng.integers(15, 60)
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    return image


def write_shoot(originals: list[Path], folder: Path, burst_of: int = 3, start: datetime = datetime(2026, 5, 1, 9, 0)) -> dict[str, str]:
    """A shoot: every original once, 10 minutes apart, and for the first ``burst_of`` originals four
    near-identical frames 1-4 s after it (2 % tighter crop, +-8 % exposure, ``softened``). Returns {file
    name: the original's stem} for the files that belong to a constructed burst."""
    folder.mkdir(parents=True, exist_ok=True)
    bursts: dict[str, str] = {}
    for k, original in enumerate(originals):
        image = Image.open(original).convert("RGB")
        taken = start + timedelta(minutes=10 * k)
        save_photo(image, folder / f"{original.stem}.jpg", taken)
        if k < burst_of:
            bursts[f"{original.stem}.jpg"] = original.stem
            for j, (name, make) in enumerate({**VARIANTS, "soft": softened}.items(), start=1):
                save_photo(make(image), folder / f"{original.stem}_{name}.jpg", taken + timedelta(seconds=j))
                bursts[f"{original.stem}_{name}.jpg"] = original.stem
    return bursts


def held_out_originals(main_job: Path, count: int) -> list[Path]:
    """The first ``count`` held-out pictures of the main job, as the JPEG files of its sample release."""
    import pyarrow.parquet as pq

    rows = pq.read_table(main_job / "data" / "ava" / "table", columns=["id", "split"]).to_pylist()
    ids = [row["id"] for row in rows if row["split"] == "test"][:count]
    return [main_job / "sample_release" / "AVA_dataset" / "images" / f"{image_id}.jpg" for image_id in ids]


def open_in_chromium(page_file: Path, screenshot: Path | None = None, act=None) -> dict:
    """Load a local page in headless Debian chromium (playwright): console errors and warnings, page
    errors, requests that leave the file, and each image's (alt, complete, naturalWidth). ``act(page)``
    runs after the load, before the screenshot (clicks and checks of the caller)."""
    chromium = require_binary("chromium")
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else problems.append(f"request {r.url}"))
            page.goto(page_file.resolve().as_uri())
            page.wait_for_load_state("load")
            images = page.eval_on_selector_all("img", "els => els.map(i => [i.alt, i.complete, i.naturalWidth])")
            if act is not None:
                act(page)
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return {"problems": problems, "images": images}
