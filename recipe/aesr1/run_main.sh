#!/usr/bin/env bash
# The main job on its built-in defaults: sample data -> data_prep, the reward bench, the evaluation
# report (outputs/main). Arguments go to `python -m recipe.aesr1.main`; after `--`, reward-bench overrides.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap_venv.sh"
cd "$AESR1_ROOT"
python -m recipe.aesr1.main "$@"
