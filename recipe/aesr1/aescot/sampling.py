"""Balanced, seeded sampling of image-score pairs over the bad/fair/good levels (Appendix E.2).

Reads prepared parquet in the evaluation-table layout (``data_prep.tables``; AesCoT also needs
``raw_score``). Only the small columns are read for all rows; images are read later, row group
by row group, for the records actually used. Each level's candidates are put in one seeded order
that does not depend on file or row order, so a bigger request extends a smaller one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from data_prep.levels import LEVELS, score_level
from data_prep.table_images import TableFile
from data_prep.tables import (
    REQUIRED_COLUMNS,
    check_columns,
    checked_label,
    find_parquet_files,
)

# The evaluation table's columns and the native score, which AesCoT records keep beside the normalised one.
SAMPLING_COLUMNS = (*REQUIRED_COLUMNS, "raw_score")


@dataclass(frozen=True)
class Candidate:
    """One image-score pair, located by ``file`` and ``row`` (0-based) for reading its image later."""

    record_id: str  # "dataset/id", unique over all inputs
    dataset: str
    id: str
    split: str
    score: float  # normalised, in [0, 1]
    raw_score: float
    level: str
    file: str
    row: int


@dataclass
class LevelPools:
    """Per level, every eligible candidate in its seeded order."""

    pools: dict[str, list[Candidate]] = field(default_factory=dict)

    def available(self) -> dict[str, int]:
        return {level: len(self.pools.get(level, [])) for level in LEVELS}


def expand_inputs(inputs: list[str]) -> list[str]:
    """``sampling.inputs`` -> sorted unique parquet files in the evaluation-table layout (``data_prep.tables``)."""
    return sorted(str(path) for path in find_parquet_files(inputs, what="sampling.inputs"))


def read_candidates(files: list[str], split: str, datasets: list[str]) -> list[Candidate]:
    """All rows of ``split`` from ``datasets``; raises on missing columns, bad scores or duplicate ids."""
    candidates: list[Candidate] = []
    seen: dict[str, str] = {}
    for file in files:
        check_columns(file, required=SAMPLING_COLUMNS)
        table = pq.read_table(file, columns=["id", "dataset", "split", "score", "raw_score"]).to_pydict()
        for row, (id_, dataset, row_split, score, raw) in enumerate(
            zip(table["id"], table["dataset"], table["split"], table["score"], table["raw_score"])
        ):
            if row_split != split or dataset not in datasets:
                continue
            score = checked_label(file, row, id_, score)
            record_id = f"{dataset}/{id_}"
            if record_id in seen:
                raise ValueError(f"duplicate record {record_id!r} in {seen[record_id]} and {file} (row {row})")
            seen[record_id] = file
            candidates.append(
                Candidate(record_id, dataset, str(id_), row_split, score, float(raw), score_level(score), file, row)
            )
    return candidates


def seeded_permutation(candidates: list[Candidate], seed: int, stream: int) -> list[Candidate]:
    """Sort by record id, then apply the permutation of generator ``[seed, stream]`` (one stream per purpose).

    Independent of file and row order. Unlike ``data_prep.splits.seeded_order`` (a sha256 sort of ids),
    the order of a candidate depends on how many there are: it is the order the AesCoT and RED-Aes
    runs already drew, so it stays.
    """
    members = sorted(candidates, key=lambda c: c.record_id)
    return [members[i] for i in np.random.default_rng([seed, stream]).permutation(len(members))]


def order_by_level(candidates: list[Candidate], seed: int) -> LevelPools:
    """Each level's candidates in their ``seeded_permutation`` (stream: the level's index in ``LEVELS``)."""
    pools = LevelPools()
    for index, level in enumerate(LEVELS):
        pools.pools[level] = seeded_permutation([c for c in candidates if c.level == level], seed, index)
    return pools


def round_request(target: dict[str, int], kept: dict[str, int], oversample: float) -> dict[str, int]:
    """How many more candidates each level needs this round: ceil(deficit * oversample), >= deficit."""
    request = {}
    for level in LEVELS:
        deficit = max(0, target.get(level, 0) - kept.get(level, 0))
        request[level] = max(deficit, math.ceil(deficit * oversample)) if deficit else 0
    return request


def read_images(candidates: list[Candidate]) -> dict[str, dict[str, Any]]:
    """``record_id -> {bytes, path}`` for the given candidates, reading only the row groups they lie in."""
    images: dict[str, dict[str, Any]] = {}
    by_file: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_file.setdefault(candidate.file, []).append(candidate)
    for file, members in by_file.items():
        parquet = TableFile(file)  # the images may be stored in the rl shard beside the table
        starts = parquet.starts
        by_group: dict[int, list[Candidate]] = {}
        for candidate in members:
            group = int(np.searchsorted(starts, candidate.row, side="right") - 1)
            by_group.setdefault(group, []).append(candidate)
        for group, group_members in by_group.items():
            column = parquet.read_row_group(group, columns=["image"]).column("image")
            for candidate in group_members:
                images[candidate.record_id] = column[candidate.row - int(starts[group])].as_py()
    return images
