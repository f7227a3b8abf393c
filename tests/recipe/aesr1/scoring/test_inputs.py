"""What a distributed run scores: items from folders, listings and parquet, cut into stable shards (no Ray)."""

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from data_prep.pixel_budget import budget_size
from recipe.aesr1.scoring.inputs import (
    items_digest,
    list_items,
    load_shard,
    shard_items,
)

IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def _png(size=(40, 30), red=50):
    buffer = io.BytesIO()
    Image.new("RGB", size, (red, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_folders_listings_and_parquet_become_keyed_items(tmp_path):
    (tmp_path / "photos").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "photos" / "a.png")
    (tmp_path / "list.txt").write_text("# comment\n\nsub/b.png\n/abs/c.jpg\n")
    pq.write_table(pa.table({"image": pa.array([{"bytes": _png(), "path": None}] * 2, IMAGE)}), tmp_path / "g.parquet")
    items = list_items([str(tmp_path / "photos"), str(tmp_path / "list.txt"), str(tmp_path / "g.parquet")])
    keys = [item["key"] for item in items]
    assert keys == [str(tmp_path / "sub/b.png"), "/abs/c.jpg", f"{tmp_path}/g.parquet:0", f"{tmp_path}/g.parquet:1",
                    str(tmp_path / "photos" / "a.png")]
    assert items[2]["row_group"] == 0 and items[3]["index"] == 1


def test_evaluation_tables_select_the_split_and_limit_and_reject_bad_labels(tmp_path):
    table = pa.table({
        "id": ["1", "2", "3", "4"], "dataset": ["AVA", "AVA", "AVA", "PARA"],
        "split": ["test", "train", "test", "test"],
        "score": [0.1, 0.2, 0.3, 0.4], "image": pa.array([{"bytes": _png(), "path": None}] * 4, IMAGE),
    })
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=3)
    items = list_items([str(tmp_path / "t.parquet")], split="test", limit=1)
    assert [(i["key"], i["label"], i["row_group"], i["index"]) for i in items] == [
        ("AVA/1", 0.1, 0, 0), ("PARA/4", 0.4, 1, 0)]
    pq.write_table(table.set_column(3, "score", pa.array([0.1, 2.0, 0.3, 0.4])), tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match=r"bad.parquet: row 1: score 2.0 not in \[0, 1\]"):
        list_items([str(tmp_path / "bad.parquet")])
    with pytest.raises(ValueError, match="'AVA/1' appears twice"):
        list_items([str(tmp_path / "t.parquet"), str(tmp_path / "t.parquet")])


def test_shards_are_stable_and_decoding_applies_the_pixel_budget(tmp_path):
    big = tmp_path / "big.png"
    Image.new("RGB", (1200, 800), (9, 9, 9)).save(big)
    items = [{"key": str(big), "path": str(big)}, {"key": "gone", "path": str(tmp_path / "gone.png")}]
    assert shard_items(items * 1, 1) == [[items[0]], [items[1]]] and items_digest(items) != items_digest(items[::-1])
    rows = load_shard(4, items, max_pixels=262_144)
    assert (rows[0]["width"], rows[0]["height"]) == budget_size(1200, 800, 262_144)
    assert len(rows[0]["pixels"]) == rows[0]["width"] * rows[0]["height"] * 3
    assert np.frombuffer(rows[0]["pixels"], np.uint8)[0] == 9
    assert (rows[1]["image_status"], rows[1]["pixels"], rows[1]["shard"]) == ("missing", b"", 4)

