"""Reproducible parquet shards, written atomically (``data_prep.atomic_files``), and file checksums.

Parquet is written without timestamps, so the same rows give the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from data_prep.atomic_files import write_atomically


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
    table = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(rows, schema=schema)
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **{k.encode(): v.encode() for k, v in metadata.items()}})
    leaves = _leaf_paths(table.schema)
    plain = [name for name in leaves if name not in uncompressed]
    digest = hashlib.sha256()

    def write(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            pq.write_table(
                table, _HashingWriter(handle, digest), row_group_size=max(1, row_group_size),
                compression={name: "zstd" if name in plain else "none" for name in leaves},
                use_dictionary=plain, write_statistics=plain,
            )

    write_atomically(path, write)
    return digest.hexdigest()


class _HashingWriter:
    """A binary file wrapper that feeds every written chunk to sha256 (pyarrow writes through it)."""

    closed = False

    def __init__(self, handle: BinaryIO, digest: hashlib._Hash) -> None:
        self._handle = handle
        self.digest = digest

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


def sha256_file(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks (files may be GBs)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()
