"""Tiny images for the native-release fixtures, drawn with numpy + PIL (no downloads)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from data_prep.table_images import TableFile


class Draw:
    """Writes small images of a given mode and known bad files into a release folder."""

    @staticmethod
    def image(path: Path, seed: int = 0, mode: str = "RGB", size: tuple[int, int] = (32, 24)) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = np.random.default_rng(seed).integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
        image = Image.fromarray(pixels, "RGB")
        if mode == "P":
            image = image.quantize(colors=16)
        elif mode != "RGB":
            image = image.convert(mode)
        fmt = "PNG" if mode in ("RGBA", "LA", "P") else "JPEG"
        image.save(path, format=fmt)
        return path

    @classmethod
    def truncated_jpeg(cls, path: Path, seed: int = 0) -> Path:
        """A JPEG cut in half: the header parses, the full decode fails."""
        cls.image(path, seed, size=(64, 64))
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return path

    @staticmethod
    def not_an_image(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"<html>404 not found</html>")
        return path


@pytest.fixture
def draw() -> type[Draw]:
    return Draw


def read_rows(folder: Path, layout: str) -> list[dict]:
    """All rows of ``layout``; table images read wherever they are stored (``data_prep.table_images``)."""
    rows: list[dict] = []
    for path in sorted((folder / layout).glob("*.parquet")):
        if layout == "table":
            rows += TableFile(path).read(pq.read_schema(path).names).to_pylist()
        else:
            rows += pq.read_table(path).to_pylist()
    return rows


@pytest.fixture
def rows_of():
    """rows_of(out_folder, layout) -> all rows of that layout, in file order."""
    return read_rows


def decoded(cell: dict) -> Image.Image:
    """Open the image of a ``{bytes, path}`` cell."""
    return Image.open(io.BytesIO(cell["bytes"])) if cell["bytes"] is not None else Image.open(cell["path"])


@pytest.fixture
def open_cell():
    return decoded


# the evaluation table writer of the recipe's tests, for the one reader of data_prep's tables (test_tables.py)
from benchmark_fixtures import helpers  # noqa: E402, F401
