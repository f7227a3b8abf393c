"""Reading benchmark rows from the evaluation tables written by ``data_prep``.

Layout (the project's data contract): parquet shards with columns ``id`` (str), ``dataset`` (str),
``split`` (train/val/test), ``score`` (float64 in [0, 1]), ``raw_score``, ``image`` (struct
``{bytes, path}``, read by ``data_prep.table_images`` from the rl shard beside the table when the
table's metadata says its bytes are there); unknown columns are ignored. Rows are read in batches so
that image bytes of a large benchmark (AVA's ~20K test images) never sit in memory at once.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from data_prep.table_images import TableFile

REQUIRED_COLUMNS = ("id", "dataset", "split", "score", "image")
TABLE_DIR = "table"  # where ``aesr1-prep`` writes a converted folder's evaluation table (``rl/``, ``sft/`` hold other layouts)
EXPECTED_INPUT = (
    "expected a folder converted by aesr1-prep (its table/*.parquet is read), a parquet file in the "
    "evaluation-table layout, or a glob matching such files"
)


@dataclass(frozen=True)
class BenchmarkRow:
    id: str
    dataset: str
    label: float
    image: dict | None = None  # the {bytes, path} cell; None in the index pass
    file: str = ""  # the parquet file the row came from


def find_parquet_files(sources: Sequence[str], what: str = "inputs") -> list[Path]:
    """Files, folders and glob patterns -> parquet files in the evaluation-table layout, in input order, unique.

    A folder converted by ``aesr1-prep`` contributes its ``table/`` shards only (never ``rl/`` or
    ``sft/``); any other folder every ``*.parquet`` below it (sorted). ``what`` names the inputs (a
    config key or CLI flag) in the errors.

    Raises:
        FileNotFoundError: an input matches nothing, or a folder holds no parquet (says what was expected).
    """
    files: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            root = path / TABLE_DIR if (path / TABLE_DIR).is_dir() else path
            found = sorted(root.rglob("*.parquet"))
            if not found:
                raise FileNotFoundError(f"{what}: folder {source!r} holds no parquet file; {EXPECTED_INPUT}")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            matches = sorted(Path(m) for m in glob.glob(source, recursive=True))
            if not matches:
                raise FileNotFoundError(f"{what}: {source!r} matches no file; {EXPECTED_INPUT}")
            files += matches
    if not files:
        raise FileNotFoundError(f"{what} {list(sources)!r} hold no parquet file; {EXPECTED_INPUT}")
    return list(dict.fromkeys(files))


def check_columns(path: str | Path, required: Sequence[str] = REQUIRED_COLUMNS) -> None:
    """Raise ValueError naming ``path`` when it lacks one of ``required`` (a reader's extra needs added)."""
    names = set(pq.read_schema(path).names)
    missing = [c for c in required if c not in names]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing} of {list(required)}; {EXPECTED_INPUT}")


def checked_label(path: str | Path, row: int, id: object, score: float | None) -> float:
    """A row's ``score``, which must be finite in [0, 1]; ValueError naming file, 0-based row and id."""
    if score is None or not 0.0 <= score <= 1.0:
        raise ValueError(f"{path}: row {row} (id {id!r}): score {score!r} not in [0, 1]")
    return float(score)


def iter_rows(
    files: Sequence[Path], split: str | None = "test", with_images: bool = False, batch_size: int = 64
) -> Iterator[BenchmarkRow]:
    """Rows of the given split (None: every split), in file order; labels must be finite in [0, 1]."""
    columns = ["id", "dataset", "split", "score"] + (["image"] if with_images else [])
    for path in files:
        check_columns(path)
        offset = 0
        for batch in TableFile(path).iter_batches(columns, batch_size):
            data = batch.to_pydict()
            for i in range(batch.num_rows):
                if split is not None and data["split"][i] != split:
                    continue
                label = checked_label(path, offset + i, data["id"][i], data["score"][i])
                image = data["image"][i] if with_images else None
                yield BenchmarkRow(str(data["id"][i]), str(data["dataset"][i]), label, image, str(path))
            offset += batch.num_rows
