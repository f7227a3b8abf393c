"""configs/sft_trainer.yaml composes with verl's sft_trainer_engine and carries Appendix C's SFT values."""

import os

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

CONFIGS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "configs"))


@pytest.fixture(scope="module")
def config():
    with initialize_config_dir(config_dir=CONFIGS, version_base=None):
        return compose("sft_trainer", overrides=["data.train_files=aescot.parquet"])


@pytest.mark.parametrize(
    "key, paper_value",
    [
        ("model.path", "Qwen/Qwen2.5-VL-7B-Instruct"),
        ("trainer.total_epochs", 1),  # 1 epoch of AesCoT
        ("data.train_batch_size", 64),  # global batch 64
        ("optim.lr", 1e-5),  # initial lr 1e-5
        ("data.messages_key", "messages"),
        ("data.image_key", "images"),  # images replace <image> in the turns
    ],
)
def test_paper_value_at_the_key_verl_reads(config, key, paper_value):
    assert OmegaConf.select(config, key, throw_on_missing=True) == paper_value


def test_verl_dataclasses_accept_model_and_optimizer(config):
    from verl.utils.config import omega_conf_to_dataclass

    optim = omega_conf_to_dataclass(config.optim)
    assert optim.lr == 1e-5 and optim.lr_scheduler_type == "cosine"
