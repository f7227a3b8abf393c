#!/usr/bin/env bash
# Stage 1 of Aes-R1: AesCoT cold start (SFT, 1 epoch, global batch 64, lr 1e-5; configs/sft_trainer.yaml),
# then merge the last checkpoint into a Hugging Face model that RAPO starts from.
# One 8-GPU node: bash run_qwen2_5_vl_7b_sft_fsdp.sh
# Several nodes:   NNODES=2 NODE_RANK=<0|1> MASTER_ADDR=<node 0> bash run_qwen2_5_vl_7b_sft_fsdp.sh   (on every node;
#                  CKPT_DIR must be on a filesystem all nodes share: node 0 merges every rank's shards)
# Extra hydra overrides go at the end, e.g. trainer.total_epochs=2 (Table 3).
set -xeuo pipefail

REPO=$(cd "$(dirname "$0")/../../.." && pwd)
# configs/ in a checkout; recipe/aesr1/configs inside an installed wheel (recipe.aesr1.config_dir).
CONFIG_DIR=${CONFIG_DIR:-${REPO}/configs}
[[ -d "${CONFIG_DIR}" ]] || CONFIG_DIR=${REPO}/recipe/aesr1/configs

MODEL_PATH=${MODEL_PATH:-Qwen/Qwen2.5-VL-7B-Instruct}
TRAIN_FILES=${TRAIN_FILES:-$HOME/data/aesr1/aescot_sft_train.parquet}
VAL_FILES=${VAL_FILES:-null}
EPOCHS=${EPOCHS:-1}
EXPERIMENT=${EXPERIMENT:-sft_aescot_qwen2_5_vl_7b_e${EPOCHS}}
CKPT_DIR=${CKPT_DIR:-$REPO/checkpoints/aesr1/${EXPERIMENT}}
HF_DIR=${HF_DIR:-$CKPT_DIR/hf}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
MASTER_PORT=${MASTER_PORT:-29500}

# Fail now, with the real error, if verl's image path is broken (it would silently drop every image prompt).
python3 -m recipe.aesr1.processor_check "${MODEL_PATH}"
if [[ "${NNODES}" -gt 1 ]]; then
    bash "${REPO}/recipe/aesr1/scripts/check_shared_dir.sh" "${CKPT_DIR}" "${NNODES}" "${NODE_RANK}"
fi

# verl's sft_trainer takes the world size from torchrun (it never reads trainer.nnodes / n_gpus_per_node).
torchrun --nnodes="${NNODES}" --node_rank="${NODE_RANK}" --nproc_per_node="${GPUS_PER_NODE}" \
    --master_addr="${MASTER_ADDR}" --master_port="${MASTER_PORT}" \
    -m verl.trainer.sft_trainer \
    --config-path="${CONFIG_DIR}" --config-name=sft_trainer \
    model.path="${MODEL_PATH}" \
    data.train_files="${TRAIN_FILES}" \
    data.val_files="${VAL_FILES}" \
    trainer.total_epochs="${EPOCHS}" \
    trainer.experiment_name="${EXPERIMENT}" \
    trainer.default_local_dir="${CKPT_DIR}" \
    "$@"

if [[ "${NODE_RANK}" == 0 ]]; then
    bash "${REPO}/recipe/aesr1/scripts/merge_to_hf.sh" "${CKPT_DIR}" "${HF_DIR}"
fi
