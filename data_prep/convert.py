"""Shared writer: a converter's LabelSet -> validated images -> sharded parquet + manifest + report.

Output folder::

    <out>/table/<split>-00000-of-00003.parquet   evaluation table (layout b); with --embed and both
                                                 layouts its images are read from the rl shard of the
                                                 same name (``data_prep.table_images``)
    <out>/rl/<split>-00000-of-00003.parquet      RLHFDataset prompts (layout a), self-contained
    <out>/manifest.json                          sources + checksums, split, normalisation, counts, files
    <out>/report.jsonl                           every label issue and skipped image, with its reason
    <out>/images/<xx>/<digest>.jpg               path mode: prepared copies of the images that needed a
                                                 change (orientation, RGB, pixel budget), written once
    <out>/.shards/<shard>.json                   resume state: one per finished shard

A shard whose images were all skipped gets no parquet file (a 0-row parquet breaks ``datasets`` and
verl); the manifest lists it under ``empty_shards``.

Resume: a shard whose state file records the same fingerprint (its records, their image files'
size and mtime, the options, its index offset) and whose parquet files still have the recorded
sha256 (and whose prepared images still exist) is reused; anything else is redone. Images are
processed in parallel worker processes, which exit when this process dies (even by kill -9).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from tqdm import tqdm

from data_prep.atomic_files import (
    remove_temporaries,
    write_json_atomic,
    write_jsonl_atomic,
)
from data_prep.images import ImageOptions, ImageResult
from data_prep.layouts import LAYOUTS, image_cell, table_row
from data_prep.manifest import CONVERTER_VERSION, build_manifest
from data_prep.parquet_io import sha256_file
from data_prep.pixel_budget import visual_tokens
from data_prep.records import LabelSet, Record
from data_prep.sharding import DEFAULT_SHARD_BYTES, Shard, ordered, plan_shards
from data_prep.table_images import write_layout_files
from data_prep.worker_pool import load, worker_pool

STATE_DIR = ".shards"
PREPARED_DIR = "images"


@dataclass(frozen=True)
class WriteOptions:
    """Options of the shared writer (image options are in ``image``)."""

    image: ImageOptions = field(default_factory=ImageOptions)
    layouts: tuple[str, ...] = LAYOUTS
    workers: int = 1
    shard_bytes: int = DEFAULT_SHARD_BYTES
    progress: bool = True

    def __post_init__(self) -> None:
        unknown = set(self.layouts) - set(LAYOUTS)
        if unknown or not self.layouts:
            raise ValueError(f"layouts must be a non-empty subset of {LAYOUTS}, got {self.layouts}")


def _file_stamp(path: str) -> list:
    try:
        stat = os.stat(path)
        return [stat.st_size, stat.st_mtime_ns]
    except OSError:
        return [None, None]


def shard_fingerprint(shard: Shard, index_offset: int, options: WriteOptions) -> str:
    """sha256 of everything a shard's bytes depend on."""
    payload = {
        "version": CONVERTER_VERSION, "name": shard.name, "index_offset": index_offset, "layouts": list(options.layouts),
        "image": asdict(options.image),
        "records": [[*asdict(record).values(), *_file_stamp(record.image_path)] for record in shard.records],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _reusable_state(out: Path, shard: Shard, fingerprint: str, layouts: tuple[str, ...]) -> dict | None:
    state_path = out / STATE_DIR / f"{shard.name}.json"
    if not state_path.is_file():
        return None
    state = json.loads(state_path.read_text())
    if state.get("fingerprint") != fingerprint:
        return None
    for layout in layouts if state["rows"] else ():
        path = out / layout / shard.name
        if not path.is_file() or sha256_file(path) != state["sha256"].get(layout):
            return None
    if not all((out / name).is_file() for name in state.get("prepared", [])):
        return None
    return state


def prepared_path(out: Path, record: Record) -> str:
    """Where path mode writes the prepared copy of ``record``'s image (stable across runs)."""
    digest = hashlib.sha256(f"{record.dataset}\0{record.id}".encode()).hexdigest()[:24]
    return str(out / PREPARED_DIR / digest[:2] / f"{digest}.jpg")


def _skip_entry(record: Record, result: ImageResult) -> dict:
    return {"stage": "image", "id": record.id, "split": record.split, "reason": result.reason, "detail": result.detail, "file": record.image_path}


def _row_group_size(options: WriteOptions) -> int:
    # Embedded images make rows ~100 KB-1 MB: keep row groups to a few tens of MB for readers.
    return 64 if options.image.embed else 4096


def write_shard(out: Path, shard: Shard, results: list[ImageResult], index_offset: int, fingerprint: str, options: WriteOptions) -> dict:
    """Write one shard's parquet files, then its state file (the commit point). Returns the state."""
    rows, skipped, modes, changes, prepared = [], [], Counter(), Counter(), []
    for record, result in zip(shard.records, results, strict=True):
        modes[result.source_mode or "unknown"] += 1
        if not result.ok:
            skipped.append(_skip_entry(record, result))
            continue
        changes.update(result.changes or ("none",))
        if result.stored_path is not None:
            prepared.append(str(Path(result.stored_path).relative_to(out)))
        row = table_row(
            id=record.id, dataset=record.dataset, split=record.split, score=record.score, raw_score=record.raw_score,
            vote_count=record.vote_count, vote_std=record.vote_std, width=result.width, height=result.height,
            image=image_cell(result.data, result.stored_path or record.image_path),
        )
        rows.append(row | {"index": index_offset + len(rows)})
    if rows:
        digests = write_layout_files(out, shard.name, rows, options.layouts, _row_group_size(options))
    else:
        digests = {}
        for layout in options.layouts:
            (out / layout / shard.name).unlink(missing_ok=True)  # a 0-row parquet breaks datasets' reader: write none
    state = {
        "name": shard.name, "split": shard.split, "fingerprint": fingerprint, "rows": len(rows),
        "index_offset": index_offset, "sha256": digests, "skipped": skipped, "source_modes": dict(sorted(modes.items())),
        "changes": dict(sorted(changes.items())), "prepared": prepared, "stored_size": _size_ranges(rows),
    }
    write_json_atomic(out / STATE_DIR / f"{shard.name}.json", state, sort_keys=True)
    return state


def _size_ranges(rows: list[dict]) -> dict[str, list[int]]:
    """[min, max] of the stored width, height, pixels and Qwen2-VL visual tokens of a shard's images."""
    if not rows:
        return {}
    values = {
        "width": [row["width"] for row in rows], "height": [row["height"] for row in rows],
        "pixels": [row["width"] * row["height"] for row in rows],
    }
    within = [row for row in rows if max(row["width"], row["height"]) <= 200 * min(row["width"], row["height"])]
    if within:
        values["visual_tokens"] = [visual_tokens(row["width"], row["height"]) for row in within]
    return {key: [min(v), max(v)] for key, v in values.items()}


def _image_results(executor: Executor | None, out: Path, shard: Shard, options: WriteOptions) -> Iterator[ImageResult]:
    """Image results in record order: in this process, or submitted at once to the worker pool."""
    paths = [record.image_path for record in shard.records]
    prepared = [None if options.image.embed else prepared_path(out, record) for record in shard.records]
    job = partial(load, options.image)
    if executor is None:
        return map(job, paths, prepared)
    return executor.map(job, paths, prepared, chunksize=max(1, min(64, len(paths) // (4 * options.workers))))


def _remove_stale(out: Path, shards: list[Shard], layouts: tuple[str, ...]) -> None:
    """Delete shards of an earlier plan (other names) so the folder holds exactly this run's files."""
    names = {shard.name for shard in shards}
    for layout in LAYOUTS:
        folder = out / layout
        remove_temporaries(folder)
        if folder.is_dir():
            for path in folder.glob("*.parquet"):
                if path.name not in names or layout not in layouts:
                    path.unlink()
    for folder in (out / PREPARED_DIR).glob("*"):
        remove_temporaries(folder)
    state_folder = out / STATE_DIR
    remove_temporaries(state_folder)
    if state_folder.is_dir():
        for path in state_folder.glob("*.json"):
            if path.name.removesuffix(".json") not in names:
                path.unlink()


def _remove_unreferenced_images(out: Path, states: list[dict]) -> None:
    """Delete prepared images no shard of this run refers to (other options or records of an earlier run)."""
    keep = {name for state in states for name in state.get("prepared", [])}
    for path in (out / PREPARED_DIR).glob("*/*.jpg"):
        if str(path.relative_to(out)) not in keep:
            path.unlink()


def check_unique_ids(labels: LabelSet) -> None:
    seen: set[str] = set()
    for record in labels.records:
        if record.id in seen:
            raise ValueError(f"{labels.dataset}: id {record.id!r} appears twice among the records; the converter must report duplicates as issues")
        seen.add(record.id)


def write_dataset(labels: LabelSet, out: Path | str, options: WriteOptions, *, on_shard_written: Callable[[dict], None] | None = None) -> dict:
    """Validate every image of ``labels``, write the parquet shards, the report and the manifest.

    Args:
        labels: a converter's output.
        out: output folder (created; earlier shards in it are reused when their fingerprint matches).
        options: layouts, image options, worker processes, shard size.
        on_shard_written: called with each freshly written shard's state (tests use it to simulate a crash).

    Returns:
        The manifest (also written to ``<out>/manifest.json``).
    """
    check_unique_ids(labels)
    out = Path(out).resolve()
    records = ordered(labels.records)
    shards = plan_shards(records, options.shard_bytes, options.image.embed)
    _remove_stale(out, shards, options.layouts)
    states: list[dict] = []
    offsets: Counter = Counter()
    prefetched: dict[str, Iterator[ImageResult]] = {}
    executor = worker_pool(options.workers) if options.workers > 1 else None
    try:
        with tqdm(total=len(records), desc=f"{labels.dataset} images", unit="img", disable=not options.progress) as bar:
            for position, shard in enumerate(shards):
                fingerprint = shard_fingerprint(shard, offsets[shard.split], options)
                state = _reusable_state(out, shard, fingerprint, options.layouts)
                if state is None:
                    results = []
                    for result in prefetched.pop(shard.name, None) or _image_results(executor, out, shard, options):
                        results.append(result)
                        bar.update(1)
                    # Keep the workers busy while this process writes: start the next shard's images now
                    # when that shard has no state (so it cannot be reused and will be processed anyway).
                    following = shards[position + 1] if position + 1 < len(shards) else None
                    if executor is not None and following is not None and not (out / STATE_DIR / f"{following.name}.json").exists():
                        prefetched[following.name] = _image_results(executor, out, following, options)
                    state = write_shard(out, shard, results, offsets[shard.split], fingerprint, options)
                    if on_shard_written is not None:
                        on_shard_written(state)
                else:
                    bar.update(len(shard.records))
                offsets[shard.split] += state["rows"]
                states.append(state)
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    _remove_unreferenced_images(out, states)
    label_issues = sorted((issue.as_dict() for issue in labels.issues), key=lambda item: (item["id"], item["reason"]))
    image_skips = [item for state in states for item in state["skipped"]]
    write_jsonl_atomic(out / "report.jsonl", label_issues + image_skips)
    manifest = build_manifest(
        dataset=labels.dataset, source_files=labels.source_files, split_definition=labels.split_definition,
        normalisation=labels.normalisation, image_options=options.image, layouts=options.layouts,
        shard_states=states, label_issues=label_issues, listed=Counter(record.split for record in records),
    )
    write_json_atomic(out / "manifest.json", manifest, sort_keys=True)
    return manifest
