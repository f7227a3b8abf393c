# shellcheck shell=bash
# The knob block and launch helpers that every launch script shares. Sourced, never run:
#   source "$(dirname "${BASH_SOURCE[0]}")/knobs.sh"                   (recipe/aesr1/scripts/run_*.sh)
#   source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/knobs.sh"     (recipe/aesr1/red_aes/scripts/run_*.sh)
# It is found next to the script, not in the cwd, so an installed wheel runs the scripts as a checkout does.
# Knobs are environment variables read as ${KNOB:-default} (empty means unset). Shared ones:
#   GPUS_PER_NODE (8), NNODES (1); CONFIG_DIR (the repo's configs/);
#   SFT runs: NODE_RANK (0), MASTER_ADDR (127.0.0.1), MASTER_PORT (29500);
#   RAPO runs: ROLLOUT_TP (2, vLLM tensor parallel), RAY_ADDRESS (needed when NNODES > 1);
#   every run: CKPT_DIR (checkpoints/<family>/$EXPERIMENT), HF_DIR ($CKPT_DIR/hf), see run_dirs.
# A script sets its own defaults (MODEL_PATH, TRAIN_FILES, EXPERIMENT, ...) and its OVERRIDES array, then
# calls launch_sft or train_rapo with "$@", so that the user's hydra overrides come last.
# The main job's miniature runs run_qwen2_5_vl_7b_{sft,rapo}_fsdp.sh itself on one CPU process: every knob set
# (GPUS_PER_NODE=1, ROLLOUT_TP=1, ...) and +cpu=sft|rapo with its sizes as "$@" (recipe/aesr1/miniature/stages.py).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    echo "knobs.sh is sourced by the launch scripts (source it, do not run it)" >&2
    exit 1
fi

# The checkout, or the site-packages folder of an installed wheel: both hold recipe/aesr1/scripts/.
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# configs/ in a checkout; recipe/aesr1/configs inside an installed wheel (recipe.aesr1.config_dir).
CONFIG_DIR=${CONFIG_DIR:-${REPO}/configs}
[[ -d "${CONFIG_DIR}" ]] || CONFIG_DIR=${REPO}/recipe/aesr1/configs

GPUS_PER_NODE=${GPUS_PER_NODE:-8}
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
MASTER_PORT=${MASTER_PORT:-29500}
ROLLOUT_TP=${ROLLOUT_TP:-2}

# run_dirs FAMILY: where the run of EXPERIMENT saves (CKPT_DIR) and merges to (HF_DIR); call it after EXPERIMENT.
run_dirs() {
    CKPT_DIR=${CKPT_DIR:-$REPO/checkpoints/$1/${EXPERIMENT}}
    HF_DIR=${HF_DIR:-$CKPT_DIR/hf}
}

# aesr1_rapo_knobs: the defaults of Aes-R1's RAPO runs (FSDP and Megatron): the merged SFT model, data_prep's
# RL parquets, REWARD (a file of configs/reward/) and RANK_GROUP_SIZE (null = the whole batch as in the
# paper, 8 = the released code's per-GPU scope).
aesr1_rapo_knobs() {
    MODEL_PATH=${MODEL_PATH:-$REPO/checkpoints/aesr1/sft_aescot_qwen2_5_vl_7b_e1/hf}
    TRAIN_FILES=${TRAIN_FILES:-$HOME/data/aesr1/rl_train.parquet}
    VAL_FILES=${VAL_FILES:-$HOME/data/aesr1/rl_val.parquet}
    REWARD=${REWARD:-error_rank}
    RANK_GROUP_SIZE=${RANK_GROUP_SIZE:-null}
}

# merge_checkpoint [SUBDIR]: merge the latest checkpoint in CKPT_DIR (its SUBDIR, e.g. actor) into HF_DIR.
# merge_to_hf.sh reads BACKEND (fsdp unless set): BACKEND=megatron merge_checkpoint actor.
# shellcheck disable=SC2120  # SUBDIR is optional: the SFT runs merge CKPT_DIR itself
merge_checkpoint() {
    bash "${REPO}/recipe/aesr1/scripts/merge_to_hf.sh" "${CKPT_DIR}" "${HF_DIR}" "$@"
}

# launch_sft [OVERRIDE...]: verl's SFT trainer under torchrun (this node of NNODES), config sft_trainer, with the
# script's OVERRIDES, then the shared ones, then the arguments; then node 0 (every rank's shards are on the
# shared CKPT_DIR) merges the last checkpoint. verl's sft_trainer takes the world size from torchrun (it
# never reads trainer.nnodes / n_gpus_per_node).
launch_sft() {
    torchrun --nnodes="${NNODES}" --node_rank="${NODE_RANK}" --nproc_per_node="${GPUS_PER_NODE}" \
        --master_addr="${MASTER_ADDR}" --master_port="${MASTER_PORT}" \
        -m verl.trainer.sft_trainer \
        --config-path="${CONFIG_DIR}" --config-name=sft_trainer \
        "${OVERRIDES[@]}" \
        model.path="${MODEL_PATH}" \
        data.train_files="${TRAIN_FILES}" \
        trainer.experiment_name="${EXPERIMENT}" \
        trainer.default_local_dir="${CKPT_DIR}" \
        "$@"
    if [[ "${NODE_RANK}" == 0 ]]; then
        merge_checkpoint
    fi
}

# train_rapo [OVERRIDE...]: recipe.aesr1.rapo.main from the repo root on a Ray cluster of NNODES nodes, with the
# script's OVERRIDES, then the shared ones, then the arguments. The caller merges (merge_checkpoint actor).
train_rapo() {
    if [[ "${NNODES}" -gt 1 && -z "${RAY_ADDRESS:-}" ]]; then
        echo "NNODES=${NNODES}: start a Ray cluster (start_ray_node.sh) and export RAY_ADDRESS=<head>:6379" >&2
        exit 1
    fi
    cd "${REPO}" || exit
    python3 -m recipe.aesr1.rapo.main "${OVERRIDES[@]}" \
        actor_rollout_ref.model.path="${MODEL_PATH}" \
        actor_rollout_ref.rollout.tensor_model_parallel_size="${ROLLOUT_TP}" \
        data.train_files="${TRAIN_FILES}" \
        data.val_files="${VAL_FILES}" \
        trainer.experiment_name="${EXPERIMENT}" \
        trainer.default_local_dir="${CKPT_DIR}" \
        trainer.n_gpus_per_node="${GPUS_PER_NODE}" \
        trainer.nnodes="${NNODES}" \
        "$@"
}
