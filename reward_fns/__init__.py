"""Pure reward functions for aesthetic scoring with RL (numpy/torch only; no verl import).

Public API (names and argument orders are stable; other parts of the project call them):
``parse_answer``, ``error_reward`` (Eq. 6), ``binary_reward`` (Eq. 13), ``rank_reward`` (Eqs. 3-5),
``thurstone_reward`` (VisualQuality-R1), ``consistency_reward`` (RED-Aes Eq. 6), ``RewardSpec`` /
``compute_rewards`` / ``sample_rewards`` (rewards named by their terms, e.g. ``"error+rank"``), and
``group_by_id`` (flat trajectories to the (N, K) batch interface).
"""

from reward_fns.combine import TERMS, RewardBreakdown, RewardSpec, compute_rewards, format_reward, sample_rewards
from reward_fns.consistency import consistency_reward
from reward_fns.grouping import GroupedBatch, group_by_id
from reward_fns.parsing import ParsedAnswer, parse_answer
from reward_fns.pointwise import binary_reward, error_reward
from reward_fns.rank import rank_reward, thurstone_reward

__all__ = [
    "TERMS",
    "GroupedBatch",
    "ParsedAnswer",
    "RewardBreakdown",
    "RewardSpec",
    "binary_reward",
    "compute_rewards",
    "consistency_reward",
    "error_reward",
    "format_reward",
    "group_by_id",
    "parse_answer",
    "rank_reward",
    "sample_rewards",
    "thurstone_reward",
]
