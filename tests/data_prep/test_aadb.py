"""AADB: three lists, the Train/TestNew overlap, seeded (default) and official splits."""

from pathlib import Path

import pytest

from data_prep import aadb
from data_prep.splits import seeded_test_ids


@pytest.fixture
def aadb_release(tmp_path: Path, draw) -> Path:
    root = tmp_path / "AADB"
    labels = root / "imgListFiles_label"
    labels.mkdir(parents=True)
    train = [f"farm1_{i}.jpg {i / 20:.2f}" for i in range(20)]
    (labels / "imgListTrainRegression_score.txt").write_text("\n".join(train) + "\n")
    (labels / "imgListValidationRegression_score.txt").write_text("farm2_1.jpg 0.4\nfarm2_2.jpg 0.6\n")
    (labels / "imgListTestNewRegression_score.txt").write_text("farm3_1.jpg 1.0\nfarm1_3.jpg 0.15\n")  # farm1_3 also in Train
    (labels / "imgListTestRegression_score.txt").write_text("stale.jpg 0.5\n")  # the old list: not read
    for name in [*(f"farm1_{i}.jpg" for i in range(20)), "farm2_1.jpg", "farm2_2.jpg", "farm3_1.jpg"]:
        draw.image(root / "datasetImages_originalSize" / name, seed=len(name))
    return root


def read(root: Path, **kwargs):
    return aadb.read_labels(root / "imgListFiles_label", root / "datasetImages_originalSize", **kwargs)


def test_default_is_seeded_nine_to_one_over_unique_images(aadb_release: Path):
    labels = read(aadb_release)
    ids = [r.id for r in labels.records]
    assert len(ids) == 23 and "stale.jpg" not in ids
    assert {r.id for r in labels.records if r.split == "test"} == seeded_test_ids(ids, 42, 0.1)
    assert {r.split for r in labels.records} == {"train", "test"}
    assert [(i.id, i.reason, "same score" in i.detail) for i in labels.issues] == [("farm1_3.jpg", "duplicate_id", True)]
    assert labels.split_definition["seed"] == 42


def test_scores_are_kept_as_released(aadb_release: Path):
    records = {r.id: r for r in read(aadb_release).records}
    assert records["farm1_7.jpg"].raw_score == records["farm1_7.jpg"].score == 0.35
    assert records["farm3_1.jpg"].score == 1.0


def test_official_split_keeps_overlap_in_test_only(aadb_release: Path):
    labels = read(aadb_release, split="official")
    splits = {r.id: r.split for r in labels.records}
    assert splits["farm1_3.jpg"] == "test" and splits["farm2_1.jpg"] == "val" and splits["farm1_0.jpg"] == "train"
    assert sum(s == "train" for s in splits.values()) == 19


def test_unknown_split_is_refused(aadb_release: Path):
    with pytest.raises(ValueError, match="expected 'seeded' or 'official'"):
        read(aadb_release, split="random")


def test_a_bad_label_does_not_move_other_images_between_splits(aadb_release: Path):
    # Minor: the seeded split was drawn after label validation, so one bad score moved another image into test.
    before = {r.id: r.split for r in read(aadb_release).records}
    victim = sorted(id for id, split in before.items() if split == "test")[0]
    for path in (aadb_release / "imgListFiles_label").glob("*.txt"):
        path.write_text("".join(f"{line.split()[0]} 3.5\n" if line.split()[0] == victim else f"{line}\n" for line in path.read_text().splitlines()))
    labels = read(aadb_release)
    after = {r.id: r.split for r in labels.records}
    assert after == {id: split for id, split in before.items() if id != victim}
    assert (victim, "score_out_of_range") in {(i.id, i.reason) for i in labels.issues}
