"""FLICKR-AES: worker ratings with leading spaces, the score-file cross-check, both splits."""

import math
import statistics
from pathlib import Path

import pytest

from data_prep import flickr_aes
from data_prep.native_files import NativeFormatError
from data_prep.splits import seeded_test_ids

WORKERS = ["A1", "A2", "A3", "A4", "A5"]


@pytest.fixture
def flickr_release(tmp_path: Path, draw) -> Path:
    """20 images rated by 5 workers each (worker A5 only the first three); image 7 is missing."""
    root = tmp_path / "FLICKR-AES"
    lines = [" worker, imagePair, score"]
    ratings = {}
    for i in range(20):
        name = f"farm1_{i}_b.jpg"
        ratings[name] = [1 + (i + w) % 5 for w in range(5)]
        for worker, rating in zip(WORKERS if i < 3 else ["A1", "A2", "A3", "A4", "B1"], ratings[name]):
            lines.append(f" {worker}, {name}, {rating}")
        if i != 7:
            draw.image(root / "40K" / name, seed=i)
    root.mkdir(exist_ok=True)
    (root / flickr_aes.WORKER_FILE).write_text("\n".join(lines) + "\n")
    score_lines = [f" {name} {statistics.fmean(r) / 5:.6f}" for name, r in ratings.items()]
    score_lines[4] = " farm1_4_b.jpg 0.2"  # disagrees with its workers' mean
    score_lines.append(" orphan.jpg 0.5")  # no worker ratings
    (root / flickr_aes.SCORE_FILE).write_text("\n".join(score_lines) + "\n")
    (root / "test_workers.txt").write_text("A5\n")
    return root


def read(root: Path, **kwargs):
    return flickr_aes.read_labels(root / flickr_aes.WORKER_FILE, root / "40K", root / flickr_aes.SCORE_FILE, **kwargs)


def test_mean_std_count_from_the_worker_file(flickr_release: Path):
    records = {r.id: r for r in read(flickr_release).records}
    record = records["farm1_2_b.jpg"]  # ratings 3, 4, 5, 1, 2
    assert record.raw_score == 3.0 and record.score == 0.5
    assert record.vote_count == 5 and math.isclose(record.vote_std, math.sqrt(2))
    assert record.image_path == str((flickr_release / "40K" / "farm1_2_b.jpg").resolve())


def test_score_file_is_cross_checked(flickr_release: Path):
    labels = read(flickr_release)
    check = labels.split_definition["score_file_check"]
    assert check["reading"] == "mean / 5" and check["disagreeing"] == 1 and check["compared"] == 20
    issues = {(i.id, i.reason) for i in labels.issues}
    assert issues == {("farm1_4_b.jpg", "score_file_disagrees"), ("orphan.jpg", "no_worker_ratings")}


def test_default_split_is_seeded_nine_to_one(flickr_release: Path):
    labels = read(flickr_release)
    test = {r.id for r in labels.records if r.split == "test"}
    assert len(test) == 2 and test == seeded_test_ids([r.id for r in labels.records], 42, 0.1)
    assert labels.split_definition["kind"] == "seeded" and labels.split_definition["seed"] == 42


def test_test_workers_split(flickr_release: Path):
    labels = read(flickr_release, split="test-workers", test_workers=flickr_release / "test_workers.txt")
    assert sorted(r.id for r in labels.records if r.split == "test") == ["farm1_0_b.jpg", "farm1_1_b.jpg", "farm1_2_b.jpg"]
    assert labels.split_definition["n_workers"] == 1


def test_test_workers_split_needs_the_list(flickr_release: Path):
    with pytest.raises(ValueError, match="--test-workers"):
        read(flickr_release, split="test-workers")


def test_missing_image_column_names_file(flickr_release: Path):
    (flickr_release / flickr_aes.WORKER_FILE).write_text("worker, image_id, score\nA1, x.jpg, 3\n")
    with pytest.raises(NativeFormatError, match=r"FLICKR-AES_image_labeled_by_each_worker\.csv:1: column 'image'"):
        read(flickr_release)


def test_ratings_off_the_scale_or_repeated_are_reported_and_left_out(flickr_release: Path):
    # D2: a rating of 0 turned a mean of 2.2 into 1.6; the same worker twice gave 6 votes and 2.333.
    path = flickr_release / flickr_aes.WORKER_FILE
    lines = path.read_text().splitlines()
    lines[1] = " A1, farm1_0_b.jpg, 0"  # was 1: out of 1..5
    lines.append(" A2, farm1_1_b.jpg, 1")  # A2 rated farm1_1 already (3)
    lines += [" A1, lonely.jpg, 9", " A2, lonely.jpg, 7"]  # no usable rating
    path.write_text("\n".join(lines) + "\n")
    labels = flickr_aes.read_labels(path, flickr_release / "40K")
    records = {r.id: r for r in labels.records}
    assert records["farm1_0_b.jpg"].vote_count == 4 and records["farm1_0_b.jpg"].raw_score == 3.5  # 2, 3, 4, 5
    assert records["farm1_1_b.jpg"].vote_count == 5 and records["farm1_1_b.jpg"].raw_score == 3.0
    issues = {(i.id, i.reason, i.line) for i in labels.issues}
    assert issues == {
        ("farm1_0_b.jpg", "rating_out_of_range", 2), ("farm1_1_b.jpg", "duplicate_rating", 102),
        ("lonely.jpg", "rating_out_of_range", 103), ("lonely.jpg", "rating_out_of_range", 104), ("lonely.jpg", "no_valid_ratings", 103),
    }
    assert "lonely.jpg" not in records


def test_worker_file_on_another_scale_stops(flickr_release: Path):
    path = flickr_release / flickr_aes.WORKER_FILE
    path.write_text("worker, imagePair, score\n" + "".join(f" A{i}, x{i}.jpg, {i / 10}\n" for i in range(10)))
    with pytest.raises(ValueError, match=r"10 of 10 scores lie outside flickr_aes's native scale \[1, 5\]; found 0 to 0\.9, which fits the scale \[0, 1\]"):
        flickr_aes.read_labels(path, flickr_release / "40K")
