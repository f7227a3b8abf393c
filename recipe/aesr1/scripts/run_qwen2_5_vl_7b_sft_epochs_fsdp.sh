#!/usr/bin/env bash
# Table 3: RAPO initialised from SFT checkpoints of 0, 1, 2 and 10 AesCoT epochs. Each SFT length is
# trained and merged, then RAPO runs from it; 0 epochs is Aes-R1-Zero. EPOCH_LIST picks the rows.
# Extra hydra overrides go at the end and are passed to the RAPO runs.
set -xeuo pipefail
HERE=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=knobs.sh source-path=SCRIPTDIR
source "${HERE}/knobs.sh"  # REPO
EPOCH_LIST=${EPOCH_LIST:-"0 1 2 10"}

for epochs in ${EPOCH_LIST}; do
    if [[ "${epochs}" == 0 ]]; then
        EXPERIMENT=table3_sft0_rapo bash "${HERE}/run_qwen2_5_vl_7b_rapo_zero_fsdp.sh" "$@"
        continue
    fi
    sft_dir="${REPO}/checkpoints/aesr1/sft_aescot_qwen2_5_vl_7b_e${epochs}"
    EPOCHS="${epochs}" CKPT_DIR="${sft_dir}" bash "${HERE}/run_qwen2_5_vl_7b_sft_fsdp.sh"
    MODEL_PATH="${sft_dir}/hf" EXPERIMENT="table3_sft${epochs}_rapo" bash "${HERE}/run_qwen2_5_vl_7b_rapo_fsdp.sh" "$@"
done
