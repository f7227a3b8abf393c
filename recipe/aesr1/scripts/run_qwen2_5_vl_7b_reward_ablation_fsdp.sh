#!/usr/bin/env bash
# Table 2: the reward ablation, RAPO from the base model (no cold start) with each reward in turn,
# one run after another, each merged to Hugging Face at the end. REWARDS picks the rows; the peers'
# rewards (thurstone, consistency) are included by default. Extra hydra overrides go at the end.
set -xeuo pipefail

REWARDS=${REWARDS:-"binary error rank binary_rank error_rank thurstone consistency"}
MODEL_PATH=${MODEL_PATH:-Qwen/Qwen2.5-VL-7B-Instruct}

for reward in ${REWARDS}; do
    REWARD="${reward}" MODEL_PATH="${MODEL_PATH}" EXPERIMENT="ablation_${reward}_qwen2_5_vl_7b" \
        bash "$(dirname "$0")/run_qwen2_5_vl_7b_rapo_fsdp.sh" "$@"
done
