#!/usr/bin/env bash
# RED-Aes Stage 3: GRPO with the consistency reward (Eq. 6) on whole source-edit groups
# (configs/red_aes/stage3_grpo.yaml on top of configs/rapo_trainer.yaml: 6 samples per prompt,
# batches of 4 groups x 8 images) from the merged Stage 2 model, then merge to Hugging Face.
# One 8-GPU node: bash run_qwen2_5_vl_7b_red_aes_stage3_fsdp.sh
# SHUFFLED=true runs Table 2's shuffled-batch ablation. VAL_FILES: a benchmark parquet of data_prep.
set -xeuo pipefail

REPO=$(cd "$(dirname "$0")/../../../.." && pwd)

MODEL_PATH=${MODEL_PATH:-$REPO/checkpoints/red_aes/red_aes_stage2_qwen2_5_vl_7b/hf}
DATA_DIR=${DATA_DIR:-$HOME/data/red_aes}
TRAIN_FILES=${TRAIN_FILES:-$DATA_DIR/rl.parquet}
VAL_FILES=${VAL_FILES:-$HOME/data/aesr1/rl_val.parquet}
SHUFFLED=${SHUFFLED:-false}
EXPERIMENT=${EXPERIMENT:-red_aes_stage3_qwen2_5_vl_7b$([[ "${SHUFFLED}" == true ]] && echo _shuffled)}
CKPT_DIR=${CKPT_DIR:-$REPO/checkpoints/red_aes/${EXPERIMENT}}
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
    +red_aes=stage3_grpo \
    rapo.shuffled_groups="${SHUFFLED}" \
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
