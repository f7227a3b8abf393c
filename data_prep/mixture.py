"""The Aes-R1 training mixture (Sec. 4.2): 15K images from the AVA, TAD66K and FLICKR-AES train
splits in a 2:2:1 ratio, optionally balanced over the bad / fair / good levels of Appendix E.2.

Input: folders written by the dataset converters (their ``table/train-*.parquet``). Output: the same
layout as a converter (``table/``, ``rl/``, ``manifest.json``; embedded image bytes stored once, in
``rl/``, when both layouts are written), rows grouped by dataset in source order — verl shuffles the
training set (``data.shuffle``), so no shuffle is baked in.

Allocation (``allocate``): the total is split over the levels equally (balanced) or kept as one
level (plain); within a level it is split over the datasets by their ratios (largest remainder);
a dataset short of images in a level gives its remainder to the others in that level in
proportion to their ratios. What a level still lacks is reported as its shortfall, never filled
from another level. Which images: within each (dataset, level) cell, the first ids in the seeded
sha256 order of :mod:`data_prep.splits`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data_prep.atomic_files import write_json_atomic
from data_prep.layouts import LAYOUTS, SCHEMAS
from data_prep.levels import LEVELS, score_level
from data_prep.manifest import CONVERTER_VERSION, source_entry
from data_prep.parquet_io import sha256_file
from data_prep.sharding import DEFAULT_SHARD_BYTES
from data_prep.splits import DEFAULT_SEED, seeded_order
from data_prep.table_images import TableFile, bytes_layout, write_layout_files

DEFAULT_TOTAL = 15_000  # Aes-R1 Sec. 4.2
DEFAULT_RATIOS = {"ava": 2.0, "tad66k": 2.0, "flickr_aes": 1.0}  # Aes-R1 Sec. 4.2: 2:2:1
ALL = "all"


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Integer shares of ``total`` proportional to ``weights`` (largest remainder; ties to the earlier)."""
    weight_sum = sum(weights)
    if total < 0 or weight_sum <= 0 or any(w < 0 for w in weights):
        raise ValueError(f"need total >= 0 and non-negative weights with a positive sum, got {total}, {list(weights)}")
    exact = [total * w / weight_sum for w in weights]
    shares = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def fill(target: int, capacity: Sequence[int], weights: Sequence[float]) -> list[int]:
    """Take ``target`` items from cells of the given capacities, as close to ``weights`` as they allow."""
    take = [0] * len(capacity)
    remaining = target
    open_cells = [i for i in range(len(capacity)) if capacity[i] > 0 and weights[i] > 0]
    while remaining > 0 and open_cells:
        shares = apportion(remaining, [weights[i] for i in open_cells])
        for i, share in zip(open_cells, shares):
            added = min(share, capacity[i] - take[i])
            take[i] += added
            remaining -= added
        open_cells = [i for i in open_cells if take[i] < capacity[i]]
    return take


def allocate(available: dict[str, dict[str, int]], total: int, ratios: dict[str, float], balance: bool) -> dict[str, dict[str, int]]:
    """Images to draw per dataset and level.

    Args:
        available: dataset -> level (``bad``/``fair``/``good``) -> images available.
        total: requested mixture size.
        ratios: dataset -> weight (e.g. 2:2:1).
        balance: split ``total`` equally over the three levels (else one level ``all``).

    Returns:
        dataset -> level -> count (levels ``bad``/``fair``/``good``, or ``all``). The sum is below
        ``total`` only when the images run out (see the module docstring).
    """
    datasets = list(ratios)
    weights = [ratios[d] for d in datasets]
    if not balance:
        capacity = [sum(available[d].values()) for d in datasets]
        return {d: {ALL: n} for d, n in zip(datasets, fill(total, capacity, weights))}
    quotas: dict[str, dict[str, int]] = {d: {} for d in datasets}
    for level, level_target in zip(LEVELS, apportion(total, [1.0] * len(LEVELS))):
        taken = fill(level_target, [available[d].get(level, 0) for d in datasets], weights)
        for d, n in zip(datasets, taken):
            quotas[d][level] = n
    return quotas


def _source_files(folder: Path, split: str) -> list[Path]:
    files = sorted((folder / "table").glob(f"{split}-*.parquet"))
    if not files:
        raise FileNotFoundError(f"no {folder / 'table'}/{split}-*.parquet: convert the dataset with --layout table or both first")
    return files


def _cells(files: list[Path], balance: bool) -> dict[str, list[str]]:
    cells: dict[str, list[str]] = {}
    for path in files:
        table = pq.read_table(path, columns=["id", "score"])
        for id, score in zip(table["id"].to_pylist(), table["score"].to_pylist()):
            cells.setdefault(score_level(score) if balance else ALL, []).append(id)
    return cells


def build_mixture(
    sources: dict[str, Path], out: Path, total: int = DEFAULT_TOTAL, ratios: dict[str, float] | None = None,
    seed: int = DEFAULT_SEED, balance: bool = False, split: str = "train", layouts: tuple[str, ...] = LAYOUTS,
    shard_bytes: int = DEFAULT_SHARD_BYTES,
) -> dict:
    """Draw the mixture from converted datasets and write it (see the module docstring). Returns the manifest."""
    ratios = dict(ratios or DEFAULT_RATIOS)
    if set(ratios) != set(sources):
        raise ValueError(f"ratios name {sorted(ratios)} but sources name {sorted(sources)}")
    check_request(total, ratios)
    out = Path(out).resolve()
    files = {d: _source_files(Path(sources[d]), split) for d in ratios}
    cells = {d: _cells(files[d], balance) for d in ratios}
    available = {d: {cell: len(ids) for cell, ids in cells[d].items()} for d in ratios}
    quotas = allocate(available, total, ratios, balance)
    chosen = {d: {id for cell, n in quotas[d].items() for id in seeded_order(cells[d].get(cell, []), seed, f"mix:{d}:{cell}")[:n]} for d in ratios}
    if not any(chosen.values()):
        raise ValueError(f"nothing to draw: the sources' {split} splits hold no image for the requested mixture (available: {available})")
    stats = _write_rows(files, chosen, out, layouts, shard_bytes)
    requested = {level: n for level, n in zip(LEVELS, apportion(total, [1.0] * 3))} if balance else {ALL: total}
    drawn = {cell: sum(quotas[d].get(cell, 0) for d in ratios) for cell in requested}
    manifest = {
        "dataset": "mixture", "converter_version": CONVERTER_VERSION, "split": split, "seed": seed, "total_requested": total,
        "ratios": ratios, "balance_levels": balance, "level_bins": "bad [0, 0.4), fair [0.4, 0.7), good [0.7, 1] (Aes-R1 App. E.2)",
        "sources": {d: _source_description(Path(sources[d])) for d in ratios},
        "pixel_budget": {d: _source_budget(Path(sources[d])) for d in ratios},
        "available": available, "drawn": quotas, "shortfall": {cell: requested[cell] - drawn[cell] for cell in requested},
        "rows": stats["rows"], "image_bytes_in": stats["image_bytes_in"], "files": stats["files"],
    }
    write_json_atomic(out / "manifest.json", manifest, sort_keys=True)
    return manifest


def check_request(total: int, ratios: dict[str, float]) -> None:
    """Refuse a mixture that cannot mean anything: a total below 1, a weight that is negative or not
    finite, or weights that are all 0 (each gave 0 rows, a dropped dataset or a NaN in the manifest)."""
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        raise ValueError(f"--total must be a whole number of images >= 1, got {total!r}")
    bad = {name: weight for name, weight in ratios.items() if not math.isfinite(weight) or weight < 0}
    if bad:
        raise ValueError(f"--ratios must be finite and >= 0, got {bad}")
    if sum(ratios.values()) <= 0:
        raise ValueError(f"--ratios must have a positive sum, got {ratios}")


def _source_budget(folder: Path) -> int | None | str:
    """The ``max_pixels`` the source was converted with (its manifest), or ``unknown``."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return "unknown"
    return json.loads(manifest.read_text()).get("images", {}).get("max_pixels", "unknown")


def _source_description(folder: Path) -> dict | str:
    """The source's manifest (path + sha256) when it has one, else its folder."""
    manifest = folder / "manifest.json"
    return source_entry(manifest) if manifest.is_file() else os.path.abspath(folder)


def _write_rows(files: dict[str, list[Path]], chosen: dict[str, set[str]], out: Path, layouts: tuple[str, ...], shard_bytes: int) -> dict:
    """Stream the chosen rows shard by shard into new shards of about ``shard_bytes``.

    The sources' images are read wherever they are stored and written as the converter writes them
    (``table_images.write_layout_files``): with both layouts, embedded bytes once, in the rl shard.
    """
    staging = out / ".staging"
    shutil.rmtree(staging, ignore_errors=True)  # what a crashed run left there
    buffer: list[dict] = []
    size, shard_count, index, embedded = 0, 0, 0, False

    def flush() -> None:
        nonlocal buffer, size, shard_count
        rows = [row | {"index": index - len(buffer) + i} for i, row in enumerate(buffer)]
        write_layout_files(staging, f"{shard_count:05d}.parquet", rows, layouts, 64)
        buffer, size, shard_count = [], 0, shard_count + 1

    columns = SCHEMAS["table"].names
    for dataset, paths in files.items():
        wanted = pa.array(sorted(chosen[dataset]), type=pa.string())
        for path in paths:
            source = TableFile(path)
            for group in range(source.num_row_groups):
                mask = pc.is_in(source.read_row_group(group, ["id"]).column("id"), value_set=wanted)
                if not pc.any(mask).as_py():
                    continue
                for row in source.read_row_group(group, columns).filter(mask).to_pylist():
                    image = row["image"] = row["image"] or {"bytes": None, "path": None}
                    buffer.append(row)
                    embedded = embedded or image["bytes"] is not None
                    size += len(image["bytes"] or b"") + 512
                    index += 1
                    if size >= shard_bytes:
                        flush()
    if buffer:
        flush()
    listing: dict[str, list[dict]] = {}
    for layout in LAYOUTS:
        target = out / layout
        target.mkdir(parents=True, exist_ok=True)
        for old in target.glob("*.parquet"):
            old.unlink()
        if layout not in layouts:
            continue
        listing[layout] = []
        for number in range(shard_count):
            # Both layouts' shards get the same new name: a table shard finds its bytes by its own name.
            final = target / f"train-{number:05d}-of-{shard_count:05d}.parquet"
            (staging / layout / f"{number:05d}.parquet").replace(final)
            listing[layout].append({"file": f"{layout}/{final.name}", "rows": pq.ParquetFile(final).metadata.num_rows, "sha256": sha256_file(final)})
    shutil.rmtree(staging, ignore_errors=True)
    return {"rows": index, "files": listing, "image_bytes_in": bytes_layout(layouts, embedded)}


def summary(manifest: dict) -> str:
    """Human-readable lines: drawn per dataset and level, and any shortfall."""
    lines = [f"mixture: {manifest['rows']} rows of {manifest['total_requested']} requested (seed {manifest['seed']})"]
    for dataset, cells in manifest["drawn"].items():
        found = manifest["available"][dataset]
        lines.append(f"  {dataset}: " + ", ".join(f"{cell} {n} drawn / {found.get(cell, 0)} available" for cell, n in cells.items()))
    short = {cell: n for cell, n in manifest["shortfall"].items() if n > 0}
    if short:
        lines.append(f"  SHORT: not enough images for {short}")
    return "\n".join(lines)


def _ratio_list(text: str) -> list[float]:
    try:
        weights = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected three comma-separated numbers such as 2,2,1, got {text!r}") from None
    if len(weights) != 3 or not all(math.isfinite(w) and w >= 0 for w in weights) or sum(weights) <= 0:
        raise argparse.ArgumentTypeError(f"expected three finite weights >= 0 with a positive sum (AVA,TAD66K,FLICKR-AES), got {text!r}")
    return weights


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ava", type=Path, required=True, help="output folder of `aesr1-prep ava`")
    parser.add_argument("--tad66k", type=Path, required=True, help="output folder of `aesr1-prep tad66k`")
    parser.add_argument("--flickr-aes", type=Path, required=True, help="output folder of `aesr1-prep flickr_aes`")
    parser.add_argument("--ratios", type=_ratio_list, default=list(DEFAULT_RATIOS.values()), help="AVA,TAD66K,FLICKR-AES weights (default 2,2,1)")
    parser.add_argument("--total", type=_positive_int, default=DEFAULT_TOTAL, help="mixture size (Aes-R1: 15000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the draw")
    parser.add_argument("--balance-levels", action="store_true", help="equal numbers of bad / fair / good images (App. E.2 bins)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--layout", choices=(*LAYOUTS, "both"), default="both", help="table, rl or both")
    parser.add_argument("--shard-size-mb", type=float, default=DEFAULT_SHARD_BYTES / 2**20, help="target size of one parquet shard")


def run_from_args(args: argparse.Namespace) -> dict:
    if len(args.ratios) != 3:
        raise ValueError(f"--ratios needs three weights (AVA,TAD66K,FLICKR-AES), got {args.ratios}")
    sources = {"ava": args.ava, "tad66k": args.tad66k, "flickr_aes": args.flickr_aes}
    return build_mixture(
        sources, args.out, args.total, dict(zip(sources, args.ratios)), args.seed, args.balance_levels,
        layouts=LAYOUTS if args.layout == "both" else (args.layout,), shard_bytes=int(args.shard_size_mb * 2**20),
    )
