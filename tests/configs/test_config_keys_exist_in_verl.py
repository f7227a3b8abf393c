"""Every key our YAMLs set already exists in verl's own config: hydra would silently add a misspelt one."""

import os

import pytest
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

CONFIGS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "configs"))
# Keys the recipe adds on purpose: its own section, and the kwargs verl passes to compute_score.
OWN_KEYS = ("rapo.", "reward.custom_reward_function.reward_kwargs.", "hydra.", "defaults")
# Keys verl reads with a default but leaves out of its YAML (MultiTurnSFTDataset: config.get("image_key", "images")),
# and data.max_filtered_share, read from the data config by the recipe's dataset (recipe.aesr1.rapo.dataset).
READ_WITH_DEFAULT = ("data.image_key", "data.max_filtered_share")


def exists(config, path):
    parent, _, key = path.rpartition(".")
    node = OmegaConf.select(config, parent) if parent else config
    return OmegaConf.is_dict(node) and key in node.keys()  # "in node" is False for a "???" value


def leaf_paths(node, prefix=""):
    if OmegaConf.is_dict(node):
        for key in node.keys():
            yield from leaf_paths(node._get_node(key), f"{prefix}{key}.")
    else:
        yield prefix[:-1]


@pytest.mark.parametrize(
    "ours, verls",
    [
        ("rapo_trainer.yaml", "ppo_trainer"),
        ("rapo_common.yaml", "ppo_trainer"),
        ("rapo_common.yaml", "ppo_megatron_trainer"),
        ("rapo_megatron_trainer.yaml", "ppo_megatron_trainer"),
        ("sft_trainer.yaml", "sft_trainer_engine"),
    ],
)
def test_keys_exist_in_verls_config(ours, verls):
    with initialize_config_module(config_module="verl.trainer.config", version_base=None):
        base = compose(verls)
    raw = OmegaConf.load(os.path.join(CONFIGS, ours))
    unknown = [
        path
        for path in leaf_paths(raw)
        if not path.startswith(OWN_KEYS) and path not in READ_WITH_DEFAULT and not exists(base, path)
    ]
    assert not unknown, f"{ours} sets keys that verl's {verls} does not have: {unknown}"
