"""Cutting a dataset into parquet shards of about a target size, decided before any image is read.

The cut depends only on the inputs (record order, image file sizes), so a rerun after a crash
plans the same shards and can reuse the finished ones. With embedded images a shard's size is
estimated from the image files' sizes (re-encoding changes it a little); with path references
from a fixed per-row estimate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from data_prep.records import SPLITS, Record

DEFAULT_SHARD_BYTES = 256 * 1024 * 1024
PATH_ROW_BYTES = 1024  # one RL row with a path reference and the prompt, roughly, before compression


@dataclass(frozen=True)
class Shard:
    """Records of one split written to ``<split>-<number>-of-<count>.parquet``."""

    split: str
    number: int
    count: int
    records: tuple[Record, ...]

    @property
    def name(self) -> str:
        return f"{self.split}-{self.number:05d}-of-{self.count:05d}.parquet"


def ordered(records: list[Record]) -> list[Record]:
    """Records in output order: by split (train, val, test), then by id."""
    return sorted(records, key=lambda record: (SPLITS.index(record.split), record.id))


def estimated_bytes(record: Record, embed: bool) -> int:
    if not embed:
        return PATH_ROW_BYTES
    try:
        return os.path.getsize(record.image_path)
    except OSError:
        return 0


def plan_shards(records: list[Record], target_bytes: int, embed: bool) -> list[Shard]:
    """Split the (ordered) records of each split greedily into shards of ~``target_bytes``."""
    shards: list[Shard] = []
    for split in SPLITS:
        groups: list[list[Record]] = []
        current: list[Record] = []
        size = 0
        for record in (r for r in records if r.split == split):
            current.append(record)
            size += estimated_bytes(record, embed)
            if size >= target_bytes:
                groups.append(current)
                current, size = [], 0
        if current:
            groups.append(current)
        shards += [Shard(split, number, len(groups), tuple(group)) for number, group in enumerate(groups)]
    return shards
