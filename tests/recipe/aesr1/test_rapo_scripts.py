"""The launch scripts pass overrides that compose with configs/, and merge the checkpoint they trained.

The GPU jobs themselves are not run: ``python3`` and ``torchrun`` are replaced on PATH by a recorder
that writes its arguments, and the recorded hydra overrides are then composed and checked here.
"""

import os
import subprocess

import pytest
from hydra import compose, initialize_config_dir
from launch_recorder import record_script

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SCRIPTS = os.path.join(ROOT, "recipe", "aesr1", "scripts")


def run_script(name, tmp_path, **env):
    result, calls = record_script(os.path.join(SCRIPTS, name), tmp_path, "trainer.save_freq=7", **env)
    assert result.returncode == 0, result.stderr
    return calls


def overrides_after(argv, marker):
    return argv[argv.index(marker) + 1 :]


def compose_rapo(overrides, name="rapo_trainer"):
    with initialize_config_dir(config_dir=os.path.join(ROOT, "configs"), version_base=None):
        return compose(name, overrides=overrides)


def test_rapo_script_composes_and_merges_the_actor(tmp_path):
    from recipe.aesr1.rapo_config import check_rapo_config

    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "latest_checkpointed_iteration.txt").write_text("42")
    train, merge = run_script("run_qwen2_5_vl_7b_rapo_fsdp.sh", tmp_path, CKPT_DIR=str(ckpt), RANK_GROUP_SIZE="8")
    config = compose_rapo(overrides_after(train, "recipe.aesr1.main_rapo"))
    assert check_rapo_config(config).name == "error+rank"
    assert config.rapo.rank_group_size == 8 and config.trainer.save_freq == 7  # knobs and "$@" reach hydra
    assert merge[merge.index("--local_dir") + 1] == f"{ckpt}/global_step_42/actor"
    assert merge[merge.index("--backend") + 1] == "fsdp"


@pytest.mark.parametrize(
    "script, model, tp, rollout_tp, ref_offload",
    [
        ("run_qwen2_5_vl_7b_rapo_megatron.sh", "/sft/hf", 2, 2, False),
        ("run_qwen2_5_vl_32b_rapo_megatron.sh", "Qwen/Qwen2.5-VL-32B-Instruct", 8, 4, True),
    ],
)
def test_megatron_scripts_compose_with_the_megatron_config(tmp_path, script, model, tp, rollout_tp, ref_offload):
    from recipe.aesr1.main_rapo import check_config

    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "latest_checkpointed_iteration.txt").write_text("5")
    env = {"CKPT_DIR": str(ckpt)} | ({"MODEL_PATH": "/sft/hf"} if "7b" in script else {})
    train, merge = run_script(script, tmp_path, **env)
    args = overrides_after(train, "recipe.aesr1.main_rapo")
    assert args[0] == "--config-name=rapo_megatron_trainer"
    config = compose_rapo(args[1:], name="rapo_megatron_trainer")
    check_config(config)  # RAPO keys, then verl's validate_config
    megatron = config.actor_rollout_ref.actor.megatron
    assert (config.model_engine, config.actor_rollout_ref.model.path) == ("megatron", model)
    assert megatron.tensor_model_parallel_size == tp
    assert config.actor_rollout_ref.rollout.tensor_model_parallel_size == rollout_tp
    assert config.actor_rollout_ref.ref.megatron.param_offload is ref_offload
    assert config.actor_rollout_ref.actor.optim.lr_decay_style == "linear" and config.trainer.save_freq == 7
    assert merge[merge.index("--backend") + 1] == "megatron"
    assert merge[merge.index("--local_dir") + 1] == f"{ckpt}/global_step_5/actor"


def test_ablation_script_runs_each_reward_from_the_base_model(tmp_path):
    from recipe.aesr1.rapo_config import check_rapo_config

    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "latest_checkpointed_iteration.txt").write_text("1")
    calls = run_script(
        "run_qwen2_5_vl_7b_reward_ablation_fsdp.sh", tmp_path, REWARDS="binary thurstone", CKPT_DIR=str(ckpt)
    )
    trains = [c for c in calls if "recipe.aesr1.main_rapo" in c]
    names = [check_rapo_config(compose_rapo(overrides_after(c, "recipe.aesr1.main_rapo"))).name for c in trains]
    assert names == ["binary", "thurstone"]
    assert all("actor_rollout_ref.model.path=Qwen/Qwen2.5-VL-7B-Instruct" in c for c in trains)


def test_sft_script_composes_with_verls_sft_config(tmp_path):
    ckpt = tmp_path / "sft"
    ckpt.mkdir()
    (ckpt / "latest_checkpointed_iteration.txt").write_text("3")
    check, train, merge = run_script("run_qwen2_5_vl_7b_sft_fsdp.sh", tmp_path, CKPT_DIR=str(ckpt))
    assert check == ["python3", "-m", "recipe.aesr1.processor_check", "Qwen/Qwen2.5-VL-7B-Instruct"]  # before training
    assert train[0] == "torchrun" and "verl.trainer.sft_trainer" in train
    assert not any(arg.startswith(("trainer.nnodes", "trainer.n_gpus_per_node")) for arg in train)  # torchrun's job
    with initialize_config_dir(config_dir=os.path.join(ROOT, "configs"), version_base=None):
        config = compose("sft_trainer", overrides=overrides_after(train, "--config-name=sft_trainer"))
    assert config.trainer.total_epochs == 1 and config.data.train_batch_size == 64
    assert merge[merge.index("--local_dir") + 1] == f"{ckpt}/global_step_3"


def test_shared_dir_check_passes_only_when_every_node_marker_is_seen(tmp_path):
    script = os.path.join(SCRIPTS, "check_shared_dir.sh")
    alone = subprocess.run(["bash", script, str(tmp_path), "2", "0", "1"], capture_output=True, text=True)
    assert alone.returncode == 1 and "does not see the markers of node(s) 1" in alone.stderr
    (tmp_path / ".shared_dir_check" / "node_1").write_text("other-host")  # what node 1 writes on a shared disk
    both = subprocess.run(["bash", script, str(tmp_path), "2", "0", "1"], capture_output=True, text=True)
    assert both.returncode == 0, both.stderr


def test_multi_node_rapo_refuses_a_relative_checkpoint_dir():
    from recipe.aesr1.main_rapo import check_shared_checkpoint_dir

    data = ["data.train_files=x", "data.val_files=y"]
    with pytest.raises(ValueError, match=r"trainer.default_local_dir='checkpoints/aesr1/.*relative.*share"):
        check_shared_checkpoint_dir(compose_rapo([*data, "trainer.nnodes=2"]))
    check_shared_checkpoint_dir(compose_rapo([*data, "trainer.nnodes=2", "trainer.default_local_dir=/shared/ckpt"]))
    check_shared_checkpoint_dir(compose_rapo(data))  # one node: any path


def test_merge_without_a_checkpoint_fails_clearly(tmp_path):
    result = subprocess.run(
        ["bash", os.path.join(SCRIPTS, "merge_to_hf.sh"), str(tmp_path), str(tmp_path / "hf")],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "latest_checkpointed_iteration.txt" in result.stderr


@pytest.mark.parametrize("name", sorted(f for f in os.listdir(SCRIPTS) if f.endswith(".sh")))
def test_scripts_parse(name):
    subprocess.run(["bash", "-n", os.path.join(SCRIPTS, name)], check=True)
