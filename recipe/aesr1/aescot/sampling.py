"""Balanced, seeded sampling of image-score pairs over the bad/fair/good levels (Appendix E.2).

Reads prepared parquet in the evaluation-table layout (data contract: ``id, dataset, split, score,
raw_score, image``). Only the small columns are read for all rows; images are read later, row group
by row group, for the records actually used. Each level's candidates are put in one seeded order
that does not depend on file or row order, so a bigger request extends a smaller one.
"""

from __future__ import annotations

import glob
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from data_prep.table_images import TableFile
from recipe.aesr1.aescot.levels import LEVELS, level_of

REQUIRED_COLUMNS = ("id", "dataset", "split", "score", "raw_score", "image")


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


TABLE_DIR = "table"
"""Where ``aesr1-prep`` writes the evaluation table of a converted folder (``rl/``, ``sft/`` hold other layouts)."""

EXPECTED_INPUT = (
    "expected a folder converted by aesr1-prep (its table/*.parquet is read), a parquet file in the "
    f"evaluation-table layout (columns {', '.join(REQUIRED_COLUMNS)}), or a glob matching such files"
)


def expand_inputs(inputs: list[str]) -> list[str]:
    """Inputs -> sorted unique parquet files in the evaluation-table layout.

    Each input is a file, a glob, or a folder: a folder converted by ``aesr1-prep`` contributes its
    ``table/`` shards only (never ``rl/`` or ``sft/``); any other folder, every ``*.parquet`` below it.

    Raises:
        FileNotFoundError: an input matches nothing, or a folder holds no parquet (says what was expected).
    """
    files: set[str] = set()
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            root = path / TABLE_DIR if (path / TABLE_DIR).is_dir() else path
            found = {str(p) for p in root.rglob("*.parquet")}
            if not found:
                raise FileNotFoundError(f"sampling.inputs: folder {item!r} holds no parquet file; {EXPECTED_INPUT}")
            files.update(found)
        elif path.is_file():
            files.add(str(path))
        else:
            matched = glob.glob(item, recursive=True)
            if not matched:
                raise FileNotFoundError(f"sampling.inputs: {item!r} matches no file; {EXPECTED_INPUT}")
            files.update(matched)
    if not files:
        raise FileNotFoundError(f"sampling.inputs {inputs!r} hold no parquet file; {EXPECTED_INPUT}")
    return sorted(files)


def read_candidates(files: list[str], split: str, datasets: list[str]) -> list[Candidate]:
    """All rows of ``split`` from ``datasets``; raises on missing columns, bad scores or duplicate ids."""
    candidates: list[Candidate] = []
    seen: dict[str, str] = {}
    for file in files:
        schema = pq.read_schema(file)
        missing = [c for c in REQUIRED_COLUMNS if c not in schema.names]
        if missing:
            raise ValueError(f"{file}: missing column(s) {missing}; {EXPECTED_INPUT}")
        table = pq.read_table(file, columns=["id", "dataset", "split", "score", "raw_score"]).to_pydict()
        for row, (id_, dataset, row_split, score, raw) in enumerate(
            zip(table["id"], table["dataset"], table["split"], table["score"], table["raw_score"])
        ):
            if row_split != split or dataset not in datasets:
                continue
            if score is None or not 0.0 <= score <= 1.0:
                raise ValueError(f"{file}: row {row} (id {id_!r}): column 'score' must lie in [0, 1], got {score!r}")
            record_id = f"{dataset}/{id_}"
            if record_id in seen:
                raise ValueError(f"duplicate record {record_id!r} in {seen[record_id]} and {file} (row {row})")
            seen[record_id] = file
            candidates.append(
                Candidate(record_id, dataset, str(id_), row_split, float(score), float(raw), level_of(score), file, row)
            )
    return candidates


def order_by_level(candidates: list[Candidate], seed: int) -> LevelPools:
    """Sort each level by record id, then apply a seeded permutation (one generator per level)."""
    pools = LevelPools()
    for index, level in enumerate(LEVELS):
        members = sorted((c for c in candidates if c.level == level), key=lambda c: c.record_id)
        permutation = np.random.default_rng([seed, index]).permutation(len(members))
        pools.pools[level] = [members[i] for i in permutation]
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
