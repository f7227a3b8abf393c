"""Aes-R1 as a reward model for image-generation RL, and the framework adapters (see README)."""

from recipe.aesr1.reward_model.groups import GroupScore, rank_within_group, score_groups
from recipe.aesr1.reward_model.modes import MODES, ScoringMode, get_mode
from recipe.aesr1.reward_model.scorer import STATUSES, AestheticReward, ImageScore, RewardSettings

__all__ = [
    "MODES", "STATUSES", "AestheticReward", "GroupScore", "ImageScore", "RewardSettings", "ScoringMode", "get_mode",
    "rank_within_group", "score_groups",
]  # fmt: skip
