"""Balanced seeded sampling from prepared parquet, Table 6 sizes, shortfalls and bad input."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from aescot_fakes import draw_image, write_table

from recipe.aesr1.aescot.levels import (
    AESCOT_SIZES,
    balanced_sizes,
    target_sizes,
)
from recipe.aesr1.aescot.sampling import (
    expand_inputs,
    order_by_level,
    read_candidates,
    read_images,
    round_request,
)


def rows(n: int, prefix: str = "x") -> list[dict]:
    return [{"id": f"{prefix}{i:03d}", "score": (i % 20) / 20} for i in range(n)]


def test_table6_sizes():
    assert sum(AESCOT_SIZES["aescot-3k"].values()) == 3000
    assert AESCOT_SIZES["aescot-10k"] == {"bad": 2928, "fair": 3312, "good": 3660}  # 9900 in all
    assert target_sizes("aescot-10k", None) == AESCOT_SIZES["aescot-10k"]
    assert balanced_sizes(10) == {"bad": 4, "fair": 3, "good": 3}
    with pytest.raises(ValueError, match="exactly one"):
        target_sizes("aescot-3k", 100)
    with pytest.raises(ValueError, match="valid"):
        target_sizes("aescot-5k", None)


def test_order_is_seeded_and_independent_of_shard_layout(tmp_path):
    table = rows(60)
    write_table(tmp_path / "one.parquet", table)
    (tmp_path / "split").mkdir()
    write_table(tmp_path / "split" / "b.parquet", table[30:])
    write_table(tmp_path / "split" / "a.parquet", table[:30])
    one = order_by_level(read_candidates([str(tmp_path / "one.parquet")], "train", ["ava"]), seed=3)
    two = order_by_level(read_candidates(expand_inputs([str(tmp_path / "split")]), "train", ["ava"]), seed=3)
    other_seed = order_by_level(read_candidates([str(tmp_path / "one.parquet")], "train", ["ava"]), seed=4)
    ids = lambda pools: {level: [c.record_id for c in pool] for level, pool in pools.pools.items()}  # noqa: E731
    assert ids(one) == ids(two)
    assert ids(one) != ids(other_seed)
    assert one.available() == {"bad": 24, "fair": 18, "good": 18}  # scores 0, 0.05, .., 0.95, three times each
    assert all(c.level == level for level, pool in one.pools.items() for c in pool)


def test_round_request_tops_up_the_deficit_with_oversampling():
    target = {"bad": 10, "fair": 10, "good": 10}
    assert round_request(target, {"bad": 0, "fair": 0, "good": 0}, 1.25) == {"bad": 13, "fair": 13, "good": 13}
    assert round_request(target, {"bad": 10, "fair": 7, "good": 12}, 1.25) == {"bad": 0, "fair": 4, "good": 0}


def test_split_and_dataset_filters(tmp_path):
    write_table(tmp_path / "t.parquet", [
        {"id": "a", "score": 0.5}, {"id": "b", "score": 0.5, "split": "test"},
        {"id": "c", "score": 0.5, "dataset": "para"}, {"id": "d", "score": 0.5, "dataset": "tad66k"}])
    found = read_candidates([str(tmp_path / "t.parquet")], "train", ["ava", "tad66k"])
    assert [c.record_id for c in found] == ["ava/a", "tad66k/d"]


def test_missing_column_names_the_file(tmp_path):
    pq.write_table(pa.table({"id": ["a"], "score": [0.5]}), tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match=r"bad.parquet: missing column\(s\) \['dataset', 'split'"):
        read_candidates([str(tmp_path / "bad.parquet")], "train", ["ava"])


def test_score_out_of_range_names_file_row_and_id(tmp_path):
    write_table(tmp_path / "t.parquet", [{"id": "a", "score": 0.5}, {"id": "b", "score": 7.0}])
    with pytest.raises(ValueError, match=r"t.parquet: row 1 \(id 'b'\)"):
        read_candidates([str(tmp_path / "t.parquet")], "train", ["ava"])


def test_duplicate_ids_across_shards_raise(tmp_path):
    write_table(tmp_path / "a.parquet", [{"id": "a", "score": 0.5}])
    write_table(tmp_path / "b.parquet", [{"id": "a", "score": 0.6}])
    with pytest.raises(ValueError, match="duplicate record 'ava/a'"):
        read_candidates(expand_inputs([str(tmp_path)]), "train", ["ava"])


def test_missing_input_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="matches no file"):
        expand_inputs([str(tmp_path / "nothing-*.parquet")])


def test_images_are_read_from_the_right_row_groups_and_from_paths(tmp_path):
    image_file = tmp_path / "blue.png"
    image_file.write_bytes(draw_image("blue"))
    table = [{"id": f"r{i}", "score": 0.5, "color": ["red", "green"][i % 2]} for i in range(7)]
    table.append({"id": "p", "score": 0.5, "bytes": None, "path": str(image_file)})
    write_table(tmp_path / "t.parquet", table)
    # Rewrite with small row groups so that rows live in different groups.
    pq.write_table(pq.read_table(tmp_path / "t.parquet"), tmp_path / "t.parquet", row_group_size=3)
    found = read_candidates([str(tmp_path / "t.parquet")], "train", ["ava"])
    images = read_images([c for c in found if c.id in ("r1", "r4", "r6", "p")])
    assert images["ava/r1"]["bytes"] == draw_image("green")
    assert images["ava/r4"]["bytes"] == draw_image("red")
    assert images["ava/r6"]["bytes"] == draw_image("red")
    assert images["ava/p"] == {"bytes": None, "path": str(image_file)}


def test_reads_the_table_layout_that_data_prep_writes(tmp_path):
    # The contract check: rows built by data_prep's own layout code (Hugging Face image metadata,
    # extra columns vote_count/vote_std/width/height).
    from data_prep.layouts import SCHEMAS, image_cell, table_row

    table = [table_row(id=f"i{i}", dataset="tad66k", split="train", score=i / 10, raw_score=i, vote_count=None,
                       vote_std=None, width=48, height=48, image=image_cell(draw_image("blue"), None))
             for i in range(10)]
    pq.write_table(pa.Table.from_pylist(table, schema=SCHEMAS["table"]), tmp_path / "t.parquet")
    found = read_candidates([str(tmp_path / "t.parquet")], "train", ["tad66k"])
    assert [c.level for c in found] == ["bad"] * 4 + ["fair"] * 3 + ["good"] * 3
    assert read_images(found[:1]) == {"tad66k/i0": {"bytes": draw_image("blue"), "path": None}}
