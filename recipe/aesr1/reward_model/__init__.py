"""Aes-R1 as a reward model for image-generation RL, and the framework adapters (see README)."""

from recipe.aesr1.reward_model.modes import MODES, ScoringMode, get_mode
from recipe.aesr1.reward_model.scorer import STATUSES, AestheticReward, ImageScore, RewardSettings

__all__ = ["MODES", "STATUSES", "AestheticReward", "ImageScore", "RewardSettings", "ScoringMode", "get_mode"]
