"""Start-up checks of the RAPO keys of a composed config, run before Ray starts.

A misspelt reward, a reward function that is not ours, or a trainer mode the hook cannot serve
must fail here with the key at fault, not after the first rollout of a multi-GPU job.
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from recipe.aesr1.rapo.batch_terms import comparison_groups
from recipe.aesr1.rapo.reward import reward_spec
from reward_fns import RewardSpec

REWARD_FUNCTION_PATH = "pkg://recipe.aesr1.rapo.reward"
REWARD_FUNCTION_NAME = "compute_score"


def spec_from_config(config: DictConfig) -> RewardSpec:
    """The reward named at ``rapo.reward`` (``name``, ``weights``, ``params``), parsed.

    Raises:
        ValueError: naming the key and listing the known terms when the reward is not valid.
    """
    reward = config.rapo.reward
    try:
        return reward_spec(reward.name, reward.get("weights"), reward.get("params"))
    except ValueError as err:
        raise ValueError(f"config key rapo.reward: {err}") from err


def rank_group_size_from_config(config: DictConfig) -> int | None:
    """``rapo.rank_group_size``: None (whole batch) or an integer >= 2."""
    size = config.rapo.get("rank_group_size")
    try:
        comparison_groups([], size)
    except ValueError as err:
        raise ValueError(f"config key {err}") from err
    return size


def group_scope_from_config(config: DictConfig) -> tuple[str | None, bool]:
    """``(rapo.group_key, rapo.shuffled_groups)``: compare images only within the group named by
    ``extra_info[group_key]`` (RED-Aes source-edit groups), optionally shuffled (its Table 2 ablation)."""
    key = config.rapo.get("group_key")
    shuffled = config.rapo.get("shuffled_groups", False)
    if key is not None and (not isinstance(key, str) or not key):
        raise ValueError(f"config key rapo.group_key must be null or a non-empty extra_info field name, got {key!r}")
    if not isinstance(shuffled, bool):
        raise ValueError(f"config key rapo.shuffled_groups must be true or false, got {shuffled!r}")
    if shuffled and key is None:
        raise ValueError("config key rapo.shuffled_groups=true needs rapo.group_key (the groups to shuffle)")
    if key is not None and config.rapo.get("rank_group_size") is not None:
        raise ValueError("config keys rapo.group_key and rapo.rank_group_size both set a comparison scope; set one")
    return key, shuffled


def check_rapo_config(config: DictConfig) -> RewardSpec:
    """Validate every key the RAPO recipe relies on; return the parsed reward.

    Raises:
        ValueError: with the config key at fault and what it must be.
    """
    spec = spec_from_config(config)
    rank_group_size_from_config(config)
    group_scope_from_config(config)
    fn = config.reward.custom_reward_function
    if fn.path != REWARD_FUNCTION_PATH or fn.name != REWARD_FUNCTION_NAME:
        raise ValueError(
            f"config keys reward.custom_reward_function.path/name must be {REWARD_FUNCTION_PATH!r}/"
            f"{REWARD_FUNCTION_NAME!r} (the per-sample half of the reward), got {fn.path!r}/{fn.name!r}"
        )
    kwargs = OmegaConf.to_container(fn.get("reward_kwargs", {}), resolve=True)
    try:
        sample_spec = reward_spec(kwargs.get("reward"), kwargs.get("weights"), kwargs.get("params"))
    except ValueError as err:
        raise ValueError(f"config key reward.custom_reward_function.reward_kwargs: {err}") from err
    if sample_spec != spec:
        raise ValueError(
            "config key reward.custom_reward_function.reward_kwargs describes a different reward "
            f"({sample_spec.name!r}) than rapo.reward ({spec.name!r}); set the reward only at rapo.reward"
        )
    if not config.trainer.get("use_v1", False) or config.trainer.v1.trainer_mode != "sync":
        raise ValueError(
            "config keys trainer.use_v1=true and trainer.v1.trainer_mode=sync are required: the RAPO hook "
            "subclasses verl's synchronous v1 trainer"
        )
    return spec
