#!/usr/bin/env bash
# Stage 1 of Aes-R1: AesCoT cold start (SFT, 1 epoch, global batch 64, lr 1e-5; configs/sft_trainer.yaml),
# then merge the last checkpoint into a Hugging Face model that RAPO starts from.
# One 8-GPU node: bash run_qwen2_5_vl_7b_sft_fsdp.sh
# Several nodes:   NNODES=2 NODE_RANK=<0|1> MASTER_ADDR=<node 0> bash run_qwen2_5_vl_7b_sft_fsdp.sh   (on every node;
#                  CKPT_DIR must be on a filesystem all nodes share: node 0 merges every rank's shards)
# Knobs: MODEL_PATH, TRAIN_FILES, VAL_FILES, EPOCHS, EXPERIMENT, and knobs.sh's CKPT_DIR, HF_DIR, CONFIG_DIR,
# GPUS_PER_NODE, NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT.
# Extra hydra overrides go at the end, e.g. trainer.total_epochs=2 (Table 3).
set -xeuo pipefail
# shellcheck source=knobs.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/knobs.sh"

MODEL_PATH=${MODEL_PATH:-Qwen/Qwen2.5-VL-7B-Instruct}
TRAIN_FILES=${TRAIN_FILES:-$HOME/data/aesr1/aescot_sft_train.parquet}
VAL_FILES=${VAL_FILES:-null}
EPOCHS=${EPOCHS:-1}
EXPERIMENT=${EXPERIMENT:-sft_aescot_qwen2_5_vl_7b_e${EPOCHS}}
run_dirs aesr1

# Fail now, with the real error, if verl's image path is broken (it would silently drop every image prompt).
python3 -m recipe.aesr1.rapo.processor_check "${MODEL_PATH}"
if [[ "${NNODES}" -gt 1 ]]; then
    bash "${REPO}/recipe/aesr1/scripts/check_shared_dir.sh" "${CKPT_DIR}" "${NNODES}" "${NODE_RANK}"
fi

OVERRIDES=(data.val_files="${VAL_FILES}" trainer.total_epochs="${EPOCHS}")
launch_sft "$@"
