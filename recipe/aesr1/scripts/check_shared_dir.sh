#!/usr/bin/env bash
# Fail unless DIR is one folder seen by every node: multi-node SFT merges on node 0 the shards every rank
# wrote to CKPT_DIR, and resume reads them back, so CKPT_DIR must be on a shared filesystem.
#   check_shared_dir.sh DIR NNODES NODE_RANK [TIMEOUT_S]     (on every node, before training)
# Each node writes DIR/.shared_dir_check/node_<rank>, then waits until it sees a fresh marker of every rank.
set -euo pipefail

DIR=${1:?usage: check_shared_dir.sh DIR NNODES NODE_RANK [TIMEOUT_S]}
NNODES=${2:?usage: check_shared_dir.sh DIR NNODES NODE_RANK [TIMEOUT_S]}
NODE_RANK=${3:?usage: check_shared_dir.sh DIR NNODES NODE_RANK [TIMEOUT_S]}
TIMEOUT_S=${4:-300}

MARKS="${DIR}/.shared_dir_check"
mkdir -p "${MARKS}"
echo "$(hostname) $(date +%s)" > "${MARKS}/node_${NODE_RANK}"
FRESH_MIN=$(( TIMEOUT_S / 60 + 10 ))  # markers older than this are from an earlier run
deadline=$(( SECONDS + TIMEOUT_S ))
while true; do
    missing=()
    for (( rank = 0; rank < NNODES; rank++ )); do
        [[ -n "$(find "${MARKS}" -maxdepth 1 -name "node_${rank}" -mmin "-${FRESH_MIN}" 2>/dev/null)" ]] || missing+=("${rank}")
    done
    (( ${#missing[@]} == 0 )) && exit 0
    if (( SECONDS >= deadline )); then
        echo "check_shared_dir.sh: node ${NODE_RANK} ($(hostname)) does not see the markers of node(s) ${missing[*]} in" \
             "${MARKS} after ${TIMEOUT_S} s: ${DIR} is not shared by all ${NNODES} nodes (or they did not start)." \
             "Set CKPT_DIR to a shared filesystem (NFS, Lustre, ...)." >&2
        exit 1
    fi
    sleep 2
done
