#!/usr/bin/env bash
# Stage 2 of Aes-R1 (RAPO) on verl's Megatron backend (configs/rapo_megatron_trainer.yaml: the same RAPO
# keys as the FSDP run, plus the paper's exact linear LR decay), then merge the actor to Hugging Face.
# One 8 x 80 GB node, Qwen2.5-VL-7B: tensor parallel 2, no pipeline stages (data parallel 4).
# Pick Megatron over FSDP for the exact LR schedule, or for models that FSDP cannot fit (32B+: see
# run_qwen2_5_vl_32b_rapo_megatron.sh). Needs verl's Megatron stack: pip install -e .[megatron].
# Knobs as in run_qwen2_5_vl_7b_rapo_fsdp.sh, plus TP (2), PP (1), REF_PARAM_OFFLOAD (false); extra hydra
# overrides go at the end.
set -xeuo pipefail
# shellcheck source=knobs.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/knobs.sh"

aesr1_rapo_knobs
TP=${TP:-2}
PP=${PP:-1}
REF_PARAM_OFFLOAD=${REF_PARAM_OFFLOAD:-false}
EXPERIMENT=${EXPERIMENT:-rapo_${REWARD}_qwen2_5_vl_7b_megatron}
run_dirs aesr1

OVERRIDES=(
    --config-name=rapo_megatron_trainer
    "reward@rapo.reward=${REWARD}"
    rapo.rank_group_size="${RANK_GROUP_SIZE}"
    actor_rollout_ref.actor.megatron.tensor_model_parallel_size="${TP}"
    actor_rollout_ref.actor.megatron.pipeline_model_parallel_size="${PP}"
    actor_rollout_ref.ref.megatron.param_offload="${REF_PARAM_OFFLOAD}"
)
train_rapo "$@"
BACKEND=megatron merge_checkpoint actor
