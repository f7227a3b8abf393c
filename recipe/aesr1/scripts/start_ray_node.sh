#!/usr/bin/env bash
# Start one node of a multi-node Ray cluster for RAPO (run on every node before the training script).
#   head node:    bash start_ray_node.sh head
#   other nodes:  HEAD_ADDR=<head ip> bash start_ray_node.sh worker
# Then, on the head: export RAY_ADDRESS=<head ip>:6379; NNODES=<n> bash run_qwen2_5_vl_7b_rapo_fsdp.sh
set -xeuo pipefail

ROLE=${1:?usage: start_ray_node.sh head|worker}
PORT=${PORT:-6379}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}

case "${ROLE}" in
    head) ray start --head --port="${PORT}" --num-gpus="${GPUS_PER_NODE}" ;;
    worker) ray start --address="${HEAD_ADDR:?set HEAD_ADDR to the head node ip}:${PORT}" --num-gpus="${GPUS_PER_NODE}" ;;
    *) echo "start_ray_node.sh: role must be head or worker, got ${ROLE}" >&2; exit 1 ;;
esac
