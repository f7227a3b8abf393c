"""The source pool D_src of the data engine (red-aes-paper.md Sec. 3.1, Appendix 0.D).

The paper draws its sources from ~500k unlabelled photos (OpenImages, InstaCities1M, in-house) and
evaluates zero-shot on the five benchmarks, so sources here are, first of all, any folder of photos
or any parquet with an ``image`` column; a benchmark's evaluation table (data_prep's layout) is
accepted too, but:

* its test split is refused unless ``sources.allow_benchmark_test=true``;
* a benchmark in the pool is named in ``report.json`` and a warning (results on it are no longer
  zero-shot);
* with ``sources.evaluation`` naming the evaluation tables, a source that is an evaluation image, by
  record id or by image hash (``engine_images.content_hashes``), is dropped (``overlaps_evaluation``)
  or, with ``on_evaluation_overlap=warn``, only counted.
"""

from __future__ import annotations

import glob
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from data_prep.table_images import TableFile
from data_prep.tables import find_parquet_files
from recipe.aesr1.aescot.sampling import (
    SAMPLING_COLUMNS,
    Candidate,
    read_candidates,
    read_images,
)
from recipe.aesr1.red_aes.engine.images import content_hashes

logger = logging.getLogger(__name__)

BENCHMARKS = ("ava", "tad66k", "flickr_aes", "para", "aadb")  # the evaluation benchmarks (DATASETS.md)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
PHOTOS = "photos"  # dataset name of images found in folders
FLAT_HASHES = {f"ahash:{0:064x}", f"ahash:{(1 << 256) - 1:064x}"}  # flat images: no content to match on


@dataclass
class SourcePool:
    """The candidates of the pool and what ``report.json`` records about it."""

    candidates: list[Candidate]
    record: dict[str, Any] = field(default_factory=dict)
    evaluation_ids: set[str] = field(default_factory=set)
    evaluation_hashes: set[str] = field(default_factory=set)

    def overlaps(self, candidate: Candidate, data: bytes) -> str | None:
        """``"id"`` / ``"hash"`` when the source is an evaluation image, else None."""
        if candidate.record_id in self.evaluation_ids:
            return "id"
        if self.evaluation_hashes and set(content_hashes(data)) - FLAT_HASHES & self.evaluation_hashes:
            return "hash"
        return None


def _expand(inputs: list[str], what: str) -> tuple[list[str], list[str]]:
    """``(parquet files, image files)`` below files, folders and globs (sorted, unique).

    Not ``data_prep.tables.find_parquet_files``: a source folder mixes photos and tables of any
    layout, where an evaluation input is tables only.
    """
    tables, images = set(), set()
    for item in inputs:
        path = Path(item)
        matched = [path] if path.exists() else [Path(m) for m in glob.glob(item, recursive=True)]
        if not matched:
            raise FileNotFoundError(f"{what}: {item!r} matches no file")
        for found in matched:
            members = found.rglob("*") if found.is_dir() else [found]
            for member in members:
                suffix = member.suffix.lower()
                if suffix == ".parquet":
                    tables.add(str(member))
                elif suffix in IMAGE_SUFFIXES and member.is_file():
                    images.add(str(member))
    if not tables and not images:
        raise FileNotFoundError(f"{what} {inputs!r} hold no parquet file and no image ({', '.join(IMAGE_SUFFIXES)})")
    return sorted(tables), sorted(images)


def _unlabelled(file: str) -> list[Candidate]:
    """Rows of a parquet of photos: an ``image`` column; ``id`` and ``dataset`` columns are optional."""
    names = pq.read_schema(file).names
    if "image" not in names:
        raise ValueError(f"{file}: no 'image' column; a source table needs one ({{bytes, path}} structs)")
    columns = [c for c in ("id", "dataset") if c in names]
    data = pq.read_table(file, columns=columns).to_pydict() if columns else {}
    rows = pq.ParquetFile(file).metadata.num_rows
    ids = [str(i) for i in data.get("id", range(rows))]
    datasets = data.get("dataset", [Path(file).stem] * rows)
    return [
        Candidate(f"{d}/{i}", d, i, "", math.nan, math.nan, "", file, row)
        for row, (i, d) in enumerate(zip(ids, datasets, strict=True))
    ]


def _photo(file: str, roots: list[Path]) -> Candidate:
    path = Path(file)
    root = next((r for r in roots if r in path.parents), path.parent)
    image_id = path.relative_to(root).as_posix()
    return Candidate(f"{PHOTOS}/{image_id}", PHOTOS, image_id, "", math.nan, math.nan, "", file, -1)


def read_pool_candidates(sources: Any) -> tuple[list[Candidate], dict[str, Any]]:
    """Every candidate source of ``sources`` (engine_config.SourceConfig) and the pool's record.

    Raises:
        ValueError: a benchmark's non-train split without ``allow_benchmark_test``, duplicate record
            ids, ``anchor=table`` with unlabelled sources (naming the file).
        FileNotFoundError: an input that matches nothing.
    """
    tables, image_files = _expand(list(sources.inputs), "sources.inputs")
    labelled = [t for t in tables if set(SAMPLING_COLUMNS) <= set(pq.read_schema(t).names)]
    present = {d for t in labelled for d in pq.read_table(t, columns=["dataset"]).column("dataset").to_pylist()}
    wanted = list(sources.datasets) or sorted(present)  # empty: every dataset of the tables
    if labelled and sources.split != "train" and not sources.allow_benchmark_test:
        raise ValueError(
            f"sources.split={sources.split!r}: drawing sources from a benchmark's {sources.split} split makes every "
            "zero-shot result on it false; set sources.allow_benchmark_test=true to do it anyway"
        )
    candidates = read_candidates(labelled, sources.split, wanted) if labelled else []
    for table in tables:
        if table not in labelled:
            candidates += _unlabelled(table)
    roots = [Path(i) for i in sources.inputs if Path(i).is_dir()]
    candidates += [_photo(f, roots) for f in image_files]
    seen: dict[str, Candidate] = {}
    for candidate in candidates:
        if candidate.record_id in seen:
            raise ValueError(
                f"duplicate source {candidate.record_id!r}: {seen[candidate.record_id].file} and {candidate.file}"
            )
        seen[candidate.record_id] = candidate
    unlabelled = [c for c in candidates if math.isnan(c.score)]
    if sources.anchor == "table" and unlabelled:
        raise ValueError(f"sources.anchor=table needs a score for every source; {unlabelled[0].file} has none")
    per_dataset = Counter(c.dataset for c in candidates)
    benchmarks = {d: n for d, n in sorted(per_dataset.items()) if d in BENCHMARKS}
    if benchmarks:
        logger.warning(
            "sources include benchmark images %s (%s split): results on these benchmarks are not zero-shot; "
            "the paper draws sources from unlabelled photo collections", benchmarks, sources.split,
        )  # fmt: skip
    record = {
        "inputs": list(sources.inputs),
        "split": sources.split,
        "candidates": len(candidates),
        "per_dataset": dict(sorted(per_dataset.items())),
        "unlabelled": len(unlabelled),
        "benchmark_sources": benchmarks,
    }
    return candidates, record


def evaluation_index(files: list[str]) -> tuple[set[str], set[str]]:
    """``(record ids, image hashes)`` of the evaluation tables (every row, every split)."""
    ids: set[str] = set()
    hashes: set[str] = set()
    for file in files:
        names = pq.read_schema(file).names
        if "image" not in names or "id" not in names or "dataset" not in names:
            raise ValueError(f"sources.evaluation: {file} lacks the id/dataset/image columns of an evaluation table")
        parquet = TableFile(file)  # the images may be stored in the rl shard beside the table
        for group in range(parquet.num_row_groups):
            part = parquet.read_row_group(group, ["id", "dataset", "image"]).to_pydict()
            for id_, dataset, cell in zip(part["id"], part["dataset"], part["image"], strict=True):
                ids.add(f"{dataset}/{id_}")
                cell = cell or {}
                data = cell.get("bytes") or (Path(cell["path"]).read_bytes() if cell.get("path") else b"")
                if data:
                    hashes.update(content_hashes(data))
    return ids, hashes - FLAT_HASHES


def read_pool(sources: Any) -> SourcePool:
    """:func:`read_pool_candidates` plus the evaluation index of ``sources.evaluation``."""
    candidates, record = read_pool_candidates(sources)
    pool = SourcePool(candidates, record)
    record["evaluation"] = list(sources.evaluation)
    record["on_evaluation_overlap"] = sources.on_evaluation_overlap
    if sources.evaluation:
        files = find_parquet_files(list(sources.evaluation), what="sources.evaluation")
        pool.evaluation_ids, pool.evaluation_hashes = evaluation_index([str(f) for f in files])
        overlap = sum(c.record_id in pool.evaluation_ids for c in candidates)
        record["id_overlap_candidates"] = overlap
        if overlap:
            logger.warning("%d source candidates are evaluation images by record id (%s)", overlap,
                           sources.on_evaluation_overlap)  # fmt: skip
    else:
        logger.warning("sources.evaluation is empty: no check that sources are not evaluation images")
    return pool


def read_source_cells(candidates: list[Candidate]) -> dict[str, dict[str, Any]]:
    """``record_id -> {bytes, path}`` of parquet rows (row groups read once) and image files (paths)."""
    cells = read_images([c for c in candidates if c.row >= 0])
    cells.update({c.record_id: {"bytes": None, "path": c.file} for c in candidates if c.row < 0})
    return cells

