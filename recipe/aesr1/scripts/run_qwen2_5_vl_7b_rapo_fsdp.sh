#!/usr/bin/env bash
# Stage 2 of Aes-R1: RAPO (configs/rapo_trainer.yaml: K=4, sigma=0.1, beta=0.01 k3 KL, clip 0.2/0.28,
# lr 1e-6, mini-batch 32, 1024 tokens, 10 epochs) from the merged SFT model, then merge to Hugging Face.
# One 8-GPU node: bash run_qwen2_5_vl_7b_rapo_fsdp.sh
# Several nodes:  start Ray first (start_ray_node.sh on every node), then on the head node
#                 NNODES=2 bash run_qwen2_5_vl_7b_rapo_fsdp.sh
# Knobs: REWARD (a file of configs/reward/), RANK_GROUP_SIZE (null = whole batch as in the paper,
# 8 = the released code's per-GPU scope), MODEL_PATH; extra hydra overrides go at the end.
set -xeuo pipefail

REPO=$(cd "$(dirname "$0")/../../.." && pwd)

MODEL_PATH=${MODEL_PATH:-$REPO/checkpoints/aesr1/sft_aescot_qwen2_5_vl_7b_e1/hf}
TRAIN_FILES=${TRAIN_FILES:-$HOME/data/aesr1/rl_train.parquet}
VAL_FILES=${VAL_FILES:-$HOME/data/aesr1/rl_val.parquet}
REWARD=${REWARD:-error_rank}
RANK_GROUP_SIZE=${RANK_GROUP_SIZE:-null}
EXPERIMENT=${EXPERIMENT:-rapo_${REWARD}_qwen2_5_vl_7b}
CKPT_DIR=${CKPT_DIR:-$REPO/checkpoints/aesr1/${EXPERIMENT}}
HF_DIR=${HF_DIR:-$CKPT_DIR/hf}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
NNODES=${NNODES:-1}
ROLLOUT_TP=${ROLLOUT_TP:-2}

if [[ "${NNODES}" -gt 1 && -z "${RAY_ADDRESS:-}" ]]; then
    echo "NNODES=${NNODES}: start a Ray cluster (start_ray_node.sh) and export RAY_ADDRESS=<head>:6379" >&2
    exit 1
fi

cd "${REPO}"
python3 -m recipe.aesr1.main_rapo \
    "reward@rapo.reward=${REWARD}" \
    rapo.rank_group_size="${RANK_GROUP_SIZE}" \
    actor_rollout_ref.model.path="${MODEL_PATH}" \
    actor_rollout_ref.rollout.tensor_model_parallel_size="${ROLLOUT_TP}" \
    data.train_files="${TRAIN_FILES}" \
    data.val_files="${VAL_FILES}" \
    trainer.experiment_name="${EXPERIMENT}" \
    trainer.default_local_dir="${CKPT_DIR}" \
    trainer.n_gpus_per_node="${GPUS_PER_NODE}" \
    trainer.nnodes="${NNODES}" \
    "$@"

bash "${REPO}/recipe/aesr1/scripts/merge_to_hf.sh" "${CKPT_DIR}" "${HF_DIR}" actor
