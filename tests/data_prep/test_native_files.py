"""Release text files: accepted variants and the errors for what differs."""

from pathlib import Path

import pytest

from data_prep.native_files import (
    NativeFormatError,
    parse_count,
    parse_float,
    read_csv_rows,
    read_whitespace_rows,
)

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


def test_csv_row_with_a_field_too_many_names_line(tmp_path: Path):
    # D1: TAD66K's `name,7,45` was read as 7.0 and the 45 ignored.
    path = tmp_path / "train.csv"
    path.write_text("image,score\nx.jpg,5\nname,7,45\n")
    with pytest.raises(NativeFormatError, match=r"train\.csv:3: expected 2 comma-separated fields, found 3: \['name', '7', '45'\]"):
        list(read_csv_rows(path, COLUMNS))


def test_csv_trailing_empty_field_is_accepted(tmp_path: Path):
    path = tmp_path / "train.csv"
    path.write_text("image,score\nx.jpg,5,\n")  # a trailing comma carries no value
    assert list(read_csv_rows(path, COLUMNS)) == [(2, {"image": "x.jpg", "score": "5"})]


@pytest.mark.parametrize("reader", [lambda p: list(read_csv_rows(p, COLUMNS)), lambda p: list(read_whitespace_rows(p))])
def test_non_utf8_byte_names_file_line_and_column(tmp_path: Path, reader):
    # D3: a Latin-1 byte gave `UnicodeDecodeError ... position 161` with no file or line.
    path = tmp_path / "labels.csv"
    path.write_bytes(b"image,score\r\nx.jpg,5\r\ncaf\xe9.jpg,6\r\n")
    with pytest.raises(NativeFormatError, match=r"labels\.csv:3: column 4: expected UTF-8 text, found byte 0xe9 in b'caf\\xe9\.jpg,6\\r'"):
        reader(path)
