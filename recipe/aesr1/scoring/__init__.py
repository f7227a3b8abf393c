"""A judge at inference: backends, the per-image verdict, ``AestheticReward``, group scoring, inputs, Ray.

``backends`` (transformers, vLLM, any OpenAI-compatible endpoint) generate; ``records`` reads each
sample (``sample_record``) and keeps resumable JSONL; ``scorer.AestheticReward`` batches, retries and
summarises samples into one ``ImageScore`` per image; ``groups`` ranks images within groups;
``inputs`` expands files, folders, globs, listings and tables into items; ``ray_scoring`` runs it on a
Ray cluster. Benchmarks (Tables 1-4) are ``evaluation``; the photo front (``aesr1-score``) is ``curation``.
"""

from recipe.aesr1.scoring.groups import GroupScore, rank_within_group, score_groups
from recipe.aesr1.scoring.modes import MODES, ScoringMode, get_mode
from recipe.aesr1.scoring.scorer import (
    STATUSES,
    AestheticReward,
    ImageScore,
    RewardSettings,
)

__all__ = [
    "MODES", "STATUSES", "AestheticReward", "GroupScore", "ImageScore", "RewardSettings", "ScoringMode", "get_mode",
    "rank_within_group", "score_groups",
]  # fmt: skip
