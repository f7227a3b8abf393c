"""The launch scripts pass overrides that compose with configs/, and merge the checkpoint they trained.

The GPU jobs themselves are not run: ``python3`` and ``torchrun`` are replaced on PATH by a recorder
that writes its arguments, and the recorded hydra overrides are then composed and checked here.
LAUNCHES pins what each script runs to what it ran before the scripts shared knobs.sh.
"""

import os
import shlex
import subprocess

import pytest
from hydra import compose, initialize_config_dir
from launch_recorder import record_script

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
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


# Every knob a launch script reads, blanked so that the caller's environment cannot change a scenario
# (the scripts read ``${KNOB:-default}``, which treats empty as unset).
KNOBS = (
    "MODEL_PATH TRAIN_FILES VAL_FILES EXPERIMENT CKPT_DIR HF_DIR GPUS_PER_NODE NNODES NODE_RANK MASTER_ADDR"
    " MASTER_PORT ROLLOUT_TP RAY_ADDRESS REWARD REWARDS RANK_GROUP_SIZE TP PP REF_PARAM_OFFLOAD EPOCHS EPOCH_LIST"
    " CONFIG_DIR BACKEND DATA_DIR PT_FILES SHUFFLED CONFIG SOURCES EVALUATION OUTPUT_DIR"
).split()
USER_ARGS = ["trainer.save_freq=7"]  # what a user adds at the end of the command line


def launch(script, tmp_path, env):
    """``bash ROOT/script trainer.save_freq=7`` with HOME=/home/u and ``env`` ({tmp}: tmp_path), every tool
    recorded; {tmp}/ckpt is a finished run (step 3) on a disk that every node of a 2-node job shares."""
    ckpt = tmp_path / "ckpt"
    (ckpt / ".shared_dir_check").mkdir(parents=True)
    (ckpt / "latest_checkpointed_iteration.txt").write_text("3")
    for rank in (0, 1):
        (ckpt / ".shared_dir_check" / f"node_{rank}").write_text("other-host")
    env = dict.fromkeys(KNOBS, "") | {key: value.format(tmp=tmp_path) for key, value in env.items()}
    return record_script(os.path.join(ROOT, script), tmp_path, *USER_ARGS, HOME="/home/u", **env)


AES, RED = "recipe/aesr1/scripts/", "recipe/aesr1/red_aes/scripts/"
CKPT = {"CKPT_DIR": "{tmp}/ckpt"}
PLACED = CKPT | {"EXPERIMENT": "exp", "HF_DIR": "{tmp}/hf", "GPUS_PER_NODE": "4", "NNODES": "2"}
RAPO = PLACED | {"MODEL_PATH": "/m", "VAL_FILES": "/v.parquet", "RAY_ADDRESS": "head:6379", "ROLLOUT_TP": "1"}
SFT = PLACED | {"MODEL_PATH": "/m", "NODE_RANK": "0", "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "1234"}

# name: (script, knobs, order, exit status or None, the calls the ORIGINAL script made (bce5f36, before
# the shared knob block), as shell words; {repo}: the checkout, {tmp}: the test's folder).
# order "same": the very argv; "permuted": the same words, distinct hydra overrides in another order
# (hydra applies them alike). Without CKPT_DIR the run's own checkpoint is missing and the merge fails:
# only the calls before it are compared, and the exit status is not.
LAUNCHES = {
    "rapo_fsdp": (
        AES + "run_qwen2_5_vl_7b_rapo_fsdp.sh", {}, "same", None,
        [
            "python3 -m recipe.aesr1.rapo.main reward@rapo.reward=error_rank rapo.rank_group_size=null"
            " actor_rollout_ref.model.path={repo}/checkpoints/aesr1/sft_aescot_qwen2_5_vl_7b_e1/hf"
            " actor_rollout_ref.rollout.tensor_model_parallel_size=2"
            " data.train_files=/home/u/data/aesr1/rl_train.parquet data.val_files=/home/u/data/aesr1/rl_val.parquet"
            " trainer.experiment_name=rapo_error_rank_qwen2_5_vl_7b"
            " trainer.default_local_dir={repo}/checkpoints/aesr1/rapo_error_rank_qwen2_5_vl_7b"
            " trainer.n_gpus_per_node=8 trainer.nnodes=1 trainer.save_freq=7",
        ],
    ),
    "rapo_fsdp knobs": (
        AES + "run_qwen2_5_vl_7b_rapo_fsdp.sh", RAPO | {"TRAIN_FILES": "/t.parquet", "REWARD": "rank",
        "RANK_GROUP_SIZE": "8"}, "same", 0,
        [
            "python3 -m recipe.aesr1.rapo.main reward@rapo.reward=rank rapo.rank_group_size=8"
            " actor_rollout_ref.model.path=/m actor_rollout_ref.rollout.tensor_model_parallel_size=1"
            " data.train_files=/t.parquet data.val_files=/v.parquet trainer.experiment_name=exp"
            " trainer.default_local_dir={tmp}/ckpt trainer.n_gpus_per_node=4 trainer.nnodes=2 trainer.save_freq=7",
            "python3 -m verl.model_merger merge --backend fsdp --local_dir {tmp}/ckpt/global_step_3/actor --target_dir"
            " {tmp}/hf",
        ],
    ),
    "rapo_megatron": (
        AES + "run_qwen2_5_vl_7b_rapo_megatron.sh", {}, "permuted", None,
        [
            "python3 -m recipe.aesr1.rapo.main --config-name=rapo_megatron_trainer reward@rapo.reward=error_rank"
            " rapo.rank_group_size=null"
            " actor_rollout_ref.model.path={repo}/checkpoints/aesr1/sft_aescot_qwen2_5_vl_7b_e1/hf"
            " actor_rollout_ref.actor.megatron.tensor_model_parallel_size=2"
            " actor_rollout_ref.actor.megatron.pipeline_model_parallel_size=1"
            " actor_rollout_ref.ref.megatron.param_offload=false actor_rollout_ref.rollout.tensor_model_parallel_size=2"
            " data.train_files=/home/u/data/aesr1/rl_train.parquet data.val_files=/home/u/data/aesr1/rl_val.parquet"
            " trainer.experiment_name=rapo_error_rank_qwen2_5_vl_7b_megatron"
            " trainer.default_local_dir={repo}/checkpoints/aesr1/rapo_error_rank_qwen2_5_vl_7b_megatron"
            " trainer.n_gpus_per_node=8 trainer.nnodes=1 trainer.save_freq=7",
        ],
    ),
    "rapo_megatron knobs": (
        AES + "run_qwen2_5_vl_7b_rapo_megatron.sh", RAPO | {"TRAIN_FILES": "/t.parquet", "REWARD": "rank",
        "RANK_GROUP_SIZE": "8", "TP": "4", "PP": "2", "REF_PARAM_OFFLOAD": "true"}, "permuted", 0,
        [
            "python3 -m recipe.aesr1.rapo.main --config-name=rapo_megatron_trainer reward@rapo.reward=rank"
            " rapo.rank_group_size=8 actor_rollout_ref.model.path=/m"
            " actor_rollout_ref.actor.megatron.tensor_model_parallel_size=4"
            " actor_rollout_ref.actor.megatron.pipeline_model_parallel_size=2"
            " actor_rollout_ref.ref.megatron.param_offload=true actor_rollout_ref.rollout.tensor_model_parallel_size=1"
            " data.train_files=/t.parquet data.val_files=/v.parquet trainer.experiment_name=exp"
            " trainer.default_local_dir={tmp}/ckpt trainer.n_gpus_per_node=4 trainer.nnodes=2 trainer.save_freq=7",
            "python3 -m verl.model_merger merge --backend megatron --local_dir {tmp}/ckpt/global_step_3/actor"
            " --target_dir {tmp}/hf",
        ],
    ),
    "rapo_megatron 32b": (
        AES + "run_qwen2_5_vl_32b_rapo_megatron.sh", CKPT, "permuted", 0,
        [
            "python3 -m recipe.aesr1.rapo.main --config-name=rapo_megatron_trainer reward@rapo.reward=error_rank"
            " rapo.rank_group_size=null actor_rollout_ref.model.path=Qwen/Qwen2.5-VL-32B-Instruct"
            " actor_rollout_ref.actor.megatron.tensor_model_parallel_size=8"
            " actor_rollout_ref.actor.megatron.pipeline_model_parallel_size=1"
            " actor_rollout_ref.ref.megatron.param_offload=true actor_rollout_ref.rollout.tensor_model_parallel_size=4"
            " data.train_files=/home/u/data/aesr1/rl_train.parquet data.val_files=/home/u/data/aesr1/rl_val.parquet"
            " trainer.experiment_name=rapo_error_rank_qwen2_5_vl_32b_megatron trainer.default_local_dir={tmp}/ckpt"
            " trainer.n_gpus_per_node=8 trainer.nnodes=1 actor_rollout_ref.rollout.gpu_memory_utilization=0.5"
            " trainer.save_freq=7",
            "python3 -m verl.model_merger merge --backend megatron --local_dir {tmp}/ckpt/global_step_3/actor"
            " --target_dir {tmp}/ckpt/hf",
        ],
    ),
    "sft_epochs": (
        AES + "run_qwen2_5_vl_7b_sft_epochs_fsdp.sh", CKPT | {"EPOCH_LIST": "0 2"}, "permuted", None,
        [
            "python3 -m recipe.aesr1.rapo.main reward@rapo.reward=error_rank rapo.rank_group_size=null"
            " actor_rollout_ref.model.path=Qwen/Qwen2.5-VL-7B-Instruct"
            " actor_rollout_ref.rollout.tensor_model_parallel_size=2"
            " data.train_files=/home/u/data/aesr1/rl_train.parquet data.val_files=/home/u/data/aesr1/rl_val.parquet"
            " trainer.experiment_name=table3_sft0_rapo trainer.default_local_dir={tmp}/ckpt trainer.n_gpus_per_node=8"
            " trainer.nnodes=1 trainer.save_freq=7",
            "python3 -m verl.model_merger merge --backend fsdp --local_dir {tmp}/ckpt/global_step_3/actor --target_dir"
            " {tmp}/ckpt/hf",
            "python3 -m recipe.aesr1.rapo.processor_check Qwen/Qwen2.5-VL-7B-Instruct",
            "torchrun --nnodes=1 --node_rank=0 --nproc_per_node=8 --master_addr=127.0.0.1 --master_port=29500 -m"
            " verl.trainer.sft_trainer --config-path={repo}/configs --config-name=sft_trainer"
            " model.path=Qwen/Qwen2.5-VL-7B-Instruct data.train_files=/home/u/data/aesr1/aescot_sft_train.parquet"
            " data.val_files=null trainer.total_epochs=2 trainer.experiment_name=sft_aescot_qwen2_5_vl_7b_e2"
            " trainer.default_local_dir={repo}/checkpoints/aesr1/sft_aescot_qwen2_5_vl_7b_e2",
        ],
    ),
    "sft_fsdp": (
        AES + "run_qwen2_5_vl_7b_sft_fsdp.sh", {}, "permuted", None,
        [
            "python3 -m recipe.aesr1.rapo.processor_check Qwen/Qwen2.5-VL-7B-Instruct",
            "torchrun --nnodes=1 --node_rank=0 --nproc_per_node=8 --master_addr=127.0.0.1 --master_port=29500 -m"
            " verl.trainer.sft_trainer --config-path={repo}/configs --config-name=sft_trainer"
            " model.path=Qwen/Qwen2.5-VL-7B-Instruct data.train_files=/home/u/data/aesr1/aescot_sft_train.parquet"
            " data.val_files=null trainer.total_epochs=1 trainer.experiment_name=sft_aescot_qwen2_5_vl_7b_e1"
            " trainer.default_local_dir={repo}/checkpoints/aesr1/sft_aescot_qwen2_5_vl_7b_e1 trainer.save_freq=7",
        ],
    ),
    "sft_fsdp knobs": (
        AES + "run_qwen2_5_vl_7b_sft_fsdp.sh", SFT | {"TRAIN_FILES": "/t.parquet", "VAL_FILES": "/v.parquet",
        "EPOCHS": "2"}, "permuted", 0,
        [
            "python3 -m recipe.aesr1.rapo.processor_check /m",
            "torchrun --nnodes=2 --node_rank=0 --nproc_per_node=4 --master_addr=10.0.0.1 --master_port=1234 -m"
            " verl.trainer.sft_trainer --config-path={repo}/configs --config-name=sft_trainer model.path=/m"
            " data.train_files=/t.parquet data.val_files=/v.parquet trainer.total_epochs=2 trainer.experiment_name=exp"
            " trainer.default_local_dir={tmp}/ckpt trainer.save_freq=7",
            "python3 -m verl.model_merger merge --backend fsdp --local_dir {tmp}/ckpt/global_step_3 --target_dir"
            " {tmp}/hf",
        ],
    ),
    "red_aes stage1": (
        RED + "run_qwen2_5_vl_7b_red_aes_stage1_fsdp.sh", {}, "permuted", None,
        [
            "torchrun --nnodes=1 --node_rank=0 --nproc_per_node=8 --master_addr=127.0.0.1 --master_port=29500 -m"
            " verl.trainer.sft_trainer --config-path={repo}/configs --config-name=sft_trainer +red_aes=stage1_pretrain"
            " model.path=Qwen/Qwen2.5-VL-7B-Instruct"
            " 'data.train_files=[/home/u/data/red_aes/pt_o1.parquet,/home/u/data/red_aes/pt_o2.parquet]'"
            " trainer.experiment_name=red_aes_stage1_qwen2_5_vl_7b"
            " trainer.default_local_dir={repo}/checkpoints/red_aes/red_aes_stage1_qwen2_5_vl_7b"
            " trainer.n_gpus_per_node=8 trainer.nnodes=1 trainer.save_freq=7",
        ],
    ),
    "red_aes stage1 knobs": (
        RED + "run_qwen2_5_vl_7b_red_aes_stage1_fsdp.sh", SFT | {"PT_FILES": "[/a.parquet]"}, "permuted", 0,
        [
            "torchrun --nnodes=2 --node_rank=0 --nproc_per_node=4 --master_addr=10.0.0.1 --master_port=1234 -m"
            " verl.trainer.sft_trainer --config-path={repo}/configs --config-name=sft_trainer +red_aes=stage1_pretrain"
            " model.path=/m 'data.train_files=[/a.parquet]' trainer.experiment_name=exp"
            " trainer.default_local_dir={tmp}/ckpt trainer.n_gpus_per_node=4 trainer.nnodes=2 trainer.save_freq=7",
            "python3 -m verl.model_merger merge --backend fsdp --local_dir {tmp}/ckpt/global_step_3 --target_dir"
            " {tmp}/hf",
        ],
    ),
    "red_aes stage2": (
        RED + "run_qwen2_5_vl_7b_red_aes_stage2_fsdp.sh", {}, "permuted", None,
        [
            "torchrun --nnodes=1 --node_rank=0 --nproc_per_node=8 --master_addr=127.0.0.1 --master_port=29500 -m"
            " verl.trainer.sft_trainer --config-path={repo}/configs --config-name=sft_trainer"
            " +red_aes=stage2_calibration model.path={repo}/checkpoints/red_aes/red_aes_stage1_qwen2_5_vl_7b/hf"
            " data.train_files=/home/u/data/red_aes/calibration.parquet"
            " trainer.experiment_name=red_aes_stage2_qwen2_5_vl_7b"
            " trainer.default_local_dir={repo}/checkpoints/red_aes/red_aes_stage2_qwen2_5_vl_7b"
            " trainer.n_gpus_per_node=8 trainer.nnodes=1 trainer.save_freq=7",
        ],
    ),
    "red_aes stage2 knobs": (
        RED + "run_qwen2_5_vl_7b_red_aes_stage2_fsdp.sh", SFT | {"DATA_DIR": "/d", "NODE_RANK": "1"}, "permuted",
        0,
        [
            "torchrun --nnodes=2 --node_rank=1 --nproc_per_node=4 --master_addr=10.0.0.1 --master_port=1234 -m"
            " verl.trainer.sft_trainer --config-path={repo}/configs --config-name=sft_trainer"
            " +red_aes=stage2_calibration model.path=/m data.train_files=/d/calibration.parquet"
            " trainer.experiment_name=exp trainer.default_local_dir={tmp}/ckpt trainer.n_gpus_per_node=4"
            " trainer.nnodes=2 trainer.save_freq=7",
        ],
    ),
    # The original exited 1 here before launching (set -e, and `[[ SHUFFLED == true ]] && echo` failing inside
    # EXPERIMENT's default): this is its SHUFFLED=true call ("red_aes stage3 knobs") with SHUFFLED=false.
    "red_aes stage3": (
        RED + "run_qwen2_5_vl_7b_red_aes_stage3_fsdp.sh", {}, "same", None,
        [
            "python3 -m recipe.aesr1.rapo.main +red_aes=stage3_grpo rapo.shuffled_groups=false"
            " actor_rollout_ref.model.path={repo}/checkpoints/red_aes/red_aes_stage2_qwen2_5_vl_7b/hf"
            " actor_rollout_ref.rollout.tensor_model_parallel_size=2 data.train_files=/home/u/data/red_aes/rl.parquet"
            " data.val_files=/home/u/data/aesr1/rl_val.parquet trainer.experiment_name=red_aes_stage3_qwen2_5_vl_7b"
            " trainer.default_local_dir={repo}/checkpoints/red_aes/red_aes_stage3_qwen2_5_vl_7b"
            " trainer.n_gpus_per_node=8 trainer.nnodes=1 trainer.save_freq=7",
        ],
    ),
    "red_aes stage3 knobs": (
        RED + "run_qwen2_5_vl_7b_red_aes_stage3_fsdp.sh", RAPO | {"DATA_DIR": "/d", "SHUFFLED": "true",
        "EXPERIMENT": ""}, "same", 0,
        [
            "python3 -m recipe.aesr1.rapo.main +red_aes=stage3_grpo rapo.shuffled_groups=true"
            " actor_rollout_ref.model.path=/m actor_rollout_ref.rollout.tensor_model_parallel_size=1"
            " data.train_files=/d/rl.parquet data.val_files=/v.parquet"
            " trainer.experiment_name=red_aes_stage3_qwen2_5_vl_7b_shuffled trainer.default_local_dir={tmp}/ckpt"
            " trainer.n_gpus_per_node=4 trainer.nnodes=2 trainer.save_freq=7",
            "python3 -m verl.model_merger merge --backend fsdp --local_dir {tmp}/ckpt/global_step_3/actor --target_dir"
            " {tmp}/hf",
        ],
    ),
    "red_aes data engine": (
        RED + "run_red_aes_data_engine.sh", {}, "same", 0,
        [
            "python3 -m recipe.aesr1.red_aes.engine.cli --config {repo}/configs/red_aes/data_engine.yaml"
            " 'sources.inputs=[/home/u/data/photos]' 'sources.evaluation=[]' output_dir=/home/u/data/red_aes"
            " trainer.save_freq=7",
        ],
    ),
}


def assert_same_command(got, original):
    """``got`` is ``original`` but for the order of its hydra overrides, which are distinct keys; flags,
    the entry point and the user's overrides at the end (where the call has them) stay in place."""
    first = next(i for i, word in enumerate(original) if "=" in word and not word.startswith("-"))
    end = len(original) - (len(USER_ARGS) if original[-len(USER_ARGS) :] == USER_ARGS else 0)
    assert got[:first] == original[:first] and got[end:] == original[end:]
    overrides = original[first:end]
    keys = [word.split("=", 1)[0] for word in overrides]
    assert sorted(got[first:end]) == sorted(overrides) and len(set(keys)) == len(keys)
    assert not any(word.startswith("-") for word in overrides)


@pytest.mark.parametrize("name", sorted(LAUNCHES))
def test_launch_scripts_run_what_they_ran_before_the_shared_knob_block(tmp_path, name):
    script, env, order, status, expected = LAUNCHES[name]
    result, calls = launch(script, tmp_path, env)
    original = [shlex.split(line.format(repo=ROOT, tmp=tmp_path)) for line in expected]
    if status is not None:
        assert (result.returncode, len(calls)) == (status, len(original)), result.stderr
    assert len(calls) >= len(original), result.stderr
    for got, want in zip(calls, original):
        if order == "same" or got[0] != "torchrun" and "recipe.aesr1.rapo.main" not in got:
            assert got == want
        else:
            assert_same_command(got, want)


@pytest.mark.parametrize(
    "script", [AES + "run_qwen2_5_vl_7b_rapo_fsdp.sh", AES + "run_qwen2_5_vl_7b_rapo_megatron.sh",
               RED + "run_qwen2_5_vl_7b_red_aes_stage3_fsdp.sh"],
)  # fmt: skip
def test_multi_node_rapo_scripts_want_a_ray_cluster(tmp_path, script):
    result, calls = launch(script, tmp_path, {"NNODES": "2"})
    assert (result.returncode, calls) == (1, []) and "export RAY_ADDRESS=<head>:6379" in result.stderr


def test_rapo_script_composes_and_merges_the_actor(tmp_path):
    from recipe.aesr1.rapo.config import check_rapo_config

    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "latest_checkpointed_iteration.txt").write_text("42")
    train, merge = run_script("run_qwen2_5_vl_7b_rapo_fsdp.sh", tmp_path, CKPT_DIR=str(ckpt), RANK_GROUP_SIZE="8")
    config = compose_rapo(overrides_after(train, "recipe.aesr1.rapo.main"))
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
    from recipe.aesr1.rapo.main import check_config

    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "latest_checkpointed_iteration.txt").write_text("5")
    env = {"CKPT_DIR": str(ckpt)} | ({"MODEL_PATH": "/sft/hf"} if "7b" in script else {})
    train, merge = run_script(script, tmp_path, **env)
    args = overrides_after(train, "recipe.aesr1.rapo.main")
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
    from recipe.aesr1.rapo.config import check_rapo_config

    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "latest_checkpointed_iteration.txt").write_text("1")
    calls = run_script(
        "run_qwen2_5_vl_7b_reward_ablation_fsdp.sh", tmp_path, REWARDS="binary thurstone", CKPT_DIR=str(ckpt)
    )
    trains = [c for c in calls if "recipe.aesr1.rapo.main" in c]
    names = [check_rapo_config(compose_rapo(overrides_after(c, "recipe.aesr1.rapo.main"))).name for c in trains]
    assert names == ["binary", "thurstone"]
    assert all("actor_rollout_ref.model.path=Qwen/Qwen2.5-VL-7B-Instruct" in c for c in trains)


def test_sft_script_composes_with_verls_sft_config(tmp_path):
    ckpt = tmp_path / "sft"
    ckpt.mkdir()
    (ckpt / "latest_checkpointed_iteration.txt").write_text("3")
    check, train, merge = run_script("run_qwen2_5_vl_7b_sft_fsdp.sh", tmp_path, CKPT_DIR=str(ckpt))
    assert check == ["python3", "-m", "recipe.aesr1.rapo.processor_check", "Qwen/Qwen2.5-VL-7B-Instruct"]  # before training
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
    from recipe.aesr1.rapo.main import check_shared_checkpoint_dir

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
