"""configs/rapo_trainer.yaml (FSDP) and rapo_megatron_trainer.yaml compose with verl's ppo_trainer and carry
Aes-R1 Appendix C at the keys verl reads."""

import os

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

CONFIGS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "configs"))
REWARDS = sorted(f[: -len(".yaml")] for f in os.listdir(os.path.join(CONFIGS, "reward")) if f.endswith(".yaml"))
DATA = ["data.train_files=train.parquet", "data.val_files=val.parquet"]


BACKENDS = ["rapo_trainer", "rapo_megatron_trainer"]


def rapo_config(*overrides, name="rapo_trainer"):
    with initialize_config_dir(config_dir=CONFIGS, version_base=None):
        return compose(name, overrides=[*DATA, *overrides])


@pytest.fixture(scope="module", params=BACKENDS)
def config(request):
    return rapo_config(name=request.param)


@pytest.mark.parametrize(
    "key, paper_value",
    [
        ("actor_rollout_ref.model.path", "Qwen/Qwen2.5-VL-7B-Instruct"),  # backbone
        ("actor_rollout_ref.rollout.n", 4),  # K = 4
        ("rapo.reward.name", "error+rank"),  # Eq. 7
        ("rapo.reward.params.error.sigma", 0.1),  # sigma = 0.1
        ("actor_rollout_ref.actor.kl_loss_coef", 0.01),  # beta = 0.01
        ("actor_rollout_ref.actor.use_kl_loss", True),  # KL in the loss (Eq. 10)
        ("actor_rollout_ref.actor.kl_loss_type", "low_var_kl"),  # k3 estimator (Eq. 12)
        ("actor_rollout_ref.actor.clip_ratio_high", 0.28),  # epsilon_high = 0.28
        ("actor_rollout_ref.actor.clip_ratio_low", 0.2),  # epsilon_low = 0.2
        ("actor_rollout_ref.actor.optim.lr", 1e-6),  # RL lr 1e-6
        ("actor_rollout_ref.actor.ppo_mini_batch_size", 32),  # mini-batch 32
        ("data.train_batch_size", 32),  # one update per rollout batch of N = 32 images
        ("data.max_response_length", 1024),  # max completion length 1024
        ("trainer.total_epochs", 10),  # 10 epochs
        ("actor_rollout_ref.actor.loss_agg_mode", "seq-mean-token-mean"),  # Eq. 10's 1/|o| then 1/K
        ("actor_rollout_ref.actor.entropy_coeff", 0),  # no entropy bonus in Eq. 10
        ("algorithm.use_kl_in_reward", False),
        ("algorithm.adv_estimator", "grpo"),  # Eq. 9
        ("algorithm.norm_adv_by_std_in_grpo", True),  # Eq. 9 divides by sigma(R_i)
        ("rapo.rank_group_size", None),  # Sec. 3.3: the whole mini training batch
        ("trainer.use_v1", True),
        ("trainer.v1.trainer_mode", "sync"),
        ("reward.custom_reward_function.path", "pkg://recipe.aesr1.rapo.reward"),
        ("reward.custom_reward_function.name", "compute_score"),
    ],
)
def test_paper_value_at_the_key_verl_reads(config, key, paper_value):
    assert OmegaConf.select(config, key, throw_on_missing=True) == paper_value


def test_verl_dataclasses_accept_the_actor_and_rollout(config):
    from verl.utils.config import omega_conf_to_dataclass

    OmegaConf.resolve(config)
    actor = omega_conf_to_dataclass(config.actor_rollout_ref.actor)
    assert (actor.clip_ratio_low, actor.clip_ratio_high, actor.loss_agg_mode) == (0.2, 0.28, "seq-mean-token-mean")
    if config.model_engine == "megatron":  # the paper's linear decay to 0, on 2-way tensor parallel
        assert type(actor).__name__ == "McoreActorConfig" and type(actor.optim).__name__ == "McoreOptimizerConfig"
        assert (actor.optim.lr_decay_style, actor.optim.min_lr) == ("linear", 0.0)
        assert actor.megatron.tensor_model_parallel_size == 2
        assert omega_conf_to_dataclass(config.actor_rollout_ref.ref.megatron).tensor_model_parallel_size == 2
    else:
        assert actor.strategy == "fsdp" and actor.optim.min_lr_ratio == 0.0
        assert actor.optim.lr_scheduler_type == "cosine"  # nearest to the paper's linear decay that FSDP has
    rollout = omega_conf_to_dataclass(config.actor_rollout_ref.rollout)
    assert rollout.n == 4 and rollout.response_length == 1024


def test_main_rapo_start_up_checks_pass_for_the_paper_config(config):
    from recipe.aesr1.rapo.main import check_config

    check_config(config)  # RAPO keys, then verl's own validate_config


@pytest.mark.parametrize("reward", REWARDS)
def test_every_reward_yaml_reaches_the_reward_function(reward):
    from recipe.aesr1.rapo.config import check_rapo_config

    config = rapo_config(f"reward@rapo.reward={reward}")
    spec = check_rapo_config(config)
    kwargs = OmegaConf.to_container(config.reward.custom_reward_function.reward_kwargs, resolve=True)
    assert kwargs["reward"] == spec.name == config.rapo.reward.name


def test_a_reward_of_ones_own_can_be_set_on_the_command_line():
    from recipe.aesr1.rapo.config import check_rapo_config

    config = rapo_config(
        "reward@rapo.reward=error", "rapo.reward.name=error+consistency", "+rapo.reward.weights.consistency=0.5"
    )
    spec = check_rapo_config(config)
    assert spec.batch_terms == ("consistency",) and spec.weight("consistency") == 0.5


def test_unknown_reward_term_names_the_key_and_known_terms():
    from recipe.aesr1.rapo.config import check_rapo_config

    with pytest.raises(ValueError, match=r"rapo\.reward.*'rnak'.*known terms"):
        check_rapo_config(rapo_config("rapo.reward.name=error+rnak"))


def test_reward_kwargs_set_apart_from_rapo_reward_are_rejected():
    from recipe.aesr1.rapo.config import check_rapo_config

    with pytest.raises(ValueError, match="reward_kwargs"):
        check_rapo_config(rapo_config("reward.custom_reward_function.reward_kwargs.reward=binary"))


def test_bad_rank_group_size_is_rejected():
    from recipe.aesr1.rapo.config import check_rapo_config

    with pytest.raises(ValueError, match="rapo.rank_group_size"):
        check_rapo_config(rapo_config("rapo.rank_group_size=1"))


def test_async_trainer_mode_is_rejected():
    from recipe.aesr1.rapo.config import check_rapo_config

    with pytest.raises(ValueError, match="trainer_mode"):
        check_rapo_config(rapo_config("trainer.v1.trainer_mode=colocate_async"))
