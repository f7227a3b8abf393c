#!/usr/bin/env bash
# RED-Aes Stage 2: cold-start calibration on the 200 anchored samples (SFT, 1 epoch, Stage 1's
# hyper-parameters; configs/red_aes/stage2_calibration.yaml) from the merged Stage 1 model, then merge.
# One 8-GPU node: bash run_qwen2_5_vl_7b_red_aes_stage2_fsdp.sh ; extra hydra overrides go at the end.
set -xeuo pipefail

REPO=$(cd "$(dirname "$0")/../../../.." && pwd)

MODEL_PATH=${MODEL_PATH:-$REPO/checkpoints/red_aes/red_aes_stage1_qwen2_5_vl_7b/hf}
DATA_DIR=${DATA_DIR:-$HOME/data/red_aes}
TRAIN_FILES=${TRAIN_FILES:-$DATA_DIR/calibration.parquet}
EXPERIMENT=${EXPERIMENT:-red_aes_stage2_qwen2_5_vl_7b}
CKPT_DIR=${CKPT_DIR:-$REPO/checkpoints/red_aes/${EXPERIMENT}}
HF_DIR=${HF_DIR:-$CKPT_DIR/hf}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
MASTER_PORT=${MASTER_PORT:-29500}

torchrun --nnodes="${NNODES}" --node_rank="${NODE_RANK}" --nproc_per_node="${GPUS_PER_NODE}" \
    --master_addr="${MASTER_ADDR}" --master_port="${MASTER_PORT}" \
    -m verl.trainer.sft_trainer \
    --config-path="${REPO}/configs" --config-name=sft_trainer \
    +red_aes=stage2_calibration \
    model.path="${MODEL_PATH}" \
    data.train_files="${TRAIN_FILES}" \
    trainer.experiment_name="${EXPERIMENT}" \
    trainer.default_local_dir="${CKPT_DIR}" \
    trainer.n_gpus_per_node="${GPUS_PER_NODE}" \
    trainer.nnodes="${NNODES}" \
    "$@"

if [[ "${NODE_RANK}" == 0 ]]; then
    bash "${REPO}/recipe/aesr1/scripts/merge_to_hf.sh" "${CKPT_DIR}" "${HF_DIR}"
fi
