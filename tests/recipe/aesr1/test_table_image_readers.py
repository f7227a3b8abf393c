"""Every reader of the table layout's images gets the same bytes from an ``--embed`` folder (bytes in
the rl shards, issue 15) as from one converted with ``--layout table`` (bytes in the table)."""

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from data_prep.convert import WriteOptions, write_dataset
from data_prep.images import ImageOptions
from data_prep.records import LabelSet, Record
from data_prep.table_images import IMAGE_BYTES_KEY
from data_prep.tables import find_parquet_files, iter_rows
from recipe.aesr1.aescot.sampling import read_candidates, read_images
from recipe.aesr1.red_aes.engine.sources import evaluation_index
from recipe.aesr1.scoring.inputs import list_items, load_shard


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """The same 10 photos converted with --embed twice: both layouts, and the table alone."""
    root = tmp_path_factory.mktemp("readers")
    records = []
    for i in range(10):
        path = root / "src" / f"{i}.jpg"
        path.parent.mkdir(exist_ok=True)
        pixels = np.random.default_rng(i).integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path, quality=90)
        records.append(Record(f"p{i}", "ava", "test" if i % 3 == 0 else "train", 1 + i / 2, i / 9, str(path)))
    out = {}
    for name, layouts in {"both": ("table", "rl"), "alone": ("table",)}.items():
        out[name] = root / name
        options = WriteOptions(image=ImageOptions(embed=True), layouts=layouts, shard_bytes=8_000, progress=False)
        write_dataset(LabelSet("ava", records), out[name], options)
    tables = list((out["both"] / "table").glob("*.parquet"))
    assert len(tables) > 2 and all(IMAGE_BYTES_KEY.encode() in pq.read_schema(p).metadata for p in tables)
    return out


def tables(folder: Path) -> list[str]:
    return [str(p) for p in find_parquet_files([str(folder / "table")])]


def test_evaluation_rows(folders):
    rows = {name: [(r.id, r.label, r.image) for r in iter_rows(tables(f), split=None, with_images=True)] for name, f in folders.items()}
    assert len(rows["both"]) == 10 and all(image["bytes"] for _, _, image in rows["both"])
    assert rows["both"] == rows["alone"]


def test_aescot_sampling_images(folders):
    """Also RED-Aes' source photos: ``engine_sources`` reads them with the same ``read_images``."""
    images = {}
    for name, folder in folders.items():
        candidates = read_candidates(tables(folder), "train", ["ava"])
        images[name] = read_images(candidates)
    assert len(images["both"]) == 6 and all(cell["bytes"] for cell in images["both"].values())
    assert images["both"] == images["alone"]


def test_red_aes_evaluation_index(folders):
    index = {name: evaluation_index(tables(folder)) for name, folder in folders.items()}
    ids, hashes = index["both"]
    assert len(ids) == 10 and hashes
    assert index["both"] == index["alone"]


def test_distributed_scoring_shard(folders):
    shards = {}
    for name, folder in folders.items():
        rows = load_shard(0, list_items([str(folder / "table")]))
        shards[name] = [(r["key"], r["image_status"], r["width"], r["height"], r["pixels"]) for r in rows]
    assert len(shards["both"]) == 10 and all(status == "ok" and pixels for _, status, _, _, pixels in shards["both"])
    assert shards["both"] == shards["alone"]

