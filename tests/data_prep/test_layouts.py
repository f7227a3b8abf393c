"""The two layouts' arrow tables: the fast column-wise builder against the row builders (the slow reference)."""

import pyarrow as pa

from data_prep.layouts import SCHEMAS, arrow_table, image_cell, rl_row, table_row


def _rows() -> list[dict]:
    cells = [image_cell(b"\xff\xd8jpeg", None), image_cell(None, "/data/ava/2.jpg"), image_cell(None, None)]
    return [
        table_row(
            id=str(i), dataset="ava", split="train" if i else "test", score=i / 4, raw_score=1 + i, vote_count=None if i == 1 else 200 + i,
            vote_std=None if i == 2 else 1.5, width=588, height=420 + i, image=cell,
        ) | {"index": 10 + i}
        for i, cell in enumerate(cells)
    ]


def test_the_table_layout_equals_the_row_builders():
    rows = _rows()
    expected = pa.Table.from_pylist([{k: v for k, v in row.items() if k != "index"} for row in rows], schema=SCHEMAS["table"])
    assert arrow_table("table", rows).equals(expected)


def test_the_rl_layout_equals_the_row_builders():
    rows = _rows()
    expected = pa.Table.from_pylist([rl_row(row, row["index"]) for row in rows], schema=SCHEMAS["rl"])
    built = arrow_table("rl", rows)
    assert built.equals(expected)
    assert built.column("extra_info").to_pylist()[2]["index"] == 12 and built.column("images").to_pylist()[1] == [rows[1]["image"]]
