"""Start-up checks of the RAPO keys of a composed config, run before Ray starts.

A misspelt reward, a reward function that is not ours, or a trainer mode the hook cannot serve
must fail here with the key at fault, not after the first rollout of a multi-GPU job.
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from recipe.aesr1.rapo.reward import reward_spec
from recipe.aesr1.rapo.scope import ComparisonScope
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


def check_rapo_config(config: DictConfig) -> RewardSpec:
    """Validate every key the RAPO recipe relies on; return the parsed reward.

    Raises:
        ValueError: with the config key at fault and what it must be.
    """
    spec = spec_from_config(config)
    ComparisonScope.from_config(config.rapo)  # rank_group_size / group_key / shuffled_groups
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
