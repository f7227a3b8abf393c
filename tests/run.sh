#!/usr/bin/env bash
# The whole test suite on CPU, from nothing: creates/reuses .venv, installs, runs pytest.
# Extra arguments go to pytest (e.g. `bash tests/run.sh tests/reward_fns -x`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../recipe/aesr1/bootstrap_venv.sh"
cd "$AESR1_ROOT"
# No network in tests: anything that would reach a model hub fails at once instead of retrying.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# importlib mode: our tests are no package (verl's wheel installs one named `tests`).
python -m pytest -p no:cacheprovider --import-mode=importlib -o asyncio_default_fixture_loop_scope=function \
  --timeout=900 -q "${@:-tests}"
