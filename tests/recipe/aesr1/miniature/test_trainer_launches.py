"""The main job's SFT and RAPO stages launch the scripts a GPU user runs, with one CPU process's knobs.

``stages.sft_command`` / ``stages.rapo_command`` are run with ``python3`` and ``torchrun`` replaced by a
recorder (``launch_recorder``): the calls are the scripts' (processor check, trainer, merge), and their
hydra overrides compose to the CPU backend with the miniature's sizes. The real runs are in
``test_trainers_on_cpu.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from launch_recorder import record_command

from recipe.aesr1.miniature import stages
from recipe.aesr1.miniature.settings import MiniatureSizes

SIZES = MiniatureSizes(sft_steps=6, sft_batch_size=4, rapo_steps=4, rapo_batch_size=8, rapo_val_images=8)
# knobs a user may have exported for a GPU run: the miniature sets every knob, so none of these reaches it
USER_SHELL = {"GPUS_PER_NODE": "8", "NNODES": "2", "REWARD": "binary", "RANK_GROUP_SIZE": "8", "CKPT_DIR": "/gpu/ckpt",
              "MODEL_PATH": "/gpu/model", "ROLLOUT_TP": "4", "EPOCHS": "3", "BACKEND": "megatron"}


def compose_overrides(config_name: str, overrides: list[str]):
    keep = [word for word in overrides if not word.startswith("hydra.")]  # hydra's own keys are not in the config
    with initialize_config_dir(config_dir=str(stages.CONFIG_DIR), version_base=None):
        return compose(config_name, overrides=keep)


def finished_run(checkpoints: Path, step: int) -> None:
    checkpoints.mkdir(parents=True)
    (checkpoints / "latest_checkpointed_iteration.txt").write_text(str(step))


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A main job's folder with the RL shards the RAPO stage reads (empty: only their names matter here)."""
    rl = tmp_path / "out" / "data" / "ava" / "rl"
    rl.mkdir(parents=True)
    for split in ("train", "test"):
        (rl / f"{split}-00000-of-00001.parquet").touch()
    return tmp_path / "out"


def test_sft_stage_runs_the_sft_script_on_one_cpu_rank(out, tmp_path):
    command = stages.sft_command(out, SIZES)
    assert command[command.index("bash") + 1] == str(stages.SCRIPTS / "run_qwen2_5_vl_7b_sft_fsdp.sh")
    finished_run(out / "sft" / "checkpoints", SIZES.sft_steps)
    result, calls = record_command(["env", "MASTER_PORT=4321", *command[1:]], tmp_path, **USER_SHELL)
    assert result.returncode == 0, result.stderr
    check, train, merge = calls
    assert check == ["python3", "-m", "recipe.aesr1.rapo.processor_check", str(out / "models" / "base")]
    assert train[:7] == ["torchrun", "--nnodes=1", "--node_rank=0", "--nproc_per_node=1", "--master_addr=127.0.0.1",
                         "--master_port=4321", "-m"]  # fmt: skip
    assert train[train.index("--config-path=" + str(stages.CONFIG_DIR)) + 1] == "--config-name=sft_trainer"
    config = compose_overrides("sft_trainer", train[train.index("--config-name=sft_trainer") + 1 :])
    assert (config.trainer.device, config.engine.strategy, config.model.path) == ("cpu", "fsdp2", str(out / "models" / "base"))
    assert config.data.train_files == str(out / "aescot" / "aescot_sft.parquet") and config.data.val_files is None
    assert (config.trainer.total_training_steps, config.trainer.save_freq, config.trainer.total_epochs) == (6, 6, 100000)
    assert (config.data.train_batch_size, config.data.micro_batch_size_per_gpu) == (4, 4)
    assert config.trainer.default_local_dir == str(out / "sft" / "checkpoints")
    assert list(config.trainer.logger) == ["console", "file"] and config.trainer.experiment_name == "miniature_sft"
    assert merge == ["python3", "-m", "verl.model_merger", "merge", "--backend", "fsdp", "--local_dir",
                     f"{out}/sft/checkpoints/global_step_6", "--target_dir", str(out / "models" / "sft")]  # fmt: skip


def test_rapo_stage_runs_the_rapo_script_on_the_cpu_backend(out, tmp_path):
    from recipe.aesr1.rapo.config import check_rapo_config

    folder, target = out / "rapo", out / "models" / "rapo"
    command = stages.rapo_command(out, SIZES, out / "models" / "sft", folder, target)
    assert command[command.index("bash") + 1] == str(stages.SCRIPTS / "run_qwen2_5_vl_7b_rapo_fsdp.sh")
    finished_run(folder / "checkpoints", SIZES.rapo_steps)
    result, calls = record_command(command, tmp_path, **USER_SHELL)
    assert result.returncode == 0, result.stderr
    train, merge = calls
    config = compose_overrides("rapo_trainer", train[train.index("recipe.aesr1.rapo.main") + 1 :])
    assert check_rapo_config(config).name == "error+rank" and config.rapo.rank_group_size is None
    assert (config.trainer.device, config.trainer.n_gpus_per_node, config.trainer.nnodes) == ("cpu", 1, 1)
    rollout = config.actor_rollout_ref.rollout
    assert (rollout.name, rollout.tensor_model_parallel_size, rollout.seed) == ("hf", 1, SIZES.rapo_seed)
    assert config.actor_rollout_ref.model.path == str(out / "models" / "sft")
    assert config.data.train_files == str(out / "data" / "ava" / "rl" / "train-00000-of-00001.parquet")
    assert config.data.val_files == str(out / "data" / "ava" / "rl" / "test-00000-of-00001.parquet")
    assert (config.data.train_batch_size, config.actor_rollout_ref.actor.ppo_mini_batch_size) == (8, 8)
    assert (config.trainer.total_training_steps, config.trainer.save_freq, config.trainer.test_freq) == (4, 2, 1)
    assert config.trainer.default_local_dir == str(folder / "checkpoints")
    assert merge == ["python3", "-m", "verl.model_merger", "merge", "--backend", "fsdp", "--local_dir",
                     f"{folder}/checkpoints/global_step_4/actor", "--target_dir", str(target)]  # fmt: skip


def test_rapo_stage_extra_overrides_come_last(out, tmp_path):
    """A sweep's reward (``rapo_sweep``) and a test's scope reach hydra after the script's own choices."""
    from recipe.aesr1.rapo.config import check_rapo_config

    extra = ["reward@rapo.reward=rank", "rapo.rank_group_size=4"]
    grouped = tmp_path / "grouped.parquet"
    command = stages.rapo_command(out, SIZES, out / "models" / "sft", out / "r", out / "m", extra, train_files=grouped)
    assert command[-2:] == extra
    _, calls = record_command(command, tmp_path)
    config = compose_overrides("rapo_trainer", calls[0][calls[0].index("recipe.aesr1.rapo.main") + 1 :])
    assert check_rapo_config(config).name == "rank" and config.rapo.rank_group_size == 4
    assert config.data.train_files == str(grouped)


def test_the_record_that_decides_a_resume_holds_the_script_and_its_knobs(out):
    """``start_or_resume`` compares the whole command: other sizes or another knob start afresh."""
    command = stages.sft_command(out, SIZES)
    assert command[0] == "env" and f"CKPT_DIR={out / 'sft' / 'checkpoints'}" in command
    assert not any(word.startswith("MASTER_PORT=") for word in command)  # chosen at each launch
    assert stages.sft_command(out, SIZES) == command
    assert stages.sft_command(out, MiniatureSizes(sft_steps=7, sft_batch_size=4)) != command
