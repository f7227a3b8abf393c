"""PARA: GIAA CSVs with many columns, session folders, the std kept, missing column errors."""

from pathlib import Path

import pytest

from data_prep import para
from data_prep.convert import WriteOptions, write_dataset
from data_prep.native_files import NativeFormatError

VOTE_SHARES = ",".join(f"aestheticScore_{v}.0" for v in range(1, 6))
HEADER = f"userId,imageName,sessionId,semantic,{VOTE_SHARES},aestheticScore_mean,aestheticScore_std,qualityScore_mean\n"


def para_line(name: str, session: str, mean: float, std: float) -> str:
    return f"u1,{name},{session},animal,0.1,0.2,0.3,0.2,0.2,{mean},{std},3.5\n"


@pytest.fixture
def para_release(tmp_path: Path, draw) -> Path:
    root = tmp_path / "PARA"
    (root / "annotation").mkdir(parents=True)
    (root / "annotation" / "PARA-GiaaTrain.csv").write_text(
        HEADER + para_line("iaa_pub1_.jpg", "session1", 3.2, 0.6) + para_line("iaa_pub2_.jpg", "session2", 5.0, 0.0)
        + para_line("iaa_pub3_.jpg", "session1", 2.0, 0.4)
    )
    (root / "annotation" / "PARA-GiaaTest.csv").write_text(HEADER + para_line("iaa_pub9_.jpg", "session9", 1.0, 0.2))
    draw.image(root / "imgs" / "session1" / "iaa_pub1_.jpg", seed=1)
    draw.image(root / "imgs" / "session2" / "iaa_pub2_.jpg", seed=2, mode="CMYK")
    draw.image(root / "imgs" / "session9" / "iaa_pub9_.jpg", seed=9)
    (root / "imgs" / "session1" / "iaa_pub3_.jpg").write_bytes(b"")  # empty file
    return root


def test_rows_field_by_field(para_release: Path, tmp_path: Path, rows_of):
    labels = para.read_labels(para_release / "annotation", para_release / "imgs")
    manifest = write_dataset(labels, tmp_path / "out", WriteOptions(progress=False))
    rows = {row["id"]: row for row in rows_of(tmp_path / "out", "table")}
    assert set(rows) == {"iaa_pub1_.jpg", "iaa_pub2_.jpg", "iaa_pub9_.jpg"}
    one = rows["iaa_pub1_.jpg"]
    assert (one["split"], one["raw_score"], one["vote_std"], one["vote_count"]) == ("train", 3.2, 0.6, None)
    assert one["score"] == pytest.approx(0.55)
    assert one["image"]["path"] == str((para_release / "imgs" / "session1" / "iaa_pub1_.jpg").resolve())
    assert rows["iaa_pub2_.jpg"]["score"] == 1.0 and rows["iaa_pub9_.jpg"]["score"] == 0.0
    assert rows["iaa_pub9_.jpg"]["split"] == "test"
    assert manifest["skipped_by_reason"] == {"not_an_image": 1}


def test_missing_mean_column_names_file_and_column(para_release: Path):
    path = para_release / "annotation" / "PARA-GiaaTrain.csv"
    path.write_text(path.read_text().replace("aestheticScore_mean", "aestheticScoreMean"))
    with pytest.raises(NativeFormatError, match=r"PARA-GiaaTrain\.csv:1: column 'mean': expected a header column named one of \['aestheticScore_mean'\]"):
        para.read_labels(para_release / "annotation", para_release / "imgs")


def test_missing_annotation_file_says_which(para_release: Path):
    (para_release / "annotation" / "PARA-GiaaTest.csv").unlink()
    with pytest.raises(FileNotFoundError, match="PARA-GiaaTest.csv"):
        para.read_labels(para_release / "annotation", para_release / "imgs")
