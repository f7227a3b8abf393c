"""Pure reward functions for aesthetic scoring with RL (numpy/torch only; no verl import).

Public API (names and argument orders are stable; other parts of the project call them):
``parse_answer``, ``error_reward`` (Eq. 6), ``binary_reward`` (Eq. 13), ``rank_reward`` (Eqs. 3-5),
``thurstone_reward`` (VisualQuality-R1), ``consistency_reward`` (RED-Aes Eq. 6), ``RewardSpec`` /
``compute_rewards`` / ``sample_rewards`` (rewards named by their terms, e.g. ``"error+rank"``), and
``group_by_id`` (flat trajectories to the (N, K) batch interface).
"""

from importlib import import_module

# Imported on first use: parse_answer alone needs neither numpy nor torch, and CLIs that only parse
# answers should not pay torch's import time.
_WHERE = {
    "TERMS": "combine", "RewardBreakdown": "combine", "RewardSpec": "combine", "compute_rewards": "combine",
    "format_reward": "combine", "sample_rewards": "combine", "consistency_reward": "consistency",
    "GroupedBatch": "grouping", "group_by_id": "grouping", "ParsedAnswer": "parsing", "parse_answer": "parsing",
    "binary_reward": "pointwise", "error_reward": "pointwise", "rank_reward": "rank", "thurstone_reward": "rank",
}


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'reward_fns' has no attribute {name!r}")
    value = getattr(import_module(f"reward_fns.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


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
