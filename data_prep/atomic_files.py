"""Whole-file writes that never leave a half-written file behind: a temporary file beside the
target, fsync, then a rename over it, so readers see the old file or the new one.

The project's one atomic writer: ``data_prep``'s shards, manifests and prepared images, and every
pipeline of the recipe (AesCoT, evaluation, RED-Aes, curation, reward bench). Every function takes
the destination first.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

TMP_SUFFIX = ".tmp"  # temporaries are ``.{name}.<random>.tmp`` beside their target


def write_atomically(path: str | Path, write: Callable[[str], None]) -> None:
    """Call ``write(temp_path)`` (e.g. ``pq.write_table(table, temp_path)``), fsync, rename to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    write_atomically(path, lambda tmp: Path(tmp).write_bytes(data))


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | Path, obj: object, sort_keys: bool = False) -> None:
    """Indented JSON with NaN written as null (strict JSON readers reject NaN).

    ``sort_keys=True`` for files whose bytes must not depend on how the dict was built (manifests).
    """
    write_text_atomic(path, json.dumps(_nan_to_none(obj), indent=2, sort_keys=sort_keys) + "\n")


def write_jsonl_atomic(path: str | Path, items: Iterable[dict]) -> None:
    """One key-sorted JSON object per line."""
    write_text_atomic(path, "".join(json.dumps(item, sort_keys=True) + "\n" for item in items))


def write_csv_atomic(path: str | Path, rows: list[dict]) -> None:
    """CSV with the union of the rows' keys as header, in first-seen order."""
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())


def remove_temporaries(folder: Path) -> None:
    """Delete the temporary files a killed run left in ``folder`` (a failed write removes its own)."""
    if folder.is_dir():
        for leftover in folder.glob(f".*{TMP_SUFFIX}"):
            leftover.unlink()


def _nan_to_none(obj):
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_nan_to_none(v) for v in obj]
    return obj
