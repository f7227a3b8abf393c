"""Run a launch script with ``python3`` and ``torchrun`` replaced by a recorder (no GPU job starts).

Each recorded call is the tool's name then its arguments, one per line; tests compose the recorded
hydra overrides with configs/ to check what the script would have trained.
"""

import os
import subprocess

RECORDER = (
    '#!/usr/bin/env bash\nn=$(ls "$CALLS" | wc -l)\n'
    'printf "%s\\n" "$(basename "$0")" "$@" > "$CALLS/$(printf %03d "$n")"\n'
)


def record_command(command, tmp_path, **env):
    """``(completed process, [argv of each recorded call])`` of ``command`` (an argv that runs a launch
    script, e.g. ``env KNOB=v bash script ...``) under the caller's environment updated with ``env``."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir(exist_ok=True)
    calls.mkdir(exist_ok=True)
    for tool in ("python3", "torchrun"):
        (bin_dir / tool).write_text(RECORDER)
        (bin_dir / tool).chmod(0o755)
    full_env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(calls), **env}
    result = subprocess.run(command, env=full_env, capture_output=True, text=True, check=False)
    return result, [(calls / f).read_text().splitlines() for f in sorted(os.listdir(calls))]


def record_script(script, tmp_path, *args, **env):
    """``record_command`` of ``bash script *args``."""
    return record_command(["bash", script, *args], tmp_path, **env)
