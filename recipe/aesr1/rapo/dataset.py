"""A loud count of the prompts verl's ``RLHFDataset`` drops as longer than ``data.max_prompt_length``.

With ``data.filter_overlong_prompts: true`` verl drops such rows at load time and says only
``filter dataset len: N`` on stdout (and, when every row goes, fails later in its sampler with
"num_samples should be a positive integer value"). An image outside the pixel budget
(``data_prep/pixel_budget.py``) is the usual cause: a 1024x768 image alone is ~1,000 visual tokens.

:class:`CountedRLHFDataset` is verl's ``RLHFDataset`` with its filter counted: the count is logged as a
warning, kept for the trainer's ``data/<split>_filtered_*`` metrics, and the dataset refuses to build
when more than ``data.max_filtered_share`` of its rows went. The configs select it through verl's own
``data.custom_cls`` (``pkg://recipe.aesr1.rapo.dataset`` / ``CountedRLHFDataset``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import datasets
from verl.utils.dataset.rl_dataset import RLHFDataset

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FilterCount:
    """Rows of one split before (``read``) and after (``kept``) verl's length filter."""

    files: str
    read: int
    kept: int

    @property
    def dropped(self) -> int:
        return self.read - self.kept

    @property
    def share(self) -> float:
        return self.dropped / self.read if self.read else 0.0

    def metrics(self, split: str) -> dict[str, float]:
        return {f"data/{split}_filtered_prompts": float(self.dropped), f"data/{split}_filtered_share": self.share}


def check_filtered(count: FilterCount, max_share: float, max_prompt_length: int) -> None:
    """Warn when verl dropped prompts; raise when it dropped more than ``max_share`` of them.

    Raises:
        ValueError: naming the files, the count and the ways out.
    """
    if count.dropped == 0:
        return
    message = (
        f"verl dropped {count.dropped} of {count.read} prompts ({count.share:.1%}) of {count.files} as longer "
        f"than data.max_prompt_length={max_prompt_length} tokens. Usual cause: images outside the pixel budget "
        "(convert with aesr1-prep, which fits them to data_prep/pixel_budget.py); a processor error counts too "
        "(verl's RLHFDataset prints its traceback)"
    )
    logger.warning(message)
    if count.share > max_share:
        raise ValueError(f"{message}. Stopping: more than data.max_filtered_share={max_share} of the rows")


class CountedRLHFDataset(RLHFDataset):
    """verl's ``RLHFDataset`` whose overlong-prompt filter is counted (``filter_count``) and bounded."""

    filter_count: FilterCount | None = None

    def maybe_filter_out_long_prompts(self, dataframe: datasets.Dataset = None) -> datasets.Dataset:
        read = len(dataframe)
        kept = super().maybe_filter_out_long_prompts(dataframe)
        self.filter_count = FilterCount(str(self.original_data_files), read, len(kept))
        if self.filter_overlong_prompts:
            check_filtered(self.filter_count, float(self.config.get("max_filtered_share", 0.0)), self.max_prompt_length)
        return kept
