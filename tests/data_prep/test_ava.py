"""AVA: votes -> MOS, official test list, and every quirk of a real copy, checked field by field."""

import math
from pathlib import Path

import numpy as np
import pytest

from data_prep import ava
from data_prep.convert import WriteOptions, write_dataset
from data_prep.images import ImageOptions
from data_prep.native_files import NativeFormatError
from data_prep.prompts import SCORING_PROMPT


def test_vote_statistics_hand_computed():
    # 1 vote of 1 and 1 vote of 3: mean 2, population std 1.
    assert ava.vote_statistics([1, 0, 1, 0, 0, 0, 0, 0, 0, 0]) == (2.0, 1.0, 2)
    # All 4 votes on 10.
    assert ava.vote_statistics([0] * 9 + [4]) == (10.0, 0.0, 4)


def test_vote_statistics_match_numpy_on_expanded_votes():
    rng = np.random.default_rng(0)
    for _ in range(50):
        counts = rng.integers(0, 30, size=10).tolist()
        if sum(counts) == 0:
            continue
        votes = np.repeat(np.arange(1, 11), counts)
        mean, std, n = ava.vote_statistics(counts)
        assert math.isclose(mean, votes.mean()) and math.isclose(std, votes.std(), abs_tol=1e-12) and n == votes.size


def test_vote_statistics_without_votes_raise():
    with pytest.raises(ValueError, match="no votes"):
        ava.vote_statistics([0] * 10)


def ava_line(index: int, id: str, counts: list[int]) -> str:
    return " ".join(map(str, [index, id, *counts, 12, 0, 1396])) + "\n"


@pytest.fixture
def ava_release(tmp_path: Path, draw) -> Path:
    """AVA_dataset/ with: RGB train/test images, a grayscale, a CMYK, a missing image, a corrupt
    JPEG, a duplicated id, an image without votes and a test id absent from AVA.txt."""
    root = tmp_path / "AVA_dataset"
    images = root / "images"
    lines = [
        ava_line(1, "100", [0, 0, 0, 0, 1, 2, 1, 0, 0, 0]),  # mean 6, train
        ava_line(2, "200", [0, 0, 0, 0, 0, 0, 0, 0, 0, 3]),  # mean 10, test
        ava_line(3, "300", [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]),  # mean 1.5, grayscale, train
        ava_line(4, "400", [0, 0, 0, 0, 2, 0, 0, 0, 0, 0]),  # mean 5, CMYK, test
        ava_line(5, "500", [0, 0, 0, 0, 2, 0, 0, 0, 0, 0]),  # image missing
        ava_line(6, "600", [0, 0, 0, 0, 2, 0, 0, 0, 0, 0]),  # corrupt JPEG
        ava_line(7, "100", [0, 0, 0, 0, 0, 0, 0, 0, 0, 9]),  # duplicate id with another score
        ava_line(8, "700", [0] * 10),  # no votes
    ]
    root.mkdir(parents=True)
    (root / "AVA.txt").write_text("".join(lines))
    (root / "aesthetics_image_lists").mkdir()
    (root / "aesthetics_image_lists" / "generic_test.jpgl").write_text("200\n400\n999\n")
    draw.image(images / "100.jpg", seed=1)
    draw.image(images / "200.jpg", seed=2)
    draw.image(images / "300.jpg", seed=3, mode="L")
    draw.image(images / "400.jpg", seed=4, mode="CMYK")
    draw.truncated_jpeg(images / "600.jpg")
    return root


def convert(root: Path, out: Path, embed: bool = False) -> dict:
    labels = ava.read_labels(root / "AVA.txt", root / "aesthetics_image_lists" / "generic_test.jpgl", root / "images")
    return write_dataset(labels, out, WriteOptions(image=ImageOptions(embed=embed), progress=False))


def test_table_rows_field_by_field(ava_release: Path, tmp_path: Path, rows_of):
    out = tmp_path / "out"
    manifest = convert(ava_release, out)
    rows = {row["id"]: row for row in rows_of(out, "table")}
    assert list(rows) == ["200", "400", "100", "300"]  # files test-*, train-*; by id inside
    first = rows["100"]
    assert first["dataset"] == "ava" and first["split"] == "train"
    assert first["raw_score"] == 6.0 and math.isclose(first["score"], 5 / 9)
    assert first["vote_count"] == 4 and math.isclose(first["vote_std"], math.sqrt(0.5))
    assert first["image"] == {"bytes": None, "path": str((ava_release / "images" / "100.jpg").resolve())}
    assert (first["width"], first["height"]) == (32, 24)
    assert rows["200"]["split"] == "test" and rows["200"]["score"] == 1.0
    assert rows["300"]["score"] == pytest.approx(0.5 / 9)
    assert manifest["counts"] == {
        "test": {"listed": 2, "written": 2, "skipped_images": 0},
        "train": {"listed": 4, "written": 2, "skipped_images": 2},
    }
    assert manifest["skipped_by_reason"] == {"corrupt": 1, "duplicate_id": 1, "missing_file": 1, "no_votes": 1, "test_id_not_in_labels": 1}
    assert manifest["images"]["source_modes"] == {"CMYK": 1, "L": 1, "RGB": 3, "unknown": 1}


def test_report_lists_every_dropped_item_with_its_place(ava_release: Path, tmp_path: Path):
    import json

    out = tmp_path / "out"
    convert(ava_release, out)
    report = [json.loads(line) for line in (out / "report.jsonl").read_text().splitlines()]
    by_reason = {item["reason"]: item for item in report}
    assert by_reason["duplicate_id"]["line"] == 7 and "conflicting score 10.0" in by_reason["duplicate_id"]["detail"]
    assert by_reason["no_votes"]["id"] == "700"
    assert by_reason["test_id_not_in_labels"]["id"] == "999" and by_reason["test_id_not_in_labels"]["line"] == 3
    assert by_reason["missing_file"]["id"] == "500" and by_reason["corrupt"]["id"] == "600"


def test_rl_rows_follow_the_contract(ava_release: Path, tmp_path: Path, rows_of, open_cell):
    out = tmp_path / "out"
    convert(ava_release, out, embed=True)
    rows = rows_of(out, "rl")
    assert [(row["extra_info"]["id"], row["extra_info"]["index"]) for row in rows] == [("200", 0), ("400", 1), ("100", 0), ("300", 1)]
    row = rows[3]  # id 300, grayscale on disk
    assert row["data_source"] == "ava" and row["ability"] == "aesthetic"
    assert row["prompt"] == [{"role": "user", "content": SCORING_PROMPT}]
    assert row["reward_model"] == {"style": "rule", "ground_truth": pytest.approx(0.5 / 9)}
    info = row["extra_info"]
    assert (info["id"], info["dataset"], info["split"], info["raw_score"], info["vote_count"]) == ("300", "ava", "train", 1.5, 2)
    assert info["score"] == row["reward_model"]["ground_truth"] and info["vote_std"] == 0.5
    image = open_cell(row["images"][0])
    # Grayscale needs no change (every consumer's convert("RGB") is exact): embedded as the file's bytes.
    assert row["images"][0]["path"] is None and image.mode == "L" and image.size == (32, 24)
    assert row["images"][0]["bytes"] == (ava_release / "images" / "300.jpg").read_bytes()


def test_wrong_column_count_names_file_and_line(ava_release: Path):
    with open(ava_release / "AVA.txt", "a") as handle:
        handle.write("9 800 1 2 3\n")
    with pytest.raises(NativeFormatError, match=r"AVA\.txt:9: expected 15 whitespace-separated columns, found 5"):
        ava.read_labels(ava_release / "AVA.txt", ava_release / "aesthetics_image_lists" / "generic_test.jpgl", ava_release / "images")


def test_non_integer_vote_names_column(ava_release: Path):
    with open(ava_release / "AVA.txt", "a") as handle:
        handle.write(ava_line(9, "800", [0, 0, "x", 0, 0, 0, 0, 0, 0, 1]))
    with pytest.raises(NativeFormatError, match=r"AVA\.txt:9: column 5: expected a non-negative integer, found 'x'"):
        ava.read_labels(ava_release / "AVA.txt", ava_release / "aesthetics_image_lists" / "generic_test.jpgl", ava_release / "images")


def test_missing_test_list_says_which_file(ava_release: Path):
    with pytest.raises(FileNotFoundError, match="generic_test.jpgl"):
        ava.read_labels(ava_release / "AVA.txt", ava_release / "nope.jpgl", ava_release / "images")
