"""Image bytes stored once: the shared shard writer of both layouts, and the one reader of the table's images.

With embedded images and both layouts, every image's bytes go into the rl shard only (verl reads that
file through ``datasets`` and needs it self-contained). The table shard of the same name keeps
``image = {bytes: null, path: null}`` on every row, and its parquet schema metadata says where the
bytes are: ``aesr1.image_bytes = "rl"``, the layout folder beside the table's own folder that holds
the shard of the same file name (relative, so a moved output folder still reads; one folder name, so
the mixture can rename its shards after writing them). The two shards have the same rows in the same
order. A table written alone (``--layout table``), an rl shard, and paths mode are self-contained as
before. Issue 15: two copies made 566 MB of parquet for 283 MB of JPEGs.

Every reader of a table's ``image`` column goes through :class:`TableFile`, which returns the
``{bytes, path}`` structs from wherever they are stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data_prep.layouts import IMAGE_BYTES_COLUMNS, SCHEMAS, arrow_table
from data_prep.parquet_io import write_parquet_atomic

IMAGE_BYTES_KEY = "aesr1.image_bytes"
"""Schema-metadata key of a table shard whose image bytes live in another layout's shard of the same name."""

BYTES_LAYOUT = "rl"  # verl reads the rl layout as it is: that copy must keep the bytes
IMAGE_COLUMN = "image"
EMPTY_CELL = {"bytes": None, "path": None}  # a table row's image when its bytes are in the rl shard


def bytes_layout(layouts: Sequence[str], embed: bool) -> str | None:
    """Which layout folder holds the image bytes (the manifest's ``bytes_in``); None in paths mode."""
    if not embed:
        return None
    return BYTES_LAYOUT if BYTES_LAYOUT in layouts else "table"


def write_layout_files(out: Path, name: str, rows: list[dict], layouts: Sequence[str], row_group_size: int) -> dict[str, str]:
    """Write ``rows`` (``layouts.table_row`` dicts with an ``index``) to ``<out>/<layout>/<name>`` per layout.

    When both layouts are written and any row embeds bytes, the bytes are written once, into the rl
    shard (written first); the table shard's images are then null and it names the rl folder under
    :data:`IMAGE_BYTES_KEY`. Both files get the same rows in the same order and the same row groups.

    Returns:
        layout -> sha256 of the file written.
    """
    embedded = any(row[IMAGE_COLUMN]["bytes"] is not None for row in rows)
    once = embedded and BYTES_LAYOUT in layouts and "table" in layouts
    digests = {}
    for layout in sorted(layouts, key=lambda layout: layout != BYTES_LAYOUT):
        if layout == "table" and once:
            table = arrow_table(layout, [row | {IMAGE_COLUMN: EMPTY_CELL} for row in rows])  # no copy of the bytes built
            metadata, uncompressed = {IMAGE_BYTES_KEY: BYTES_LAYOUT}, []
        else:
            table = arrow_table(layout, rows)
            metadata, uncompressed = None, [IMAGE_BYTES_COLUMNS[layout]] if embedded else []
        digests[layout] = write_parquet_atomic(table, SCHEMAS[layout], out / layout / name, row_group_size, uncompressed, metadata)
    return digests


class TableFile:
    """One parquet file of the table layout (or any parquet with an ``image`` column), read by row group.

    ``read_row_group``/``iter_batches``/``read`` return the requested columns; the ``image`` column
    holds the ``{bytes, path}`` structs wherever they are stored (the file itself, or the rl shard
    its metadata names, whose rows are checked to be the same ids in the same order).

    Raises:
        FileNotFoundError: the file names an rl shard that is not there.
        ValueError: that rl shard holds other rows (count or ids) or no ``images`` column.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.parquet = pq.ParquetFile(self.path)
        self.images_path = images_source(self.path, self.parquet.schema_arrow.metadata)
        self._images: pq.ParquetFile | None = None
        if self.images_path is not None:
            self._images = _open_images(self.path, self.images_path, self.parquet.metadata.num_rows)
            self._image_starts = _starts(self._images)
        self.starts = _starts(self.parquet)
        """First row of each row group, then the row count (what ``np.searchsorted`` needs to find a row's group)."""

    @property
    def num_row_groups(self) -> int:
        return self.parquet.num_row_groups

    def read_row_group(self, group: int, columns: Sequence[str]) -> pa.Table:
        """Columns of one row group; ``image`` resolved."""
        if self._images is None or IMAGE_COLUMN not in columns:
            return self.parquet.read_row_group(group, columns=list(columns))
        own = [c for c in columns if c != IMAGE_COLUMN]
        table = self.parquet.read_row_group(group, columns=list(dict.fromkeys([*own, "id"])))
        images = self._images_of(int(self.starts[group]), table.num_rows, table.column("id"))
        arrays = {name: table.column(name) for name in own} | {IMAGE_COLUMN: images}
        return pa.table({name: arrays[name] for name in columns})

    def iter_batches(self, columns: Sequence[str], batch_size: int = 64) -> Iterator[pa.Table]:
        """The file in batches of ``batch_size`` rows, or by row group when its images are read from the rl shard."""
        if self._images is None or IMAGE_COLUMN not in columns:
            for batch in self.parquet.iter_batches(batch_size=batch_size, columns=list(columns)):
                yield pa.Table.from_batches([batch])
            return
        for group in range(self.num_row_groups):
            yield self.read_row_group(group, columns)

    def read(self, columns: Sequence[str]) -> pa.Table:
        """The whole file (small files, or columns without images)."""
        parts = [self.read_row_group(group, columns) for group in range(self.num_row_groups)]
        return pa.concat_tables(parts) if parts else self.parquet.schema_arrow.empty_table().select(list(columns))

    def _images_of(self, start: int, rows: int, ids: pa.ChunkedArray) -> pa.ChunkedArray:
        """The rl shard's one image per row for table rows ``[start, start + rows)``, ids checked."""
        first = int(np.searchsorted(self._image_starts, start, side="right") - 1)
        last = int(np.searchsorted(self._image_starts, start + rows - 1, side="right") - 1) if rows else first
        parts = [self._images.read_row_group(g, columns=["images", "extra_info"]) for g in range(first, last + 1)]
        part = pa.concat_tables(parts).slice(start - int(self._image_starts[first]), rows)
        lists = part.column("images")
        bad = pc.index(pc.fill_null(pc.equal(pc.list_value_length(lists), 1), False), False).as_py()
        if bad >= 0:
            raise ValueError(f"{self.images_path}: row {start + bad} must hold exactly one image (the table {self.path} keeps its images there)")
        rl_ids = pc.struct_field(part.column("extra_info"), "id")
        row = pc.index(pc.fill_null(pc.equal(rl_ids, ids), False), False).as_py()
        if row >= 0:
            raise ValueError(
                f"{self.path} row {start + row} (id {ids[row].as_py()!r}) keeps its image in {self.images_path}, whose row "
                f"{start + row} is id {rl_ids[row].as_py()!r}: the two are not the same shard; convert again"
            )
        return pc.list_flatten(lists)


def images_source(path: Path, metadata: Mapping[bytes, bytes] | None) -> Path | None:
    """The rl shard that holds ``path``'s image bytes (from its schema metadata), or None: they are in ``path``."""
    folder = (metadata or {}).get(IMAGE_BYTES_KEY.encode())
    return None if folder is None else path.parent.parent / folder.decode() / path.name


def _open_images(table: Path, images: Path, rows: int) -> pq.ParquetFile:
    if not images.is_file():
        raise FileNotFoundError(f"{table} keeps its images in {images}, which is missing: convert again or copy the rl folder too")
    handle = pq.ParquetFile(images)
    if "images" not in handle.schema_arrow.names or "extra_info" not in handle.schema_arrow.names:
        raise ValueError(f"{table} keeps its images in {images}, which has no 'images'/'extra_info' columns of the rl layout")
    if handle.metadata.num_rows != rows:
        raise ValueError(
            f"{table} has {rows} rows but {images}, which holds its images, has {handle.metadata.num_rows}: "
            "they are not the same shard; convert again"
        )
    return handle


def _starts(parquet: pq.ParquetFile) -> np.ndarray:
    """First row of each row group, and the row count at the end."""
    return np.cumsum([0] + [parquet.metadata.row_group(g).num_rows for g in range(parquet.num_row_groups)])
