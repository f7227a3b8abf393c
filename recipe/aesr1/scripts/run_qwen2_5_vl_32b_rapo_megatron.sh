#!/usr/bin/env bash
# RAPO for Qwen2.5-VL-32B-Instruct on verl's Megatron backend, one node of 8 x 80 GB: tensor parallel 8
# (~8 GB of bf16 weights per GPU for actor and reference each, plus optimizer state sharded over the
# distributed optimizer), reference weights offloaded to CPU between uses, vLLM on 4 GPUs per replica.
# Planning values, not run here. Set MODEL_PATH to the SFT-merged 32B model (default: the base model).
set -xeuo pipefail

MODEL_PATH=${MODEL_PATH:-Qwen/Qwen2.5-VL-32B-Instruct} \
EXPERIMENT=${EXPERIMENT:-rapo_${REWARD:-error_rank}_qwen2_5_vl_32b_megatron} \
TP=${TP:-8} PP=${PP:-1} ROLLOUT_TP=${ROLLOUT_TP:-4} REF_PARAM_OFFLOAD=${REF_PARAM_OFFLOAD:-true} \
    bash "$(dirname "$0")/run_qwen2_5_vl_7b_rapo_megatron.sh" actor_rollout_ref.rollout.gpu_memory_utilization=0.5 "$@"
