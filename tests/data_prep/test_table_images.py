"""Image bytes stored once (issue 15): an ``--embed`` table keeps its images in the rl shard beside it."""

import hashlib
import io
import json
from dataclasses import asdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from data_prep.convert import (
    STATE_DIR,
    WriteOptions,
    _file_stamp,
    shard_fingerprint,
    write_dataset,
)
from data_prep.images import ImageOptions
from data_prep.layouts import SCHEMAS
from data_prep.mixture import build_mixture
from data_prep.parquet_io import write_parquet_atomic
from data_prep.records import LabelSet, Record
from data_prep.sharding import ordered, plan_shards
from data_prep.table_images import IMAGE_BYTES_KEY, TableFile

BYTES_COLUMNS = ("image.bytes", "images.list.element.bytes")


def stored_image_bytes(where: Path) -> int:
    """Size of every image-bytes column chunk in the parquet file ``where`` or the files under it (as written)."""
    total = 0
    for path in where.rglob("*.parquet") if where.is_dir() else [where]:
        meta = pq.ParquetFile(path).metadata
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            total += sum(group.column(c).total_compressed_size for c in range(group.num_columns) if group.column(c).path_in_schema in BYTES_COLUMNS)
    return total


def table_images(folder: Path) -> dict[str, dict]:
    """id -> ``{bytes, path}`` of every table row, through the resolver."""
    cells = {}
    for path in sorted((folder / "table").glob("*.parquet")):
        data = TableFile(path).read(["id", "image"]).to_pydict()
        cells.update(zip(data["id"], data["image"]))
    return cells


def keeps_bytes_in_rl(folder: Path) -> bool:
    """Every table shard of ``folder`` names its rl shard as the place of its image bytes."""
    tables = list((folder / "table").glob("*.parquet"))
    return bool(tables) and all(pq.read_schema(p).metadata.get(IMAGE_BYTES_KEY.encode()) == b"rl" for p in tables)


@pytest.fixture
def labels(tmp_path: Path, draw) -> LabelSet:
    """16 noise JPEGs of ~20 KB (they do not compress), 12 train and 4 test."""
    paths = [draw.image(tmp_path / "src" / f"{i:02d}.jpg", seed=i, size=(192, 144)) for i in range(16)]
    records = [Record(f"{i:02d}", "ava", "test" if i >= 12 else "train", 1 + i / 2, i / 15, str(path)) for i, path in enumerate(paths)]
    return LabelSet("ava", records, source_files=[], split_definition={}, normalisation={})


def convert(labels: LabelSet, out: Path, layouts=("table", "rl"), embed=True, shard_bytes=120_000) -> dict:
    return write_dataset(labels, out, WriteOptions(image=ImageOptions(embed=embed), layouts=layouts, shard_bytes=shard_bytes, progress=False))


def test_embed_with_both_layouts_stores_each_image_once(labels: LabelSet, tmp_path: Path):
    source = sum(Path(r.image_path).stat().st_size for r in labels.records)
    manifest = convert(labels, tmp_path / "out")
    # Two copies until now: 2.0x the JPEGs (issue 15: 566 MB of parquet for 283 MB).
    assert stored_image_bytes(tmp_path / "out") == pytest.approx(source, rel=0.02)
    assert stored_image_bytes(tmp_path / "out" / "table") < 0.01 * source  # a column of nulls
    parquet = list((tmp_path / "out").rglob("*.parquet"))
    footers = sum(pq.read_metadata(p).serialized_size for p in parquet)  # ~3-7 KB a file: schema, statistics
    assert sum(p.stat().st_size for p in parquet) - footers < 1.05 * source
    assert manifest["images"]["bytes_in"] == "rl"
    for entry in manifest["files"]["table"]:
        table = pq.ParquetFile(tmp_path / "out" / entry["file"])
        assert table.schema_arrow.metadata[IMAGE_BYTES_KEY.encode()] == b"rl"
        assert table.read(columns=["image"]).column("image").to_pylist() == [{"bytes": None, "path": None}] * entry["rows"]


@pytest.mark.parametrize(("layouts", "embed", "bytes_in"), [(("table",), True, "table"), (("rl",), True, "rl"), (("table", "rl"), False, None)])
def test_a_table_alone_an_rl_alone_and_paths_mode_are_self_contained(labels: LabelSet, tmp_path: Path, layouts, embed, bytes_in):
    manifest = convert(labels, tmp_path / "out", layouts, embed)
    assert manifest["images"]["bytes_in"] == bytes_in
    for path in (tmp_path / "out").rglob("*.parquet"):
        assert IMAGE_BYTES_KEY.encode() not in (pq.read_schema(path).metadata or {})
    if "table" in layouts:
        cells = pq.read_table(tmp_path / "out" / "table", columns=["image"]).column("image").to_pylist()
        assert all((cell["bytes"] is not None) == embed for cell in cells)


def test_the_table_reads_the_same_images_as_a_table_written_alone(labels: LabelSet, tmp_path: Path):
    convert(labels, tmp_path / "both")
    convert(labels, tmp_path / "alone", layouts=("table",))
    assert keeps_bytes_in_rl(tmp_path / "both")
    both, alone = table_images(tmp_path / "both"), table_images(tmp_path / "alone")
    assert len(both) == 16 and both == alone and all(cell["bytes"] for cell in both.values())
    columns = SCHEMAS["table"].names
    rows = lambda folder: [TableFile(p).read(columns).to_pylist() for p in sorted((folder / "table").glob("*.parquet"))]
    assert rows(tmp_path / "both") == rows(tmp_path / "alone")  # every column, row by row, file by file


def test_a_moved_output_folder_still_reads(labels: LabelSet, tmp_path: Path):
    convert(labels, tmp_path / "out")
    expected = table_images(tmp_path / "out")
    assert keeps_bytes_in_rl(tmp_path / "out")
    (tmp_path / "out").rename(tmp_path / "elsewhere")
    assert table_images(tmp_path / "elsewhere") == expected


def test_rl_shards_still_load_in_datasets_as_pil_images(labels: LabelSet, tmp_path: Path):
    """verl's RLHFDataset reads the rl files through ``datasets.load_dataset("parquet")``."""
    import datasets
    from PIL import Image

    convert(labels, tmp_path / "out")
    rows = datasets.load_dataset("parquet", data_files=sorted(str(p) for p in (tmp_path / "out" / "rl").glob("*.parquet")), split="train")
    cells = table_images(tmp_path / "out")
    for row in rows:
        image = row["images"][0]
        assert isinstance(image, Image.Image) and image.size == (192, 144)
        assert image.tobytes() == Image.open(io.BytesIO(cells[row["extra_info"]["id"]]["bytes"])).tobytes()


def test_a_missing_rl_folder_is_a_clear_error(labels: LabelSet, tmp_path: Path):
    convert(labels, tmp_path / "out")
    table = sorted((tmp_path / "out" / "table").glob("*.parquet"))[0]
    for path in (tmp_path / "out" / "rl").glob("*.parquet"):
        path.unlink()
    message = rf"{table} keeps its images in .*rl/{table.name}, which is missing: convert again or copy the rl folder too"
    with pytest.raises(FileNotFoundError, match=message):
        TableFile(table)


def test_an_rl_shard_of_other_rows_is_a_clear_error(labels: LabelSet, tmp_path: Path):
    convert(labels, tmp_path / "out")
    rl_file = sorted((tmp_path / "out" / "rl").glob("train-*.parquet"))[0]
    table = tmp_path / "out" / "table" / rl_file.name
    rl = pq.read_table(rl_file)
    pq.write_table(rl.take(list(range(rl.num_rows))[::-1]), rl_file)  # the same rows, reversed
    with pytest.raises(ValueError, match=rf"{table} row 0 \(id '00'\) keeps its image in {rl_file}, whose row 0 is id '\d+'"):
        TableFile(table).read(["image"])
    pq.write_table(rl.slice(0, rl.num_rows - 1), rl_file)  # one row short
    with pytest.raises(ValueError, match=rf"{table} has {rl.num_rows} rows but {rl_file}, which holds its images, has {rl.num_rows - 1}"):
        TableFile(table)


def test_rl_row_groups_need_not_match_the_tables(labels: LabelSet, tmp_path: Path):
    convert(labels, tmp_path / "out", shard_bytes=10**9)  # one train shard of 12 rows
    expected = table_images(tmp_path / "out")
    rl = tmp_path / "out" / "rl" / "train-00000-of-00001.parquet"
    pq.write_table(pq.read_table(rl), rl, row_group_size=5)
    table = tmp_path / "out" / "table" / rl.name
    pq.write_table(pq.read_table(table), table, row_group_size=3)  # keeps the schema metadata
    assert TableFile(table).num_row_groups == 4 and keeps_bytes_in_rl(tmp_path / "out")
    assert table_images(tmp_path / "out") == expected


def test_a_two_copies_shard_of_an_earlier_version_is_redone(labels: LabelSet, tmp_path: Path):
    """A resumed run must not keep an old output whose table holds a second copy of the bytes."""
    out = tmp_path / "out"
    options = WriteOptions(image=ImageOptions(embed=True), shard_bytes=120_000, progress=False)
    write_dataset(labels, out, options)
    shard = plan_shards(ordered(labels.records), options.shard_bytes, True)[0]
    # What the 0.2.0 writer left: a table with its own bytes, and a fingerprint of version 0.2.0.
    table = out / "table" / shard.name
    columns = SCHEMAS["table"].names
    two_copies = TableFile(table).read(columns).cast(SCHEMAS["table"])
    state_path = out / STATE_DIR / f"{shard.name}.json"
    state = json.loads(state_path.read_text())
    state["sha256"]["table"] = write_parquet_atomic(two_copies, SCHEMAS["table"], table, 64, ["image.bytes"])
    old_payload = {
        "version": "0.2.0", "name": shard.name, "index_offset": 0, "layouts": list(options.layouts), "image": asdict(options.image),
        "records": [[*asdict(r).values(), *_file_stamp(r.image_path)] for r in shard.records],
    }
    state["fingerprint"] = hashlib.sha256(json.dumps(old_payload, sort_keys=True).encode()).hexdigest()
    assert state["fingerprint"] != shard_fingerprint(shard, 0, options)
    state_path.write_text(json.dumps(state))
    assert stored_image_bytes(table) == pytest.approx(stored_image_bytes(out / "rl" / shard.name), rel=0.01)  # two copies
    write_dataset(labels, out, options)
    assert stored_image_bytes(table) < 0.01 * stored_image_bytes(out / "rl" / shard.name)
    assert IMAGE_BYTES_KEY.encode() in pq.read_schema(table).metadata


def test_a_mixture_of_embed_both_sources_stores_bytes_once_and_reads(labels: LabelSet, tmp_path: Path):
    sources, alone = {}, {}
    for n, dataset in enumerate(("ava", "tad66k", "flickr_aes")):
        relabelled = LabelSet(dataset, [Record(r.id, dataset, r.split, r.raw_score, r.score, r.image_path) for r in labels.records[n::3]])
        sources[dataset] = tmp_path / dataset
        alone[dataset] = tmp_path / f"{dataset}-alone"
        convert(relabelled, sources[dataset])
        convert(relabelled, alone[dataset], layouts=("table",))
    manifest = build_mixture(sources, tmp_path / "mix", total=8, shard_bytes=60_000)
    reference = build_mixture(alone, tmp_path / "mix-alone", total=8, shard_bytes=60_000)
    assert manifest["image_bytes_in"] == reference["image_bytes_in"] == "rl" and manifest["rows"] == 8
    assert len(manifest["files"]["table"]) > 1  # the shards were renamed after writing: each still finds its rl shard
    drawn = table_images(tmp_path / "mix")
    assert drawn == table_images(tmp_path / "mix-alone") and all(cell["bytes"] for cell in drawn.values())
    once = sum(len(cell["bytes"]) for cell in drawn.values())
    assert stored_image_bytes(tmp_path / "mix") == pytest.approx(once, rel=0.02)
    assert stored_image_bytes(tmp_path / "mix" / "table") < 0.01 * once
    table_only = build_mixture(sources, tmp_path / "mix-table", total=8, layouts=("table",))
    assert table_only["image_bytes_in"] == "table" and table_images(tmp_path / "mix-table") == drawn
    assert stored_image_bytes(tmp_path / "mix-table") == pytest.approx(once, rel=0.02)
    assert not (tmp_path / "mix" / ".staging").exists()
