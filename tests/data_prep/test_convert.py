"""The shared writer: sharding, resume after a crash, byte-for-byte reproducibility, parallelism."""

import json
from pathlib import Path

import pytest

from data_prep.convert import WriteOptions, write_dataset
from data_prep.images import ImageOptions
from data_prep.records import LabelSet, Record


def folder_bytes(out: Path) -> dict[str, bytes]:
    """Every output file (not the resume state) -> its bytes."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and ".shards" not in p.parts}


@pytest.fixture
def labels(tmp_path: Path, draw) -> LabelSet:
    """24 images (20 train, 4 test) of ~1 KB each, one missing."""
    records = []
    for i in range(24):
        path = tmp_path / "images" / f"{i:03d}.jpg"
        if i != 5:
            draw.image(path, seed=i, mode="L" if i % 7 == 0 else "RGB")
        raw = 1 + 9 * i / 23
        records.append(Record(f"{i:03d}", "ava", "test" if i >= 20 else "train", raw, (raw - 1) / 9, str(path), vote_count=i + 1, vote_std=0.5))
    return LabelSet("ava", records, source_files=[], split_definition={"kind": "test"}, normalisation={"method": "minmax"})


def options(**changes) -> WriteOptions:
    settings = {"image": ImageOptions(embed=True), "shard_bytes": 4000, "progress": False} | changes
    return WriteOptions(**settings)


def test_shards_follow_the_size_target(labels: LabelSet, tmp_path: Path):
    manifest = write_dataset(labels, tmp_path / "out", options())
    files = manifest["files"]["table"]
    assert len(files) > 3
    assert all(entry["file"].startswith(("table/train-", "table/test-")) for entry in files)
    assert sum(entry["rows"] for entry in files) == 23
    assert [entry["file"] for entry in files][:2] == ["table/train-00000-of-00005.parquet", "table/train-00001-of-00005.parquet"]


def test_rerun_reuses_every_shard_and_changes_nothing(labels: LabelSet, tmp_path: Path):
    out = tmp_path / "out"
    write_dataset(labels, out, options())
    before = folder_bytes(out)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")}
    write_dataset(labels, out, options())
    assert folder_bytes(out) == before
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")} == stamps  # not rewritten


@pytest.mark.parametrize("workers", [1, 2])  # 2: the next shard's images are already in flight at the crash
def test_resume_after_crash_gives_identical_output(labels: LabelSet, tmp_path: Path, workers: int):
    reference = tmp_path / "reference"
    write_dataset(labels, reference, options())

    class Crash(RuntimeError):
        pass

    written = []

    def crash_after_two(state: dict) -> None:
        written.append(state["name"])
        if len(written) == 2:
            raise Crash

    out = tmp_path / "out"
    with pytest.raises(Crash):
        write_dataset(labels, out, options(workers=workers), on_shard_written=crash_after_two)
    (out / "table" / ".leftover.parquet.123.tmp").write_bytes(b"half a file")  # what a kill mid-write leaves
    assert not (out / "manifest.json").exists()
    finished = {p: p.stat().st_mtime_ns for p in (out / "table").glob("*.parquet")}
    assert len(finished) == 2

    redone = []
    write_dataset(labels, out, options(workers=workers), on_shard_written=lambda state: redone.append(state["name"]))
    assert folder_bytes(out) == folder_bytes(reference)
    assert not set(redone) & set(written)  # the two finished shards were reused
    assert all(p.stat().st_mtime_ns == stamp for p, stamp in finished.items())


def test_changed_shard_file_is_redone(labels: LabelSet, tmp_path: Path):
    out = tmp_path / "out"
    write_dataset(labels, out, options())
    reference = folder_bytes(out)
    victim = sorted((out / "rl").glob("*.parquet"))[1]
    victim.write_bytes(b"corrupted by a disk error")
    redone = []
    write_dataset(labels, out, options(), on_shard_written=lambda state: redone.append(state["name"]))
    assert redone == [victim.name] and folder_bytes(out) == reference


def test_two_workers_write_the_same_bytes_as_one(labels: LabelSet, tmp_path: Path):
    write_dataset(labels, tmp_path / "one", options(workers=1))
    write_dataset(labels, tmp_path / "two", options(workers=2))
    assert folder_bytes(tmp_path / "one") == folder_bytes(tmp_path / "two")


def test_other_plan_replaces_stale_shards(labels: LabelSet, tmp_path: Path):
    out = tmp_path / "out"
    write_dataset(labels, out, options())
    manifest = write_dataset(labels, out, options(shard_bytes=10**9, layouts=("table",)))
    assert sorted(p.name for p in out.rglob("*.parquet")) == ["test-00000-of-00001.parquet", "train-00000-of-00001.parquet"]
    assert list(manifest["files"]) == ["table"]
    assert sorted(p.name for p in (out / ".shards").iterdir()) == ["test-00000-of-00001.parquet.json", "train-00000-of-00001.parquet.json"]


def test_manifest_records_checksums_and_counts(labels: LabelSet, tmp_path: Path):
    import hashlib

    out = tmp_path / "out"
    manifest = write_dataset(labels, out, options())
    assert json.loads((out / "manifest.json").read_text()) == manifest
    for layout, entries in manifest["files"].items():
        for entry in entries:
            assert hashlib.sha256((out / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    assert manifest["counts"]["train"] == {"listed": 20, "written": 19, "skipped_images": 1}
    assert manifest["images"]["embed"] is True and manifest["converter_version"]


def test_duplicate_records_are_refused(labels: LabelSet, tmp_path: Path):
    labels.records.append(labels.records[0])
    with pytest.raises(ValueError, match="id '000' appears twice"):
        write_dataset(labels, tmp_path / "out", options())


def test_a_shard_whose_images_were_all_skipped_gets_no_file(labels: LabelSet, tmp_path: Path):
    # D5: it was written as a 0-row parquet, on which datasets fails ("BatchSize must be greater than 0").
    import datasets

    first = labels.records[:4]  # the first shard's images (about 4 a shard)
    for record in first:
        path = Path(record.image_path)
        if path.exists():
            path.write_bytes(bytes(path.stat().st_size))  # same size (so the same shard plan), not an image
    out = tmp_path / "out"
    manifest = write_dataset(labels, out, options())
    assert manifest["empty_shards"] == ["train-00000-of-00005.parquet"]
    assert not (out / "table" / "train-00000-of-00005.parquet").exists() and not (out / "rl" / "train-00000-of-00005.parquet").exists()
    assert all(entry["rows"] > 0 for entries in manifest["files"].values() for entry in entries)
    rows = datasets.load_dataset("parquet", data_files=sorted(str(p) for p in (out / "rl").glob("train-*.parquet")), split="train")
    assert len(rows) == manifest["counts"]["train"]["written"] == 15
    assert [row["extra_info"]["index"] for row in rows] == list(range(15))
    assert write_dataset(labels, out, options()) == manifest  # the empty shard's state is reused on a rerun


def test_all_images_skipped_writes_no_parquet(labels: LabelSet, tmp_path: Path):
    for record in labels.records:
        Path(record.image_path).unlink(missing_ok=True)
    manifest = write_dataset(labels, tmp_path / "out", options())
    assert not list((tmp_path / "out").rglob("*.parquet")) and manifest["counts"]["train"]["written"] == 0


def test_path_mode_prepares_oversized_images_once_and_resumes(tmp_path: Path, draw):
    records = [
        Record(f"{i}", "ava", "train", 5.0, 0.5, str(draw.image(tmp_path / "images" / f"{i}.jpg", seed=i, size=size)))
        for i, size in enumerate([(1024, 768), (64, 48), (2000, 1500)])
    ]
    labels = LabelSet("ava", records)
    out = tmp_path / "out"
    manifest = write_dataset(labels, out, WriteOptions(progress=False))
    prepared = sorted(out.glob("images/*/*.jpg"))
    assert len(prepared) == 2 and manifest["images"]["changes"] == {"none": 1, "resized": 2}
    stamps = {p: p.stat().st_mtime_ns for p in prepared}
    assert write_dataset(labels, out, WriteOptions(progress=False)) == manifest
    assert {p: p.stat().st_mtime_ns for p in out.glob("images/*/*.jpg")} == stamps  # reused, not rewritten
    prepared[0].unlink()
    redone = []
    write_dataset(labels, out, WriteOptions(progress=False), on_shard_written=lambda state: redone.append(state["name"]))
    assert redone == ["train-00000-of-00001.parquet"] and sorted(out.glob("images/*/*.jpg")) == prepared
    write_dataset(labels, out, WriteOptions(image=ImageOptions(embed=True), progress=False))
    assert not list(out.glob("images/*/*.jpg"))  # embedded now: the copies are no longer referenced
