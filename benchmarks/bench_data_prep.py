"""Images per second of the AVA conversion, 1 vs 2 worker processes, against just reading the files.

Generates an AVA-format release (``AVA.txt``, ``generic_test.jpgl``, ``images/<id>.jpg``) of N
photo-sized JPEGs, then times, in the same run:

- ``read``: reading every image file's bytes (the disk / page-cache limit; no decoding);
- ``paths wN``: the converter with path references (every image fully decoded once to validate it);
- ``embed wN``: the converter embedding bytes (RGB JPEGs are stored as they are);
- ``embed+resize w2``: embedding with Qwen's 512x512 pixel budget (decode, resize, re-encode).

The files were just written, so ``read`` measures the page cache, not a cold disk. On a shared
machine, compare the ratios within one run rather than absolute numbers across runs.

Usage: ``python benchmarks/bench_data_prep.py [--n 5000] [--workdir DIR]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from data_prep import ava
from data_prep.convert import WriteOptions, write_dataset
from data_prep.images import ImageOptions

QWEN_MAX_PIXELS = 512 * 512  # the pixel budget peers train Aes-R1-like models with


def make_release(root: Path, n: int, size: tuple[int, int], seed: int = 0) -> None:
    """AVA_dataset-like folder with ``n`` JPEGs of ``size`` (smooth gradients + noise: ~photo-sized files)."""
    rng = np.random.default_rng(seed)
    images = root / "images"
    images.mkdir(parents=True)
    width, height = size
    ramp = np.linspace(0, 1, width)[None, :, None] * np.linspace(0.5, 1, height)[:, None, None]
    # A few noise fields reused with random shifts: generating fresh noise per image dominated the setup.
    noise = [rng.integers(-12, 13, size=(height, width, 3), dtype=np.int16) for _ in range(8)]
    lines = []
    for i in range(n):
        colour = rng.uniform(0, 255, size=(1, 1, 3))
        field = np.roll(noise[i % len(noise)], shift=int(rng.integers(width)), axis=1)
        pixels = np.clip(ramp * colour + field + 40, 0, 255).astype(np.uint8)
        Image.fromarray(pixels, "RGB").save(images / f"{i}.jpg", quality=90)
        votes = rng.multinomial(200, np.full(10, 0.1))
        lines.append(" ".join(map(str, [i + 1, i, *votes, 0, 0, 1])))
    (root / "AVA.txt").write_text("\n".join(lines) + "\n")
    (root / "aesthetics_image_lists").mkdir()
    (root / "aesthetics_image_lists" / "generic_test.jpgl").write_text("".join(f"{i}\n" for i in range(0, n, 10)))


def time_read(root: Path) -> float:
    start = time.perf_counter()
    total = 0
    for path in sorted((root / "images").iterdir()):
        total += len(path.read_bytes())
    return time.perf_counter() - start


def time_convert(root: Path, out: Path, image: ImageOptions, workers: int) -> float:
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    labels = ava.read_labels(root / "AVA.txt", root / "aesthetics_image_lists" / "generic_test.jpgl", root / "images")
    write_dataset(labels, out, WriteOptions(image=image, workers=workers, progress=False))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000, help="number of images")
    parser.add_argument("--size", type=int, nargs=2, default=(640, 480), help="image width height (above the 512x512 budget, so the resize case resizes)")
    parser.add_argument("--workdir", type=Path, help="folder for the generated release (default: a temporary one)")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_data_prep_"))
    root = workdir / "AVA_dataset"
    if not root.exists():
        start = time.perf_counter()
        make_release(root, args.n, tuple(args.size))
        print(f"generated {args.n} images in {time.perf_counter() - start:.1f}s")
    megabytes = sum(p.stat().st_size for p in (root / "images").iterdir()) / 2**20
    cases = {
        "read": lambda: time_read(root),
        "paths w1": lambda: time_convert(root, workdir / "out", ImageOptions(), 1),
        "paths w2": lambda: time_convert(root, workdir / "out", ImageOptions(), 2),
        "embed w1": lambda: time_convert(root, workdir / "out", ImageOptions(embed=True), 1),
        "embed w2": lambda: time_convert(root, workdir / "out", ImageOptions(embed=True), 2),
        "embed+resize w2": lambda: time_convert(root, workdir / "out", ImageOptions(embed=True, max_pixels=QWEN_MAX_PIXELS), 2),
    }
    results = {}
    for name, case in cases.items():
        seconds = case()
        results[name] = {"seconds": round(seconds, 3), "images_per_s": round(args.n / seconds, 1)}
    base = results["read"]["seconds"]
    print(f"{args.n} images, {megabytes:.0f} MB, {args.size[0]}x{args.size[1]}")
    print(f"{'case':<18}{'seconds':>9}{'img/s':>10}{'x read time':>13}")
    for name, result in results.items():
        print(f"{name:<18}{result['seconds']:>9.2f}{result['images_per_s']:>10.1f}{result['seconds'] / base:>13.1f}")
    print(json.dumps({"n": args.n, "megabytes": round(megabytes, 1), "results": results}))
    if args.workdir is None:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
