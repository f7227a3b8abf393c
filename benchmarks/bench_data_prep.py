"""Data preparation against the decode floor, measured side by side in one run.

Generates an AVA-format release (``AVA.txt``, ``generic_test.jpgl``, ``images/<id>.jpg``) of N
photo-like JPEGs, then measures in this process (``--workers 1``, so CPU time is comparable):

- ``floor``: a plain PIL full decode of every file (``Image.open(path).load()``), one process;
- ``paths``: the converter with path references and no pixel budget (``--max-pixels 0``);
- ``embed``: embedding bytes, no budget (RGB JPEGs are stored as they are), both layouts;
- ``embed rl only``: the same with ``--layout rl`` (both store image bytes once: the table refers to rl);
- ``embed budget``: ``--embed`` with the default budget (262,144 pixels): decode, resize, re-encode;
- ``paths budget``: the default command (path references, budget-sized copies written once).

Each case is reported as CPU seconds and as a ratio to the floor's CPU seconds (robust on a shared
machine, where wall time depends on other jobs); the targets of issue 15 are checked:
paths <= 1.1x, embed <= 1.3x, embed budget <= 2x (and the default, paths budget, <= 2x).
It also reports the bytes each output stores per byte of source JPEG (issue 15: stored once by default).

Usage: ``python benchmarks/bench_data_prep.py [--n 3000] [--size 640 480] [--workdir DIR]``
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
from data_prep.layouts import LAYOUTS

TARGETS = {"paths": 1.1, "embed": 1.3, "embed budget": 2.0, "paths budget": 2.0}
CASES = {  # name -> (image options, layouts)
    "paths": (ImageOptions(max_pixels=None), LAYOUTS),
    "embed": (ImageOptions(embed=True, max_pixels=None), LAYOUTS),
    "embed rl only": (ImageOptions(embed=True, max_pixels=None), ("rl",)),
    "embed budget": (ImageOptions(embed=True), LAYOUTS),
    "paths budget": (ImageOptions(), LAYOUTS),
}


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


def timed(job) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of ``job()`` in this process."""
    cpu, wall = time.process_time(), time.perf_counter()
    job()
    return time.process_time() - cpu, time.perf_counter() - wall


def decode_floor(root: Path) -> None:
    for path in sorted((root / "images").iterdir()):
        with Image.open(path) as image:
            image.load()


def convert(root: Path, out: Path, image: ImageOptions, layouts: tuple[str, ...] = LAYOUTS, workers: int = 1) -> None:
    labels = ava.read_labels(root / "AVA.txt", root / "aesthetics_image_lists" / "generic_test.jpgl", root / "images")
    write_dataset(labels, out, WriteOptions(image=image, layouts=layouts, workers=workers, progress=False))


def stored_bytes(out: Path) -> int:
    return sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and p.suffix in (".parquet", ".jpg"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=3000, help="number of images")
    parser.add_argument("--size", type=int, nargs=2, default=(640, 480), help="width height (above the 512x512 budget, so the budget resizes)")
    parser.add_argument("--workdir", type=Path, help="folder for the generated release (default: a temporary one)")
    parser.add_argument("--repeats", type=int, default=1, help="measure each case this many times, keep the fastest")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_data_prep_"))
    root = workdir / "AVA_dataset"
    if not root.exists():
        make_release(root, args.n, tuple(args.size))
    source = sum(p.stat().st_size for p in (root / "images").iterdir())
    decode_floor(root)  # warm the page cache and PIL before anything is timed
    results: dict[str, dict] = {}
    for _ in range(args.repeats):
        # Interleaved: floor, then every case, so that load from other jobs hits all of them alike.
        for name, job in {"floor": lambda: decode_floor(root), **{
            case: (lambda spec=spec, case=case: convert(root, workdir / case.replace(" ", "_"), *spec)) for case, spec in CASES.items()
        }}.items():
            if name != "floor":
                shutil.rmtree(workdir / name.replace(" ", "_"), ignore_errors=True)
            cpu, wall = timed(job)
            best = results.get(name)
            if best is None or cpu < best["cpu_s"]:
                results[name] = {"cpu_s": round(cpu, 3), "wall_s": round(wall, 3)}
    floor = results["floor"]["cpu_s"]
    print(f"{args.n} images {args.size[0]}x{args.size[1]}, {source / 2**20:.0f} MB; decode floor {args.n / floor:.0f} img/s (CPU)")
    print(f"{'case':<14}{'CPU s':>8}{'wall s':>8}{'x floor':>9}{'target':>8}{'stored/source':>15}")
    ok = True
    for name, result in results.items():
        ratio = result["cpu_s"] / floor
        result["ratio"] = round(ratio, 3)
        target = TARGETS.get(name)
        stored = stored_bytes(workdir / name.replace(" ", "_")) / source if name != "floor" else None
        result["stored_per_source_byte"] = None if stored is None else round(stored, 3)
        verdict = "" if target is None else ("ok" if ratio <= target else "MISSED")
        ok &= verdict != "MISSED"
        print(f"{name:<14}{result['cpu_s']:>8.2f}{result['wall_s']:>8.2f}{ratio:>8.2f}x{'' if target is None else f'<={target}':>8}"
              f"{'' if stored is None else f'{stored:.2f}':>15} {verdict}")
    print(json.dumps({"n": args.n, "size": list(args.size), "source_mb": round(source / 2**20, 1), "results": results, "targets_met": ok}))
    if args.workdir is None:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
