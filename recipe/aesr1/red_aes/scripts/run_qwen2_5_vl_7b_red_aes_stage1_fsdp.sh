#!/usr/bin/env bash
# RED-Aes Stage 1: edit-causal pre-training on PT-O1 + PT-O2 (SFT, 3 epochs, batch 16, lr 1e-5,
# configs/red_aes/stage1_pretrain.yaml on top of configs/sft_trainer.yaml), then merge to Hugging Face.
# One 8-GPU node: bash run_qwen2_5_vl_7b_red_aes_stage1_fsdp.sh
# Several nodes:   NNODES=2 NODE_RANK=<0|1> MASTER_ADDR=<node 0> bash run_qwen2_5_vl_7b_red_aes_stage1_fsdp.sh
# PT_FILES picks the objectives (Table 5: PT-O1 only, or both; default: both under DATA_DIR). Other knobs:
# MODEL_PATH, EXPERIMENT, and recipe/aesr1/scripts/knobs.sh's CKPT_DIR, HF_DIR, GPUS_PER_NODE, NNODES,
# NODE_RANK, MASTER_ADDR, MASTER_PORT. Extra hydra overrides go at the end.
set -xeuo pipefail
# shellcheck source=../../scripts/knobs.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/knobs.sh"

MODEL_PATH=${MODEL_PATH:-Qwen/Qwen2.5-VL-7B-Instruct}
DATA_DIR=${DATA_DIR:-$HOME/data/red_aes}
PT_FILES=${PT_FILES:-[${DATA_DIR}/pt_o1.parquet,${DATA_DIR}/pt_o2.parquet]}
TRAIN_FILES=${PT_FILES}  # the knob of this stage is PT_FILES
EXPERIMENT=${EXPERIMENT:-red_aes_stage1_qwen2_5_vl_7b}
run_dirs red_aes

OVERRIDES=(+red_aes=stage1_pretrain trainer.n_gpus_per_node="${GPUS_PER_NODE}" trainer.nnodes="${NNODES}")
launch_sft "$@"
