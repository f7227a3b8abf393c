"""The source pool: unlabelled photos (what the paper uses), benchmark train splits only, evaluation overlap."""

import io
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image
from red_aes_fakes import write_sources

from recipe.aesr1.red_aes.engine.images import content_hashes
from recipe.aesr1.red_aes.engine.sources import (
    read_pool,
    read_pool_candidates,
    read_source_cells,
)


def photo(seed: int, size=(64, 48), fmt="JPEG") -> bytes:
    """A non-flat picture (random blocks), so its average hash carries content."""
    blocks = np.random.default_rng(seed).integers(0, 255, (6, 8, 3), dtype=np.uint8)
    image = Image.fromarray(blocks).resize(size, Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def sources(**overrides):
    base = {
        "inputs": [],
        "split": "train",
        "datasets": [],
        "allow_benchmark_test": False,
        "evaluation": [],
        "on_evaluation_overlap": "drop",
        "anchor": "experts",
    }
    return SimpleNamespace(**{**base, **overrides})


def test_folders_and_image_tables_of_unlabelled_photos(tmp_path):
    (tmp_path / "photos" / "city").mkdir(parents=True)
    (tmp_path / "photos" / "city" / "a.jpg").write_bytes(photo(0))
    (tmp_path / "photos" / "b.png").write_bytes(photo(1, fmt="PNG"))
    (tmp_path / "photos" / "notes.txt").write_text("not an image")
    pq.write_table(pa.table({"image": [{"bytes": photo(2), "path": None}]}), tmp_path / "openimages.parquet")
    candidates, record = read_pool_candidates(
        sources(inputs=[str(tmp_path / "photos"), str(tmp_path / "openimages.parquet")])
    )
    assert sorted(c.record_id for c in candidates) == ["openimages/0", "photos/b.png", "photos/city/a.jpg"]
    assert record["unlabelled"] == 3 and record["benchmark_sources"] == {}
    cells = read_source_cells(candidates)
    assert cells["photos/city/a.jpg"]["path"].endswith("a.jpg") and cells["openimages/0"]["bytes"] == photo(2)
    with pytest.raises(ValueError, match="sources.anchor=table needs a score"):
        read_pool_candidates(sources(inputs=[str(tmp_path / "photos")], anchor="table"))


def test_a_benchmark_test_split_is_refused_unless_allowed(tmp_path):
    write_sources(tmp_path / "ava_test.parquet", {"t1": 0.3}, split="test")
    with pytest.raises(ValueError, match="sources.split='test'.*zero-shot"):
        read_pool_candidates(sources(inputs=[str(tmp_path / "ava_test.parquet")], split="test"))
    candidates, record = read_pool_candidates(
        sources(inputs=[str(tmp_path / "ava_test.parquet")], split="test", allow_benchmark_test=True)
    )
    assert [c.record_id for c in candidates] == ["ava/t1"] and record["benchmark_sources"] == {"ava": 1}


def test_benchmark_train_sources_are_named_in_the_record(tmp_path, caplog):
    write_sources(tmp_path / "ava.parquet", {"a1": 0.3, "a2": 0.4})
    _, record = read_pool_candidates(sources(inputs=[str(tmp_path / "ava.parquet")]))
    assert record["benchmark_sources"] == {"ava": 2}
    assert "not zero-shot" in caplog.text


def test_evaluation_overlap_by_id_and_by_image_hash(tmp_path):
    write_sources(tmp_path / "ava_train.parquet", {"a1": 0.3})
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "same.jpg").write_bytes(photo(5, size=(640, 480)))  # the evaluation image, larger
    (tmp_path / "photos" / "other.jpg").write_bytes(photo(6))
    (tmp_path / "photos" / "flat.png").write_bytes(_png_flat(30))  # another flat grey: same average hash
    evaluation = tmp_path / "eval.parquet"
    pq.write_table(
        pa.table(
            {
                "id": ["a1", "e7", "flat"],
                "dataset": ["ava", "para", "para"],
                "image": [{"bytes": photo(9), "path": None}, {"bytes": photo(5), "path": None},
                          {"bytes": _png_flat(), "path": None}],  # fmt: skip
            }
        ),
        evaluation,
    )
    pool = read_pool(sources(inputs=[str(tmp_path / "ava_train.parquet"), str(tmp_path / "photos")],
                             datasets=["ava"], evaluation=[str(evaluation)]))  # fmt: skip
    cells = read_source_cells(pool.candidates)
    found = {}
    for c in pool.candidates:
        cell = cells[c.record_id]
        data = cell["bytes"] or open(cell["path"], "rb").read()
        found[c.record_id] = pool.overlaps(c, data)
    # a1 by record id; same.jpg is photo 5 at another size (average hash); flat images never match
    assert found == {"ava/a1": "id", "photos/same.jpg": "hash", "photos/other.jpg": None, "photos/flat.png": None}
    assert pool.record["id_overlap_candidates"] == 1
    assert content_hashes(photo(5))[0] != content_hashes(photo(5, size=(640, 480)))[0]  # bytes differ


def _png_flat(level: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (level,) * 3).save(buffer, format="PNG")
    return buffer.getvalue()
