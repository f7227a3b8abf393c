"""Release text files: accepted variants and the errors for what differs."""

from pathlib import Path

import pytest

from data_prep.native_files import NativeFormatError, parse_count, parse_float, read_csv_rows, read_whitespace_rows

COLUMNS = {"image": ["image", "imageName"], "score": ["score"]}


def test_csv_accepts_bom_crlf_spaces_and_header_case(tmp_path: Path):
    path = tmp_path / "labels.csv"
    path.write_bytes("\ufeffImage , SCORE\r\n a.jpg, 5.5\r\n\r\nb@x.jpg,6\r\n".encode())
    assert list(read_csv_rows(path, COLUMNS)) == [(2, {"image": "a.jpg", "score": "5.5"}), (4, {"image": "b@x.jpg", "score": "6"})]


def test_csv_accepts_alternative_header_spelling(tmp_path: Path):
    path = tmp_path / "labels.csv"
    path.write_text("imageName,score,extra\nx.jpg,1,zzz\n")
    assert list(read_csv_rows(path, COLUMNS)) == [(2, {"image": "x.jpg", "score": "1"})]


def test_csv_missing_column_names_file_and_column(tmp_path: Path):
    path = tmp_path / "labels.csv"
    path.write_text("image,mos_value\nx.jpg,1\n")
    with pytest.raises(NativeFormatError, match=r"labels\.csv:1: column 'score'.*header \['image', 'mos_value'\]"):
        list(read_csv_rows(path, COLUMNS))


def test_csv_short_row_names_line(tmp_path: Path):
    path = tmp_path / "labels.csv"
    path.write_text("image,score\nx.jpg,1\ny.jpg\n")
    with pytest.raises(NativeFormatError, match=r"labels\.csv:3: expected 2 comma-separated fields"):
        list(read_csv_rows(path, COLUMNS))


def test_empty_csv_is_an_error(tmp_path: Path):
    path = tmp_path / "labels.csv"
    path.write_text("")
    with pytest.raises(NativeFormatError, match="a header row"):
        list(read_csv_rows(path, COLUMNS))


def test_whitespace_rows_skip_blank_lines_and_leading_spaces(tmp_path: Path):
    path = tmp_path / "scores.txt"
    path.write_text(" a.jpg 0.5\r\n\n  b.jpg   0.75\n")
    assert list(read_whitespace_rows(path, n_columns=2)) == [(1, ["a.jpg", "0.5"]), (3, ["b.jpg", "0.75"])]


def test_whitespace_rows_wrong_column_count_names_line(tmp_path: Path):
    path = tmp_path / "scores.txt"
    path.write_text("a.jpg 0.5\nb.jpg 0.5 extra\n")
    with pytest.raises(NativeFormatError, match=r"scores\.txt:2: expected 2 whitespace-separated columns, found 3"):
        list(read_whitespace_rows(path, n_columns=2))


@pytest.mark.parametrize("text", ["abc", "nan", "inf", ""])
def test_parse_float_rejects_non_numbers(text: str):
    with pytest.raises(NativeFormatError, match=r"f\.txt:7: column 'score'"):
        parse_float(text, Path("f.txt"), 7, "score")


@pytest.mark.parametrize("text", ["-1", "1.5", "x"])
def test_parse_count_rejects_non_counts(text: str):
    with pytest.raises(NativeFormatError, match=r"column 3"):
        parse_count(text, Path("f.txt"), 1, 3)
