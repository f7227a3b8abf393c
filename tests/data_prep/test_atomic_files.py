"""The one atomic writer: destination first, no half-written file, no temporary left after a failure."""

from __future__ import annotations

import json

import pytest

from data_prep.atomic_files import (
    remove_temporaries,
    write_atomically,
    write_csv_atomic,
    write_json_atomic,
    write_jsonl_atomic,
)


def test_json_is_written_with_nan_as_null_and_keys_sorted_only_when_asked(tmp_path):
    write_json_atomic(tmp_path / "a" / "out.json", {"b": float("nan"), "a": [1.0, float("nan")]})
    text = (tmp_path / "a" / "out.json").read_text()
    assert json.loads(text) == {"b": None, "a": [1.0, None]} and text.index('"b"') < text.index('"a"')
    write_json_atomic(tmp_path / "sorted.json", {"b": 1, "a": 2}, sort_keys=True)
    assert list(json.loads((tmp_path / "sorted.json").read_text())) == ["a", "b"]


def test_jsonl_and_csv(tmp_path):
    write_jsonl_atomic(tmp_path / "r.jsonl", iter([{"b": 1, "a": 2}, {"c": 3}]))
    assert (tmp_path / "r.jsonl").read_text() == '{"a": 2, "b": 1}\n{"c": 3}\n'
    write_csv_atomic(tmp_path / "r.csv", [{"x": 1}, {"y": 2, "x": 3}])
    assert (tmp_path / "r.csv").read_text().splitlines() == ["x,y", "1,", "3,2"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def fail(tmp: str) -> None:
        open(tmp, "w").write("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, fail)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_remove_temporaries_deletes_what_a_killed_run_left(tmp_path):
    (tmp_path / ".shard.parquet.abc123.tmp").write_bytes(b"half")  # the name write_atomically uses
    (tmp_path / "shard.parquet").write_bytes(b"whole")
    remove_temporaries(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["shard.parquet"]
