#!/usr/bin/env bash
# RED-Aes data engine (Sec. 3.1): anchors, instructions, edits, VIEScore filter, judge consensus, then
# pt_o1/pt_o2/calibration/rl parquets under OUTPUT_DIR. Needs the chat and edit endpoints of
# configs/red_aes/data_engine.yaml to be up. Rerun the same command to resume after a kill.
# SOURCES: a folder (or parquet) of unlabelled photos, as the paper uses; EVALUATION: the evaluation
# tables (e.g. data_prep's prepared folder) whose images must not be sources (empty: not checked).
# CONFIG: the engine's config (default: data_engine.yaml of knobs.sh's CONFIG_DIR).
# Extra key=value overrides go at the end, e.g. sources.limit=100 build.rl=false.
set -xeuo pipefail
# shellcheck source=../../scripts/knobs.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/knobs.sh"

CONFIG=${CONFIG:-$CONFIG_DIR/red_aes/data_engine.yaml}
SOURCES=${SOURCES:-$HOME/data/photos}
EVALUATION=${EVALUATION:-}
OUTPUT_DIR=${OUTPUT_DIR:-$HOME/data/red_aes}

cd "${REPO}"
python3 -m recipe.aesr1.red_aes.engine.cli --config "${CONFIG}" \
    "sources.inputs=[${SOURCES}]" \
    "sources.evaluation=[${EVALUATION}]" \
    "output_dir=${OUTPUT_DIR}" \
    "$@"
