#!/usr/bin/env bash
# The whole test suite on CPU, from nothing: creates/reuses .venv, installs, runs pytest.
# Extra arguments go to pytest (e.g. `bash tests/run.sh tests/reward_fns -x`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../recipe/aesr1/bootstrap_venv.sh"
cd "$AESR1_ROOT"
# Curation's tests read XMP sidecars back with exiftool and open the contact sheet in Debian's chromium.
if ! command -v chromium >/dev/null || ! command -v exiftool >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium libimage-exiftool-perl; } >/dev/null \
      || echo "tests/run.sh: apt-get could not install chromium and exiftool: their tests will skip" >&2
  else
    echo "tests/run.sh: chromium or exiftool is missing and apt-get is not ours to run: their tests will skip" >&2
  fi
fi
# No network in tests: anything that would reach a model hub fails at once instead of retrying.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# importlib mode: our tests are no package (verl's wheel installs one named `tests`).
python -m pytest -p no:cacheprovider --import-mode=importlib -o asyncio_default_fixture_loop_scope=function \
  --timeout=900 -q "${@:-tests}"
