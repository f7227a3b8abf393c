#!/usr/bin/env bash
# Aes-R1-Zero: RAPO straight from the base model, no AesCoT cold start (Sec. 4.3, Table 3 row "SFT 0").
# Same knobs as run_qwen2_5_vl_7b_rapo_fsdp.sh; extra hydra overrides go at the end.
set -xeuo pipefail

MODEL_PATH=${MODEL_PATH:-Qwen/Qwen2.5-VL-7B-Instruct} \
EXPERIMENT=${EXPERIMENT:-rapo_zero_qwen2_5_vl_7b} \
    bash "$(dirname "$0")/run_qwen2_5_vl_7b_rapo_fsdp.sh" "$@"
