"""The SFT set in the layout verl's ``MultiTurnSFTDataset`` reads for image chats: ``messages`` + ``images``.

User turn: ``data_prep.prompts.SCORING_PROMPT`` (Appendix B scoring prompt, the same as RL and eval;
its ``<image>`` is where the dataset inserts the picture). Assistant turn:
``<think>{critique}</think><answer>{true score, two decimals}</answer>`` (Sec. 3.2: the critique
concatenated with the ground-truth score). Extra columns (id, dataset, score, level) are ignored by
verl and keep the set traceable.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from data_prep.prompts import SCORING_PROMPT
from recipe.aesr1.atomic_files import write_atomically
from recipe.aesr1.aescot.images import image_bytes
from recipe.aesr1.aescot.record_result import RecordResult

_MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
_IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
SFT_SCHEMA = pa.schema(
    [
        ("messages", pa.list_(_MESSAGE)),
        ("images", pa.list_(_IMAGE)),
        ("id", pa.string()),
        ("dataset", pa.string()),
        ("split", pa.string()),
        ("score", pa.float64()),
        ("raw_score", pa.float64()),
        ("level", pa.string()),
    ]
)


def sft_target(critique: str, score: float) -> str:
    """The assistant turn of Sec. 3.2: ``<think>critique</think><answer>0.73</answer>``."""
    return f"<think>{critique}</think><answer>{score:.2f}</answer>"


def sft_row(result: RecordResult, image: dict[str, Any], embed_image: bool) -> dict[str, Any]:
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
    """Write the kept records atomically; returns the row count."""
    rows = [sft_row(result, images[result.record_id], embed_images) for result in kept]
    table = pa.Table.from_pylist(rows, schema=SFT_SCHEMA)
    write_atomically(path, lambda temp_path: pq.write_table(table, temp_path))
    return len(rows)
