"""The SFT set in the layout verl's ``MultiTurnSFTDataset`` reads for image chats: ``messages`` + ``images``.

User turn: ``data_prep.prompts.SCORING_PROMPT`` (Appendix B scoring prompt, the same as RL and eval;
its ``<image>`` is where the dataset inserts the picture). Assistant turn:
``<think>{critique}</think><answer>{true score, two decimals}</answer>`` (Sec. 3.2: the critique
concatenated with the ground-truth score). Extra columns (id, dataset, score, level) are ignored by
verl and keep the set traceable.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from data_prep.atomic_files import write_atomically
from data_prep.prompts import SCORING_PROMPT
from recipe.aesr1.aescot.record_result import RecordResult
from recipe.aesr1.endpoints.data_urls import image_bytes

_MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
# verl's process_image opens image["bytes"] whenever that key exists, even when it is null, so a
# file holds one kind of image cell only: embedded bytes, or a local path under the key "image"
# (what qwen_vl_utils.fetch_image opens).
EMBEDDED_IMAGE = pa.struct([("bytes", pa.binary())])
PATH_IMAGE = pa.struct([("image", pa.string())])


def verl_sft_images(cells: list[list[dict[str, Any]]]) -> tuple[list[list[dict[str, Any]]], pa.DataType]:
    """``{bytes, path}`` image cells of one file's rows, as the one kind verl's SFT dataset reads.

    Paths when every cell has a path and no bytes; otherwise every image is embedded (read from its
    path where needed). Returns the converted cells and their arrow type.
    """
    if all(cell.get("path") and not cell.get("bytes") for row in cells for cell in row):
        return [[{"image": cell["path"]} for cell in row] for row in cells], PATH_IMAGE
    embedded = [[{"bytes": cell.get("bytes") or image_bytes(cell, where=cell["path"])} for cell in row] for row in cells]
    return embedded, EMBEDDED_IMAGE


# AesCoT's traceability columns after messages/images (verl ignores them).
AESCOT_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("id", pa.string()),
    ("dataset", pa.string()),
    ("split", pa.string()),
    ("score", pa.float64()),
    ("raw_score", pa.float64()),
    ("level", pa.string()),
)


def sft_schema(image_type: pa.DataType, extra: Sequence[tuple[str, pa.DataType]]) -> pa.Schema:
    """The SFT files of AesCoT and RED-Aes: ``messages`` and ``images`` (``image_type`` from
    ``verl_sft_images``), then the pipeline's own ``extra`` columns, which verl ignores."""
    return pa.schema([("messages", pa.list_(_MESSAGE)), ("images", pa.list_(image_type)), *extra])


def sft_target(critique: str, score: float) -> str:
    """The assistant turn of Sec. 3.2: ``<think>critique</think><answer>0.73</answer>``."""
    return f"<think>{critique}</think><answer>{score:.2f}</answer>"


def sft_row(result: RecordResult, image: dict[str, Any], embed_image: bool) -> dict[str, Any]:
    """One SFT row with a ``{bytes, path}`` image cell (bytes read in when ``embed_image``)."""
    if result.critique is None:
        raise ValueError(f"{result.record_id}: a kept record must have a critique")
    if embed_image and not image.get("bytes"):
        image = {"bytes": image_bytes(image, where=result.record_id), "path": None}
    return {
        "messages": [
            {"role": "user", "content": SCORING_PROMPT},
            {"role": "assistant", "content": sft_target(result.critique, result.score)},
        ],
        "images": [{"bytes": image.get("bytes"), "path": image.get("path")}],
        "id": result.id,
        "dataset": result.dataset,
        "split": result.split,
        "score": result.score,
        "raw_score": result.raw_score,
        "level": result.level,
    }


def write_sft_parquet(
    path: str | os.PathLike, kept: list[RecordResult], images: dict[str, dict[str, Any]], embed_images: bool = False
) -> int:
    """Write the kept records atomically; returns the row count.

    Images are embedded when asked or when any kept image has no path (an input table with
    embedded bytes); otherwise the file references them by path (see ``verl_sft_images``).
    """
    rows = [sft_row(result, images[result.record_id], embed_images) for result in kept]
    cells, image_type = verl_sft_images([row["images"] for row in rows])
    for row, row_cells in zip(rows, cells):
        row["images"] = row_cells
    table = pa.Table.from_pylist(rows, schema=sft_schema(image_type, AESCOT_COLUMNS))
    write_atomically(path, lambda temp_path: pq.write_table(table, temp_path))
    return len(rows)
