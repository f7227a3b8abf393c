"""Atomic, reproducible file writes: parquet shards, JSON, JSON lines, and checksums.

A file is written next to its destination under a temporary name and renamed over it, so a
crash leaves either the old complete file or none — never half a file with the final name.
Parquet is written without timestamps, so the same rows give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

TMP_SUFFIX = ".tmp"


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")


def _replace(tmp: Path, path: Path) -> None:
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_parquet_atomic(
    rows: list[dict] | pa.Table, schema: pa.Schema, path: Path, row_group_size: int, uncompressed: Sequence[str] = (),
    metadata: Mapping[str, str] | None = None,
) -> str:
    """Write ``rows`` (dicts matching ``schema``, or a table of it) to ``path`` atomically; returns its sha256.

    zstd-compressed, except the column paths in ``uncompressed`` (image bytes, which do not compress):
    those are also written without dictionary and min/max statistics, which cost CPU on every
    100 KB value and help no reader. ``metadata`` is added to the file's schema metadata. The file
    is streamed to disk and hashed on the way, not built in memory first nor read back.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    table = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(rows, schema=schema)
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **{k.encode(): v.encode() for k, v in metadata.items()}})
    leaves = _leaf_paths(table.schema)
    plain = [name for name in leaves if name not in uncompressed]
    with open(tmp, "wb") as handle:
        sink = _HashingWriter(handle)
        pq.write_table(
            table, sink, row_group_size=max(1, row_group_size),
            compression={name: "zstd" if name in plain else "none" for name in leaves},
            use_dictionary=plain, write_statistics=plain,
        )
    _replace(tmp, path)
    return sink.digest.hexdigest()


class _HashingWriter:
    """A binary file wrapper that feeds every written chunk to sha256 (pyarrow writes through it)."""

    closed = False

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self._handle.write(data)

    def tell(self) -> int:
        return self._handle.tell()

    def flush(self) -> None:
        self._handle.flush()

    def close(self) -> None:  # pyarrow closes its sink; the file itself is closed by our ``with``
        self.closed = True


def _leaf_paths(schema: pa.Schema) -> list[str]:
    """Parquet column paths (``images.list.element.bytes``) of every leaf of ``schema``."""
    def walk(prefix: str, kind: pa.DataType) -> list[str]:
        if pa.types.is_struct(kind):
            return [leaf for field in kind for leaf in walk(f"{prefix}.{field.name}", field.type)]
        if pa.types.is_list(kind) or pa.types.is_large_list(kind):
            return walk(f"{prefix}.list.element", kind.value_type)
        return [prefix]

    return [leaf for field in schema for leaf in walk(field.name, field.type)]


def write_json_atomic(data: object, path: Path) -> None:
    """Write ``data`` as indented, key-sorted JSON atomically."""
    write_text_atomic(json.dumps(data, indent=2, sort_keys=True) + "\n", path)


def write_jsonl_atomic(items: Iterable[dict], path: Path) -> None:
    """Write one key-sorted JSON object per line atomically."""
    write_text_atomic("".join(json.dumps(item, sort_keys=True) + "\n" for item in items), path)


def write_text_atomic(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    tmp.write_text(text, encoding="utf-8")
    _replace(tmp, path)


def sha256_file(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks (files may be GBs)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def remove_temporaries(folder: Path) -> None:
    """Delete temporary files a crashed run left in ``folder``."""
    if folder.is_dir():
        for leftover in folder.glob(f".*{TMP_SUFFIX}"):
            leftover.unlink()
