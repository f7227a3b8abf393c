#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment at <repo>/.venv and install what it needs.
# Sourced by the README's two commands. Reinstalls only when setup.py or this script changed.
# CPU machines: torch==2.13.0 goes in first, else pip resolves verl's torch to a multi-GB CUDA build.
set -euo pipefail
AESR1_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${AESR1_VENV:-$AESR1_ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${AESR1_TORCH:-torch==2.13.0}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || { echo "bootstrap_venv.sh: need Python >= 3.10, $PYTHON is $("$PYTHON" --version 2>&1)" >&2; exit 1; }
  "$PYTHON" -m venv "$VENV"
fi
STAMP="$VENV/.aesr1-installed"
WANT="$(cat "$AESR1_ROOT/setup.py" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1) $TORCH_SPEC"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet "$TORCH_SPEC"
  "$VENV/bin/python" -m pip install --quiet -e "$AESR1_ROOT[test]"
  echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
