#!/usr/bin/env bash
# The main job on its built-in default: the reward bench on synthetic labels (table + plots in
# outputs/reward_bench). Extra arguments are hydra overrides, e.g. `designs=[error,error+rank] k=8`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap_venv.sh"
cd "$AESR1_ROOT"
python -m recipe.aesr1.reward_bench "$@"
