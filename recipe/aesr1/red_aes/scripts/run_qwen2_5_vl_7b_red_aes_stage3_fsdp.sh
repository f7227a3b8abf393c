#!/usr/bin/env bash
# RED-Aes Stage 3: GRPO with the consistency reward (Eq. 6) on whole source-edit groups
# (configs/red_aes/stage3_grpo.yaml on top of configs/rapo_trainer.yaml: 6 samples per prompt,
# batches of 4 groups x 8 images) from the merged Stage 2 model, then merge to Hugging Face.
# One 8-GPU node: bash run_qwen2_5_vl_7b_red_aes_stage3_fsdp.sh
# SHUFFLED=true runs Table 2's shuffled-batch ablation. VAL_FILES: a benchmark parquet of data_prep.
# Other knobs: MODEL_PATH, DATA_DIR, TRAIN_FILES, EXPERIMENT, and recipe/aesr1/scripts/knobs.sh's CKPT_DIR,
# HF_DIR, GPUS_PER_NODE, NNODES, ROLLOUT_TP (several nodes: as in run_qwen2_5_vl_7b_rapo_fsdp.sh).
set -xeuo pipefail
# shellcheck source=../../scripts/knobs.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/knobs.sh"

MODEL_PATH=${MODEL_PATH:-$REPO/checkpoints/red_aes/red_aes_stage2_qwen2_5_vl_7b/hf}
DATA_DIR=${DATA_DIR:-$HOME/data/red_aes}
TRAIN_FILES=${TRAIN_FILES:-$DATA_DIR/rl.parquet}
VAL_FILES=${VAL_FILES:-$HOME/data/aesr1/rl_val.parquet}
SHUFFLED=${SHUFFLED:-false}
EXPERIMENT=${EXPERIMENT:-red_aes_stage3_qwen2_5_vl_7b$([[ "${SHUFFLED}" == true ]] && echo _shuffled || true)}
run_dirs red_aes

OVERRIDES=(+red_aes=stage3_grpo rapo.shuffled_groups="${SHUFFLED}")
train_rapo "$@"
merge_checkpoint actor
