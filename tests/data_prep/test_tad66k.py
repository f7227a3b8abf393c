"""TAD66K: merged CSVs with CRLF, '@' in names, an image in both files, a header variant."""

from pathlib import Path

import pytest

from data_prep import tad66k
from data_prep.convert import WriteOptions, write_dataset
from data_prep.label_collector import ScaleError
from data_prep.native_files import NativeFormatError


@pytest.fixture
def tad_release(tmp_path: Path, draw) -> tuple[Path, Path]:
    merge = tmp_path / "dataset" / "merge"
    merge.mkdir(parents=True)
    (merge / "train.csv").write_bytes(b"image,score\r\n1@2x.jpg,5.5\r\nshared.jpg,4.0\r\ngray.jpg,1.13\r\nmissing.jpg,7\r\n")
    (merge / "test.csv").write_bytes(b"image,score\r\nt1.jpg,9.46\r\nshared.jpg,4.0\r\n")
    images = tmp_path / "images"
    for i, name in enumerate(["1@2x.jpg", "shared.jpg", "t1.jpg"]):
        draw.image(images / name, seed=i)
    draw.image(images / "gray.jpg", mode="L")
    return merge, images


def test_rows_field_by_field(tad_release, tmp_path: Path, rows_of):
    merge, images = tad_release
    manifest = write_dataset(tad66k.read_labels(merge, images), tmp_path / "out", WriteOptions(progress=False))
    rows = {row["id"]: row for row in rows_of(tmp_path / "out", "table")}
    assert {id: row["split"] for id, row in rows.items()} == {"1@2x.jpg": "train", "gray.jpg": "train", "t1.jpg": "test", "shared.jpg": "test"}
    assert rows["1@2x.jpg"]["raw_score"] == 5.5 and rows["1@2x.jpg"]["score"] == pytest.approx(0.5)
    assert rows["t1.jpg"]["score"] == pytest.approx(8.46 / 9)
    assert rows["gray.jpg"]["score"] == pytest.approx(0.13 / 9) and rows["gray.jpg"]["vote_count"] is None
    assert rows["1@2x.jpg"]["image"]["path"] == str((images / "1@2x.jpg").resolve())
    assert manifest["skipped_by_reason"] == {"duplicate_id": 1, "missing_file": 1}
    assert manifest["split_definition"]["kind"] == "official"
    assert [source["path"].rsplit("/", 1)[1] for source in manifest["sources"]] == ["train.csv", "test.csv"]


def test_divide_by_max_normalisation(tad_release):
    merge, images = tad_release
    labels = tad66k.read_labels(merge, images, method="max")
    assert {r.id: r.score for r in labels.records}["1@2x.jpg"] == pytest.approx(0.55)
    assert labels.normalisation == {"method": "max", "formula": "x / hi", "lo": 1.0, "hi": 10.0}


def test_header_variant_is_accepted(tad_release):
    merge, images = tad_release
    (merge / "train.csv").write_text("imageName, MOS\na.jpg, 3\n")  # another spelling of both columns
    assert [r.id for r in tad66k.read_labels(merge, images).records if r.split == "train"] == ["a.jpg"]


def test_missing_score_column_names_file_and_column(tad_release):
    merge, images = tad_release
    (merge / "test.csv").write_text("image,rating\nt1.jpg,9\n")
    with pytest.raises(NativeFormatError, match=r"merge/test\.csv:1: column 'score'"):
        tad66k.read_labels(merge, images)


def test_bad_score_names_line(tad_release):
    merge, images = tad_release
    (merge / "test.csv").write_text("image,score\nt1.jpg,9\nt2.jpg,n/a\n")
    with pytest.raises(NativeFormatError, match=r"test\.csv:3: column 'score': expected a number, found 'n/a'"):
        tad66k.read_labels(merge, images)


def test_score_outside_scale_is_reported_not_written(tad_release):
    merge, images = tad_release
    (merge / "test.csv").write_text("image,score\nt1.jpg,94.6\nt2.jpg,5\n")
    labels = tad66k.read_labels(merge, images)
    assert "t1.jpg" not in {r.id for r in labels.records}
    assert [(i.reason, i.line) for i in labels.issues if i.id == "t1.jpg"] == [("score_out_of_range", 2)]


def test_a_file_on_another_scale_stops_and_names_the_scale(tad_release):
    # D4: train.csv divided by 10 gave one score_out_of_range line per image, exit 0, and no train split.
    merge, images = tad_release
    (merge / "train.csv").write_text("image,score\n" + "".join(f"{i}.jpg,{0.1 + i / 100:.2f}\n" for i in range(40)) + "ok.jpg,5\n")
    with pytest.raises(ScaleError, match=r"merge/train\.csv: 40 of 41 scores lie outside tad66k's native scale \[1, 10\]; found 0\.1 to 5, which fits the scale \[0, 5\]"):
        tad66k.read_labels(merge, images)
    (merge / "train.csv").write_text("image,score\n" + "".join(f"{i}.jpg,{0.1 + i / 100:.2f}\n" for i in range(40)))
    with pytest.raises(ScaleError, match=r"found 0\.1 to 0\.49, which fits the scale \[0, 1\]"):
        tad66k.read_labels(merge, images)


def test_listed_paths_are_kept_not_resolved_through_symlinks(tad_release, tmp_path: Path):
    merge, images = tad_release
    link = tmp_path / "linked_images"
    link.symlink_to(images)
    records = {r.id: r for r in tad66k.read_labels(merge, link).records}
    assert records["t1.jpg"].image_path == str(link / "t1.jpg")
