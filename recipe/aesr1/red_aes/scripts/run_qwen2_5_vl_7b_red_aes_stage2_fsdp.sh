#!/usr/bin/env bash
# RED-Aes Stage 2: cold-start calibration on the 200 anchored samples (SFT, 1 epoch, Stage 1's
# hyper-parameters; configs/red_aes/stage2_calibration.yaml) from the merged Stage 1 model, then merge.
# One 8-GPU node: bash run_qwen2_5_vl_7b_red_aes_stage2_fsdp.sh ; extra hydra overrides go at the end.
# Knobs: MODEL_PATH, DATA_DIR, TRAIN_FILES, EXPERIMENT, and recipe/aesr1/scripts/knobs.sh's CKPT_DIR, HF_DIR,
# GPUS_PER_NODE, NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT (several nodes: as in Stage 1).
set -xeuo pipefail
# shellcheck source=../../scripts/knobs.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/knobs.sh"

MODEL_PATH=${MODEL_PATH:-$REPO/checkpoints/red_aes/red_aes_stage1_qwen2_5_vl_7b/hf}
DATA_DIR=${DATA_DIR:-$HOME/data/red_aes}
TRAIN_FILES=${TRAIN_FILES:-$DATA_DIR/calibration.parquet}
EXPERIMENT=${EXPERIMENT:-red_aes_stage2_qwen2_5_vl_7b}
run_dirs red_aes

OVERRIDES=(+red_aes=stage2_calibration trainer.n_gpus_per_node="${GPUS_PER_NODE}" trainer.nnodes="${NNODES}")
launch_sft "$@"
