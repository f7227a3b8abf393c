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


@dataclass(frozen=True)
class BenchmarkRow:
    id: str
    dataset: str
    label: float
    image: dict | None = None  # the {bytes, path} cell; None in the index pass
    file: str = ""  # the parquet file the row came from


def find_parquet_files(sources: Sequence[str]) -> list[Path]:
    """Expand files, folders (all ``*.parquet`` below) and glob patterns; none found is an error."""
    files: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            files += sorted(path.rglob("*.parquet"))
        elif path.is_file():
            files.append(path)
        else:
            matches = sorted(Path(m) for m in glob.glob(source, recursive=True))
            if not matches:
                raise FileNotFoundError(f"no parquet file, folder or glob match for {source!r}")
            files += matches
    if not files:
        raise FileNotFoundError(f"no parquet files under {list(sources)}")
    return list(dict.fromkeys(files))


def _check_columns(path: Path) -> None:
    names = set(pq.ParquetFile(path).schema_arrow.names)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; the evaluation table needs {list(REQUIRED_COLUMNS)}")


def iter_rows(
    files: Sequence[Path], split: str | None = "test", with_images: bool = False, batch_size: int = 64
) -> Iterator[BenchmarkRow]:
    """Rows of the given split (None: every split), in file order; labels must be finite in [0, 1]."""
    columns = ["id", "dataset", "split", "score"] + (["image"] if with_images else [])
    for path in files:
        _check_columns(path)
        offset = 0
        for batch in TableFile(path).iter_batches(columns, batch_size):
            data = batch.to_pydict()
            for i in range(batch.num_rows):
                if split is not None and data["split"][i] != split:
                    continue
                label = data["score"][i]
                if label is None or not 0.0 <= label <= 1.0:
                    raise ValueError(f"{path}: row {offset + i} (id {data['id'][i]!r}): score {label!r} not in [0, 1]")
                image = data["image"][i] if with_images else None
                yield BenchmarkRow(str(data["id"][i]), str(data["dataset"][i]), float(label), image, str(path))
            offset += batch.num_rows
