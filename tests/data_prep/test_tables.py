"""Reading the evaluation tables of the data contract: split filter, clear errors."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_prep.tables import find_parquet_files, iter_rows


def test_split_filter_and_images(tmp_path, helpers):
    rows = [
        {"id": "1", "dataset": "ava", "score": 0.3, "image_bytes": helpers.png_bytes(5)},
        {"id": "2", "dataset": "ava", "split": "train", "score": 0.4, "image_bytes": helpers.png_bytes(6)},
    ]
    helpers.write_table(tmp_path / "a.parquet", rows)
    got = list(iter_rows(find_parquet_files([str(tmp_path)]), "test", with_images=True))
    assert [(r.id, r.dataset, r.label) for r in got] == [("1", "ava", 0.3)]
    assert got[0].image["bytes"] == helpers.png_bytes(5)
    assert len(list(iter_rows([tmp_path / "a.parquet"], None))) == 2


def test_missing_column_is_named(tmp_path):
    pq.write_table(
        pa.table({"id": ["1"], "dataset": ["ava"], "split": ["test"], "score": [0.5]}), tmp_path / "x.parquet"
    )
    with pytest.raises(ValueError, match=r"x.parquet: missing column\(s\) \['image'\]"):
        list(iter_rows([tmp_path / "x.parquet"]))


def test_label_outside_unit_interval_names_row(tmp_path, helpers):
    helpers.write_table(tmp_path / "b.parquet", [{"id": "z", "dataset": "ava", "score": 7.0, "image_bytes": b""}])
    with pytest.raises(ValueError, match=r"row 0 \(id 'z'\)"):
        list(iter_rows([tmp_path / "b.parquet"]))


def test_nothing_found_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        find_parquet_files([str(tmp_path / "nope*.parquet")])


def test_reads_tables_written_by_data_prep(tmp_path, helpers):
    from data_prep.layouts import SCHEMAS, image_cell, table_row
    from data_prep.parquet_io import write_parquet_atomic

    disk = tmp_path / "img.png"
    disk.write_bytes(helpers.png_bytes(9))
    rows = [
        table_row(
            id="7",
            dataset="para",
            split="test",
            score=0.25,
            raw_score=2.0,
            vote_count=None,
            vote_std=0.5,
            width=40,
            height=30,
            image=image_cell(helpers.png_bytes(3), None),
        ),
        table_row(
            id="8",
            dataset="para",
            split="test",
            score=0.75,
            raw_score=4.0,
            vote_count=None,
            vote_std=None,
            width=40,
            height=30,
            image=image_cell(None, str(disk)),
        ),
    ]
    write_parquet_atomic(rows, SCHEMAS["table"], tmp_path / "table" / "test-00000-of-00001.parquet", 64)
    got = list(iter_rows(find_parquet_files([str(tmp_path / "table")]), "test", with_images=True))
    assert [(r.id, r.label) for r in got] == [("7", 0.25), ("8", 0.75)]
    assert got[0].image["bytes"] == helpers.png_bytes(3) and got[1].image["path"] == str(disk)
