"""What to score, as a list of small item descriptors in a fixed order, cut into resumable shards.

An item names one image without holding its pixels, so a million of them fit in the driver:

* ``{"key": "/photos/a.jpg", "path": "/photos/a.jpg"}`` for files, folders (``aesr1-score``'s
  ``collect_inputs``), globs and listings (a ``.txt``/``.lst`` file with one path per line);
* ``{"key": ..., "file": "x.parquet", "row_group": g, "index": i, ...}`` for rows of parquet files
  with an ``image`` column of ``{bytes, path}`` structs (``data_prep``'s tables), keyed by
  ``dataset/id`` when the file has those columns (the seed key of ``aesr1-eval``), else ``file:row``.

Shard ``s`` holds items ``[s * shard_size, (s + 1) * shard_size)``; the same inputs give the same
shards, so a rerun skips every shard already written. ``load_shard`` decodes a shard's images (the
parallel step on Ray) and shrinks them to the one pixel budget.
"""

from __future__ import annotations

import glob
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from data_prep.decode import IMAGE_EXTENSIONS, decode_image, decode_table_image
from data_prep.pixel_budget import DEFAULT_MAX_PIXELS, fit_to_budget
from data_prep.table_images import TableFile
from data_prep.tables import REQUIRED_COLUMNS, find_parquet_files

LISTING_SUFFIXES = (".txt", ".lst")


def collect_inputs(inputs: list[str], recursive: bool = False) -> list[Path]:
    """Files as given (any extension: a wrong one is reported, not hidden), image files in folders, globs."""
    paths: list[Path] = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            found = path.rglob("*") if recursive else path.iterdir()
            paths += sorted(p for p in found if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        elif any(ch in item for ch in "*?["):
            paths += sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
        else:
            paths.append(path)  # a missing file gets its own "missing" row
    return list(dict.fromkeys(paths))


def _listing(path: Path) -> list[Path]:
    """Paths of a listing file, one per line (blank lines and ``#`` comments skipped), relative to it."""
    paths = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            entry = Path(line).expanduser()
            paths.append(entry if entry.is_absolute() else path.parent / entry)
    return paths


def _parquet_items(path: Path, split: str | None, limit: int | None, taken: dict) -> Iterator[dict]:
    """Rows of one parquet file; with ``dataset``/``id`` columns keyed ``dataset/id`` and labelled."""
    handle = pq.ParquetFile(path)
    names = set(handle.schema_arrow.names)
    if "image" not in names:
        raise ValueError(f"{path}: no 'image' column of {{bytes, path}} structs to score")
    table_like = set(REQUIRED_COLUMNS) <= names
    if split is not None and not table_like:
        raise ValueError(f"{path}: --split needs the evaluation-table columns {list(REQUIRED_COLUMNS)}")
    columns = ["id", "dataset", "split", "score"] if table_like else []
    offset = 0
    for group in range(handle.num_row_groups):
        data = handle.read_row_group(group, columns=columns).to_pydict() if columns else {}
        rows = handle.metadata.row_group(group).num_rows
        for index in range(rows):
            item = {"file": str(path), "row_group": group, "index": index, "key": f"{path}:{offset + index}"}
            if table_like:
                if split is not None and data["split"][index] != split:
                    continue
                dataset, label = str(data["dataset"][index]), data["score"][index]
                if label is None or not 0.0 <= label <= 1.0:
                    raise ValueError(f"{path}: row {offset + index}: score {label!r} not in [0, 1]")
                if limit is not None and taken[dataset] >= limit:
                    continue
                taken[dataset] += 1
                item.update(key=f"{dataset}/{data['id'][index]}", dataset=dataset, id=str(data["id"][index]),
                            label=float(label))
            yield item
        offset += rows


def list_items(
    inputs: Sequence[str], recursive: bool = False, split: str | None = None, limit: int | None = None
) -> list[dict]:
    """Items for image files/folders/globs, listings and parquet files, in input order.

    ``split``/``limit`` select rows of evaluation tables (as ``aesr1-eval``); a key seen twice is an
    error naming it, since its results would overwrite each other.
    """
    items: list[dict] = []
    taken: dict[str, int] = defaultdict(int)
    loose: list[str] = []
    for source in inputs:
        path = Path(source).expanduser()
        if path.is_file() and path.suffix.lower() in LISTING_SUFFIXES:
            items += [{"key": str(p), "path": str(p)} for p in _listing(path)]
        elif path.suffix.lower() == ".parquet" or (path.is_dir() and any(path.rglob("*.parquet"))):
            for file in find_parquet_files([source]):
                items += _parquet_items(file, split, limit, taken)
        else:
            loose.append(source)
    items += [{"key": str(p), "path": str(p)} for p in collect_inputs(loose, recursive)] if loose else []
    seen: set[str] = set()
    for item in items:
        if item["key"] in seen:
            raise ValueError(f"{item['key']!r} appears twice in the inputs {list(inputs)}")
        seen.add(item["key"])
    return items


def shard_items(items: Sequence[dict], shard_size: int) -> list[list[dict]]:
    if shard_size < 1:
        raise ValueError(f"shard_size must be positive, got {shard_size}")
    return [list(items[i : i + shard_size]) for i in range(0, len(items), shard_size)]


def items_digest(items: Sequence[dict]) -> str:
    """SHA-256 of the keys in order: a resumed run must cut the same shards."""
    return hashlib.sha256("\n".join(item["key"] for item in items).encode()).hexdigest()


def load_shard(shard: int, items: Sequence[dict], max_pixels: int = DEFAULT_MAX_PIXELS) -> list[dict]:
    """Decode one shard's images: one row per item with raw RGB ``pixels`` (b'' when unusable)."""
    groups: dict[tuple[str, int], list] = {}
    files: dict[str, TableFile] = {}
    for item in items:  # read each needed parquet row group once (its images wherever they are stored)
        if "file" in item and (item["file"], item["row_group"]) not in groups:
            if item["file"] not in files:
                files[item["file"]] = TableFile(item["file"])
            table = files[item["file"]].read_row_group(item["row_group"], ["image"])
            groups[(item["file"], item["row_group"])] = table.column("image").to_pylist()
    rows = []
    for item in items:
        if "file" in item:
            loaded = decode_table_image(groups[(item["file"], item["row_group"])][item["index"]])
        else:
            loaded = decode_image(item["path"])  # files: EXIF orientation applied, as aesr1-score does
        image = fit_to_budget(loaded.image, max_pixels) if loaded.usable else None
        pixels = np.asarray(image).tobytes() if image is not None else b""
        rows.append({
            "shard": shard, "key": item["key"], "item": json.dumps(item), "image_status": loaded.status,
            "image_detail": loaded.detail, "pixels": pixels,
            "width": image.width if image is not None else 0, "height": image.height if image is not None else 0,
        })
    return rows
