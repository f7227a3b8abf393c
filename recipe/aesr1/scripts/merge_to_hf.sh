#!/usr/bin/env bash
# Merge the latest FSDP checkpoint of a verl run into a Hugging Face model folder (verl's model merger).
#   merge_to_hf.sh CKPT_DIR TARGET_DIR [SUBDIR]
# CKPT_DIR: the run's trainer.default_local_dir (holds latest_checkpointed_iteration.txt);
# SUBDIR: "actor" for PPO/RAPO checkpoints, empty for SFT checkpoints.
set -euo pipefail

CKPT_DIR=${1:?usage: merge_to_hf.sh CKPT_DIR TARGET_DIR [SUBDIR]}
TARGET_DIR=${2:?usage: merge_to_hf.sh CKPT_DIR TARGET_DIR [SUBDIR]}
SUBDIR=${3:-}
BACKEND=${BACKEND:-fsdp}

TRACKER="${CKPT_DIR}/latest_checkpointed_iteration.txt"
if [[ ! -f "${TRACKER}" ]]; then
    echo "merge_to_hf.sh: no ${TRACKER}; did the run save a checkpoint (trainer.save_freq)?" >&2
    exit 1
fi
STEP=$(cat "${TRACKER}")
LOCAL_DIR="${CKPT_DIR}/global_step_${STEP}${SUBDIR:+/${SUBDIR}}"

python3 -m verl.model_merger merge --backend "${BACKEND}" --local_dir "${LOCAL_DIR}" --target_dir "${TARGET_DIR}"
echo "merged ${LOCAL_DIR} -> ${TARGET_DIR}"
