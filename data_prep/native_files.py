"""Reading the releases' own label files, with errors that name the file, line and column.

The releases are plain text written on different systems: CRLF line endings, a UTF-8 BOM, values
preceded by spaces, header names in varying case. These readers accept those variants and stop
with a :class:`NativeFormatError` on anything else, saying what was expected and what was found.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path


class NativeFormatError(ValueError):
    """A release file differs from the documented format.

    The message reads ``<file>:<line>: column <name>: expected <what>, found <what>`` so that a
    user can open the file at the right place.
    """

    def __init__(self, path: Path | str, line: int | None, column: str | int | None, expected: str, found: str):
        self.path, self.line, self.column = str(path), line, column
        where = self.path if line is None else f"{self.path}:{line}"
        col = "" if column is None else f" column {column!r}:"
        super().__init__(f"{where}:{col} expected {expected}, found {found}")


def require_file(path: Path | str, what: str) -> Path:
    """Return ``path`` as a Path, or raise FileNotFoundError explaining which release file it is."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found at {path}")
    return path


def read_text(path: Path | str) -> str:
    """The file's text (UTF-8, an optional BOM); a byte that is not UTF-8 raises with its line and column.

    Line endings are kept (CRLF too), so that readers count lines as the file has them.
    """
    data = Path(path).read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        line_start = data.rfind(b"\n", 0, error.start) + 1
        column = len(data[line_start:error.start].decode("utf-8", errors="replace")) + 1
        context = data[line_start : data.find(b"\n", error.start) if b"\n" in data[error.start:] else len(data)][:120]
        raise NativeFormatError(path, line, column, "UTF-8 text", f"byte {data[error.start]:#04x} in {context!r}") from None


def read_whitespace_rows(path: Path, n_columns: int | None = None, min_columns: int = 1) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line_number, fields)`` of a whitespace-separated text file, 1-based lines.

    Blank lines are skipped; leading/trailing blanks and CRLF are ignored. ``n_columns`` demands an
    exact field count, ``min_columns`` a minimum.
    """
    with io.StringIO(read_text(path), newline="") as handle:
        for line_number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            if n_columns is not None and len(fields) != n_columns:
                raise NativeFormatError(path, line_number, None, f"{n_columns} whitespace-separated columns", f"{len(fields)}: {line.strip()[:120]!r}")
            if len(fields) < min_columns:
                raise NativeFormatError(path, line_number, None, f"at least {min_columns} columns", f"{len(fields)}: {line.strip()[:120]!r}")
            yield line_number, fields


def _canonical(name: str) -> str:
    return name.strip().lower()


def read_csv_rows(path: Path, columns: Mapping[str, Sequence[str]]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line_number, {column: value})`` for a CSV file with a header row.

    Args:
        path: the CSV file (a BOM, CRLF and spaces after commas are accepted).
        columns: wanted column -> accepted header spellings, matched case-insensitively after
            stripping blanks, e.g. ``{"image": ["image", "imageName"]}``. Other columns are ignored.

    Raises:
        NativeFormatError: a wanted column is missing (the message lists the header found), a row
            has fewer fields than the header or more (trailing empty fields are accepted), or a byte
            is not UTF-8.
    """
    with io.StringIO(read_text(path), newline="") as handle:
        reader = csv.reader(handle, skipinitialspace=True)
        header = next(reader, None)
        if header is None:
            raise NativeFormatError(path, 1, None, "a header row", "an empty file")
        found = [_canonical(name) for name in header]
        positions: dict[str, int] = {}
        for wanted, spellings in columns.items():
            for spelling in spellings:
                if _canonical(spelling) in found:
                    positions[wanted] = found.index(_canonical(spelling))
                    break
            else:
                raise NativeFormatError(path, 1, wanted, f"a header column named one of {list(spellings)}", f"header {header}")
        for fields in reader:
            line_number = reader.line_num
            if not fields or all(not field.strip() for field in fields):
                continue
            extra = fields[len(header):]
            if len(fields) < len(header) or any(field.strip() for field in extra):
                # A row with a field too many (``name,7,45``) would be read with its values shifted or cut.
                raise NativeFormatError(path, line_number, None, f"{len(header)} comma-separated fields", f"{len(fields)}: {fields}")
            yield line_number, {wanted: fields[pos].strip() for wanted, pos in positions.items()}


def parse_float(text: str, path: Path, line: int, column: str | int) -> float:
    """Parse a finite float or raise :class:`NativeFormatError` naming the place."""
    try:
        value = float(text)
    except ValueError:
        raise NativeFormatError(path, line, column, "a number", repr(text)) from None
    if not math.isfinite(value):
        raise NativeFormatError(path, line, column, "a finite number", repr(text))
    return value


def parse_count(text: str, path: Path, line: int, column: str | int) -> int:
    """Parse a non-negative integer count or raise :class:`NativeFormatError` naming the place."""
    if not text.isdigit():
        raise NativeFormatError(path, line, column, "a non-negative integer", repr(text))
    return int(text)
