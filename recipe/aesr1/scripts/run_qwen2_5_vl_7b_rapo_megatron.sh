#!/usr/bin/env bash
# Stage 2 of Aes-R1 (RAPO) on verl's Megatron backend (configs/rapo_megatron_trainer.yaml: the same RAPO
# keys as the FSDP run, plus the paper's exact linear LR decay), then merge the actor to Hugging Face.
# One 8 x 80 GB node, Qwen2.5-VL-7B: tensor parallel 2, no pipeline stages (data parallel 4).
# Pick Megatron over FSDP for the exact LR schedule, or for models that FSDP cannot fit (32B+: see
# run_qwen2_5_vl_32b_rapo_megatron.sh). Needs verl's Megatron stack: pip install -e .[megatron].
# Knobs as in run_qwen2_5_vl_7b_rapo_fsdp.sh, plus TP, PP, REF_PARAM_OFFLOAD; extra hydra overrides go at the end.
set -xeuo pipefail

REPO=$(cd "$(dirname "$0")/../../.." && pwd)

MODEL_PATH=${MODEL_PATH:-$REPO/checkpoints/aesr1/sft_aescot_qwen2_5_vl_7b_e1/hf}
TRAIN_FILES=${TRAIN_FILES:-$HOME/data/aesr1/rl_train.parquet}
VAL_FILES=${VAL_FILES:-$HOME/data/aesr1/rl_val.parquet}
REWARD=${REWARD:-error_rank}
RANK_GROUP_SIZE=${RANK_GROUP_SIZE:-null}
EXPERIMENT=${EXPERIMENT:-rapo_${REWARD}_qwen2_5_vl_7b_megatron}
CKPT_DIR=${CKPT_DIR:-$REPO/checkpoints/aesr1/${EXPERIMENT}}
HF_DIR=${HF_DIR:-$CKPT_DIR/hf}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
NNODES=${NNODES:-1}
TP=${TP:-2}
PP=${PP:-1}
ROLLOUT_TP=${ROLLOUT_TP:-2}
REF_PARAM_OFFLOAD=${REF_PARAM_OFFLOAD:-false}

if [[ "${NNODES}" -gt 1 && -z "${RAY_ADDRESS:-}" ]]; then
    echo "NNODES=${NNODES}: start a Ray cluster (start_ray_node.sh) and export RAY_ADDRESS=<head>:6379" >&2
    exit 1
fi

cd "${REPO}"
python3 -m recipe.aesr1.main_rapo --config-name=rapo_megatron_trainer \
    "reward@rapo.reward=${REWARD}" \
    rapo.rank_group_size="${RANK_GROUP_SIZE}" \
    actor_rollout_ref.model.path="${MODEL_PATH}" \
    actor_rollout_ref.actor.megatron.tensor_model_parallel_size="${TP}" \
    actor_rollout_ref.actor.megatron.pipeline_model_parallel_size="${PP}" \
    actor_rollout_ref.ref.megatron.param_offload="${REF_PARAM_OFFLOAD}" \
    actor_rollout_ref.rollout.tensor_model_parallel_size="${ROLLOUT_TP}" \
    data.train_files="${TRAIN_FILES}" \
    data.val_files="${VAL_FILES}" \
    trainer.experiment_name="${EXPERIMENT}" \
    trainer.default_local_dir="${CKPT_DIR}" \
    trainer.n_gpus_per_node="${GPUS_PER_NODE}" \
    trainer.nnodes="${NNODES}" \
    "$@"

BACKEND=megatron bash "${REPO}/recipe/aesr1/scripts/merge_to_hf.sh" "${CKPT_DIR}" "${HF_DIR}" actor
