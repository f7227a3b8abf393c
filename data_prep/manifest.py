"""The manifest written next to the parquet: what was read, how it was split, what was written.

It holds no timestamps, so the same inputs give the same manifest byte for byte.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from pathlib import Path

from data_prep.images import ImageOptions
from data_prep.parquet_io import sha256_file

CONVERTER_VERSION = "0.1.0"  # bump when the output of a converter changes for the same inputs


def source_entry(path: Path) -> dict:
    """A source file's absolute path, size and sha256."""
    path = Path(path).resolve()
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
    for state in shard_states:
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
        "images": {**asdict(image_options), "source_modes": dict(sorted(modes.items()))},
        "counts": {
            split: {"listed": listed[split], "written": written[split], "skipped_images": skipped[split]} for split in splits
        },
        "label_issues": len(label_issues),
        "skipped_by_reason": dict(sorted(reasons.items())),
        "files": {
            layout: [
                {"file": f"{layout}/{state['name']}", "rows": state["rows"], "sha256": state["sha256"][layout]}
                for state in shard_states
            ]
            for layout in layouts
        },
        "report": "report.jsonl",
    }
