"""The two parquet layouts of the data contract, as arrow schemas and row builders.

(b) ``table``: one row per image — ``id, dataset, split, score, raw_score, vote_count, vote_std,
width, height, image`` — read by evaluation and the AesCoT pipeline.
(a) ``rl``: verl's RLHFDataset schema — ``data_source, ability, prompt, images, reward_model,
extra_info`` with the Appendix B scoring prompt.

Image columns carry ``datasets.Image()`` in the parquet's Hugging Face metadata, so that
``datasets.load_dataset("parquet")`` (used by verl) decodes them to PIL images whether they hold
bytes or an absolute path.
"""

from __future__ import annotations

import datasets
import pyarrow as pa
from datasets import Features, List, Value

from data_prep.prompts import SCORING_PROMPT

LAYOUTS = ("table", "rl")
ABILITY = "aesthetic"

_IMAGE = datasets.Image()

TABLE_FEATURES = Features(
    {
        "id": Value("string"),
        "dataset": Value("string"),
        "split": Value("string"),
        "score": Value("float64"),
        "raw_score": Value("float64"),
        "vote_count": Value("int64"),
        "vote_std": Value("float64"),
        "width": Value("int32"),
        "height": Value("int32"),
        "image": _IMAGE,
    }
)

RL_FEATURES = Features(
    {
        "data_source": Value("string"),
        "ability": Value("string"),
        "prompt": List({"role": Value("string"), "content": Value("string")}),
        "images": List(_IMAGE),
        "reward_model": {"style": Value("string"), "ground_truth": Value("float64")},
        "extra_info": {
            "id": Value("string"),
            "dataset": Value("string"),
            "split": Value("string"),
            "score": Value("float64"),
            "raw_score": Value("float64"),
            "index": Value("int64"),
            "vote_count": Value("int64"),
            "vote_std": Value("float64"),
        },
    }
)

SCHEMAS: dict[str, pa.Schema] = {"table": TABLE_FEATURES.arrow_schema, "rl": RL_FEATURES.arrow_schema}


def image_cell(data: bytes | None, path: str | None) -> dict:
    """The ``{bytes, path}`` struct of ``datasets.Image()``: embedded bytes, or an absolute path."""
    return {"bytes": data, "path": None if data is not None else path}


def table_row(
    *, id: str, dataset: str, split: str, score: float, raw_score: float, vote_count: int | None,
    vote_std: float | None, width: int, height: int, image: dict,
) -> dict:
    """One row of the evaluation table (layout b)."""
    return {
        "id": id, "dataset": dataset, "split": split, "score": score, "raw_score": raw_score,
        "vote_count": vote_count, "vote_std": vote_std, "width": width, "height": height, "image": image,
    }


def rl_row(table: dict, index: int) -> dict:
    """The RLHFDataset row (layout a) for one table row; ``index`` is its position in the file set."""
    return {
        "data_source": table["dataset"],
        "ability": ABILITY,
        "prompt": [{"role": "user", "content": SCORING_PROMPT}],
        "images": [table["image"]],
        "reward_model": {"style": "rule", "ground_truth": table["score"]},
        "extra_info": {
            "id": table["id"], "dataset": table["dataset"], "split": table["split"], "score": table["score"],
            "raw_score": table["raw_score"], "index": index, "vote_count": table["vote_count"], "vote_std": table["vote_std"],
        },
    }


# Column names of the image bytes inside each layout's parquet: JPEG/PNG bytes do not compress, so
# the writer stores them uncompressed (zstd spent CPU on them for nothing).
IMAGE_BYTES_COLUMNS = {"table": "image.bytes", "rl": "images.list.element.bytes"}

_TABLE_SCALARS = ("id", "dataset", "split", "score", "raw_score", "vote_count", "vote_std", "width", "height")


def _image_structs(cells: list[dict]) -> pa.StructArray:
    # Built column by column: pa.Table.from_pylist spent seconds per GB converting nested binary values.
    return pa.StructArray.from_arrays(
        [pa.array([cell["bytes"] for cell in cells], pa.binary()), pa.array([cell["path"] for cell in cells], pa.string())],
        names=["bytes", "path"],
    )


def arrow_table(layout: str, rows: list[dict]) -> pa.Table:
    """The arrow table of ``layout`` for table rows (``table_row`` dicts); rl rows are derived as ``rl_row`` does.

    ``rows`` are the table layout's rows in both cases; the rl layout's ``extra_info.index`` counts
    from ``rows[i]["index"]``. Equivalent to ``pa.Table.from_pylist`` of the row builders, much faster.
    """
    schema = SCHEMAS[layout]
    types = SCHEMAS["table"]
    column = {name: pa.array([row[name] for row in rows], types.field(name).type) for name in _TABLE_SCALARS}
    images = _image_structs([row["image"] for row in rows])
    if layout == "table":
        return pa.Table.from_arrays([*(column[name] for name in _TABLE_SCALARS), images], schema=schema)
    n = len(rows)
    index = pa.array([row["index"] for row in rows], pa.int64())
    extra = schema.field("extra_info").type
    arrays = [
        column["dataset"],
        pa.array([ABILITY] * n, pa.string()),
        pa.array([[{"role": "user", "content": SCORING_PROMPT}]] * n, schema.field("prompt").type),
        pa.ListArray.from_arrays(pa.array(range(n + 1), pa.int32()), images),
        pa.StructArray.from_arrays([pa.array(["rule"] * n, pa.string()), column["score"]], names=["style", "ground_truth"]),
        pa.StructArray.from_arrays(
            [index if name == "index" else column[name] for name in extra.names], fields=list(extra),
        ),
    ]
    return pa.Table.from_arrays(arrays, schema=schema)
