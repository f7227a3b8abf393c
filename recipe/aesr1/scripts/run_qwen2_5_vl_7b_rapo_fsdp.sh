#!/usr/bin/env bash
# Stage 2 of Aes-R1: RAPO (configs/rapo_trainer.yaml: K=4, sigma=0.1, beta=0.01 k3 KL, clip 0.2/0.28,
# lr 1e-6, mini-batch 32, 1024 tokens, 10 epochs) from the merged SFT model, then merge to Hugging Face.
# One 8-GPU node: bash run_qwen2_5_vl_7b_rapo_fsdp.sh
# Several nodes:  start Ray first (start_ray_node.sh on every node), then on the head node
#                 NNODES=2 bash run_qwen2_5_vl_7b_rapo_fsdp.sh
# Knobs: REWARD (a file of configs/reward/), RANK_GROUP_SIZE (null = whole batch as in the paper,
# 8 = the released code's per-GPU scope), MODEL_PATH, TRAIN_FILES, VAL_FILES (aesr1_rapo_knobs), EXPERIMENT,
# and knobs.sh's CKPT_DIR, HF_DIR, GPUS_PER_NODE, NNODES, ROLLOUT_TP; extra hydra overrides go at the end.
set -xeuo pipefail
# shellcheck source=knobs.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/knobs.sh"

aesr1_rapo_knobs
EXPERIMENT=${EXPERIMENT:-rapo_${REWARD}_qwen2_5_vl_7b}
run_dirs aesr1

OVERRIDES=("reward@rapo.reward=${REWARD}" rapo.rank_group_size="${RANK_GROUP_SIZE}")
train_rapo "$@"
merge_checkpoint actor
