#!/usr/bin/env bash
# RED-Aes Stage 1: edit-causal pre-training on PT-O1 + PT-O2 (SFT, 3 epochs, batch 16, lr 1e-5,
# configs/red_aes/stage1_pretrain.yaml on top of configs/sft_trainer.yaml), then merge to Hugging Face.
# One 8-GPU node: bash run_qwen2_5_vl_7b_red_aes_stage1_fsdp.sh
# Several nodes:   NNODES=2 NODE_RANK=<0|1> MASTER_ADDR=<node 0> bash run_qwen2_5_vl_7b_red_aes_stage1_fsdp.sh
# PT_FILES picks the objectives (Table 5: PT-O1 only, or both); extra hydra overrides go at the end.
set -xeuo pipefail

REPO=$(cd "$(dirname "$0")/../../../.." && pwd)

MODEL_PATH=${MODEL_PATH:-Qwen/Qwen2.5-VL-7B-Instruct}
DATA_DIR=${DATA_DIR:-$HOME/data/red_aes}
PT_FILES=${PT_FILES:-[${DATA_DIR}/pt_o1.parquet,${DATA_DIR}/pt_o2.parquet]}
EXPERIMENT=${EXPERIMENT:-red_aes_stage1_qwen2_5_vl_7b}
CKPT_DIR=${CKPT_DIR:-$REPO/checkpoints/red_aes/${EXPERIMENT}}
HF_DIR=${HF_DIR:-$CKPT_DIR/hf}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
MASTER_PORT=${MASTER_PORT:-29500}

torchrun --nnodes="${NNODES}" --node_rank="${NODE_RANK}" --nproc_per_node="${GPUS_PER_NODE}" \
    --master_addr="${MASTER_ADDR}" --master_port="${MASTER_PORT}" \
    -m verl.trainer.sft_trainer \
    --config-path="${REPO}/configs" --config-name=sft_trainer \
    +red_aes=stage1_pretrain \
    model.path="${MODEL_PATH}" \
    data.train_files="${PT_FILES}" \
    trainer.experiment_name="${EXPERIMENT}" \
    trainer.default_local_dir="${CKPT_DIR}" \
    trainer.n_gpus_per_node="${GPUS_PER_NODE}" \
    trainer.nnodes="${NNODES}" \
    "$@"

if [[ "${NODE_RANK}" == 0 ]]; then
    bash "${REPO}/recipe/aesr1/scripts/merge_to_hf.sh" "${CKPT_DIR}" "${HF_DIR}"
fi
