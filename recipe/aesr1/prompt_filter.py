"""A loud count of the prompts verl's ``RLHFDataset`` drops as longer than ``data.max_prompt_length``.

With ``data.filter_overlong_prompts: true`` verl drops such rows at load time and says only
``filter dataset len: N`` on stdout. An image outside the pixel budget (``data_prep/pixel_budget.py``)
is the usual cause: a 1024x768 image alone is ~1,000 visual tokens. Here the rows read are counted from
the parquet footers, the drop is logged as a warning and as ``data/<split>_filtered_prompts`` metrics,
and the run stops at start-up when more than ``rapo.max_filtered_share`` of a split is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow.parquet as pq

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FilterCount:
    """Rows of one split before (``read``) and after (``kept``) verl's length filter."""

    split: str
    read: int
    kept: int

    @property
    def dropped(self) -> int:
        return self.read - self.kept

    @property
    def share(self) -> float:
        return self.dropped / self.read if self.read else 0.0

    def metrics(self) -> dict[str, float]:
        return {f"data/{self.split}_filtered_prompts": float(self.dropped), f"data/{self.split}_filtered_share": self.share}


def rows_read(files: Sequence[str], max_samples: int = -1) -> int:
    """Rows verl's ``RLHFDataset`` reads before its length filter: every file's rows, capped by ``max_samples``.

    Raises:
        ValueError: for a file that is not parquet (the recipe's data are; verl also reads JSON).
    """
    total = 0
    for path in files:
        if not str(path).endswith(".parquet"):
            raise ValueError(f"{path}: the filtered-prompt count reads parquet footers; convert the file to parquet")
        total += pq.read_metadata(path).num_rows
    return min(total, max_samples) if max_samples > 0 else total


def check_filtered(count: FilterCount, max_share: float, max_prompt_length: int) -> None:
    """Warn when verl dropped prompts; raise when it dropped more than ``max_share`` of the split.

    Raises:
        ValueError: naming the split, the count and the two ways out.
    """
    if count.dropped == 0:
        return
    message = (
        f"verl dropped {count.dropped} of {count.read} {count.split} prompts ({count.share:.1%}) as longer than "
        f"data.max_prompt_length={max_prompt_length} tokens. Usual cause: images outside the pixel budget "
        "(convert with aesr1-prep, which fits them to data_prep/pixel_budget.py); a processor error counts too "
        "(verl's RLHFDataset prints its traceback)"
    )
    logger.warning(message)
    if count.share > max_share:
        raise ValueError(f"{message}. Stopping: more than rapo.max_filtered_share={max_share} of the split")
