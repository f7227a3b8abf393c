"""``python -m recipe.aesr1.rapo.main``: a bad reward fails at start-up, before Ray or any rollout."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def run_main(run_dir, *overrides):
    env = {**os.environ, "HYDRA_FULL_ERROR": "1", "RAY_ADDRESS": ""}
    cmd = [
        sys.executable,
        "-m",
        "recipe.aesr1.rapo.main",
        "data.train_files=x.parquet",
        "data.val_files=x.parquet",
        f"hydra.run.dir={run_dir}",  # keep hydra's outputs/ out of the work tree
        *overrides,
    ]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


def test_misspelt_reward_fails_before_ray_starts(tmp_path):
    result = run_main(tmp_path, "rapo.reward.name=error+rnak")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "config key rapo.reward: unknown reward term(s) ['rnak']" in output, output
    assert "ray init kwargs" not in output and "Started a local Ray instance" not in output


def test_missing_reward_file_fails_at_composition():
    from hydra import compose, initialize_config_dir
    from hydra.errors import MissingConfigException

    with initialize_config_dir(config_dir=os.path.join(ROOT, "configs"), version_base=None):
        with pytest.raises(MissingConfigException, match="error_rnak"):
            compose("rapo_trainer", overrides=["reward@rapo.reward=error_rnak"])


def test_runner_reuses_verls_task_runner():
    from verl.trainer.main_ppo import TaskRunnerV1

    from recipe.aesr1.rapo.main import RapoTaskRunner

    runner_class = RapoTaskRunner.__ray_actor_class__
    assert issubclass(runner_class, TaskRunnerV1.__ray_actor_class__)
    assert runner_class.init_agent_loop_manager is TaskRunnerV1.__ray_actor_class__.init_agent_loop_manager
