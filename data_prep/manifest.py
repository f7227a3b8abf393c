"""The manifest written next to the parquet: what was read, how it was split, what was written.

It holds no timestamps, so the same inputs give the same manifest byte for byte.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from data_prep.images import ImageOptions
from data_prep.parquet_io import sha256_file
from data_prep.pixel_budget import PATCH_FACTOR
from data_prep.table_images import bytes_layout

CONVERTER_VERSION = "0.3.0"  # bump when the output of a converter changes for the same inputs
# 0.3.0 (issue 15): prepared images by shrink_pixels and libjpeg-turbo; with --embed and both layouts the
# image bytes are stored once, in the rl shard. Shards of 0.2.0 are redone, not mixed in.


def source_entry(path: Path) -> dict:
    """A source file's absolute path (as given, symlinks not followed), size and sha256."""
    path = Path(os.path.abspath(path))
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": sha256_file(path)}


def build_manifest(
    *, dataset: str, source_files: list[Path], split_definition: dict, normalisation: dict,
    image_options: ImageOptions, layouts: tuple[str, ...], shard_states: list[dict], label_issues: list[dict],
    listed: Counter,
) -> dict:
    """Assemble the manifest from the finished shards' states (see ``convert.write_dataset``)."""
    written: Counter = Counter()
    skipped: Counter = Counter()
    reasons: Counter = Counter(issue["reason"] for issue in label_issues)
    modes: Counter = Counter()
    changes: Counter = Counter()
    sizes: dict[str, list[int]] = {}
    for state in shard_states:
        changes.update(state.get("changes", {}))
        for key, (low, high) in state.get("stored_size", {}).items():
            old_low, old_high = sizes.get(key, (low, high))
            sizes[key] = [min(old_low, low), max(old_high, high)]
        written[state["split"]] += state["rows"]
        skipped[state["split"]] += len(state["skipped"])
        reasons.update(item["reason"] for item in state["skipped"])
        modes.update(state["source_modes"])
    splits = sorted(listed)
    return {
        "dataset": dataset,
        "converter_version": CONVERTER_VERSION,
        "sources": [source_entry(path) for path in source_files],
        "split_definition": split_definition,
        "normalisation": normalisation,
        "images": {
            **asdict(image_options),
            "budget": _budget(image_options),
            "bytes_in": bytes_layout(layouts, image_options.embed),
            "source_modes": dict(sorted(modes.items())),
            "changes": dict(sorted(changes.items())),
            "stored": {key: {"min": low, "max": high} for key, (low, high) in sorted(sizes.items())},
        },
        "counts": {
            split: {"listed": listed[split], "written": written[split], "skipped_images": skipped[split]} for split in splits
        },
        "label_issues": len(label_issues),
        "skipped_by_reason": dict(sorted(reasons.items())),
        "files": {
            layout: [
                {"file": f"{layout}/{state['name']}", "rows": state["rows"], "sha256": state["sha256"][layout]}
                for state in shard_states if state["rows"]
            ]
            for layout in layouts
        },
        "empty_shards": [state["name"] for state in shard_states if not state["rows"]],
        "report": "report.jsonl",
    }


def _budget(options: ImageOptions) -> dict:
    """How the pixel budget was applied (``data_prep.pixel_budget``), for the manifest."""
    if options.max_pixels is None:
        return {"max_pixels": None, "rule": "off: images stored at their own size"}
    return {
        "max_pixels": options.max_pixels,
        "max_visual_tokens": options.max_pixels // PATCH_FACTOR**2,
        "rule": "data_prep.pixel_budget.budget_size: the Qwen2-VL processor's resize of the stored image stays within max_pixels",
        "applies_to": "every mode: embedded bytes, or path references to the original (already within budget) or a prepared copy",
    }
