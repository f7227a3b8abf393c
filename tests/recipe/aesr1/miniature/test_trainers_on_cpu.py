"""verl's real SFT and RAPO trainers on the CPU backend, end to end, as a GPU user runs them (issue 11).

The main job at toy sizes (``python -m recipe.aesr1.main``: data -> AesCoT -> the SFT launch script
(SFT steps under torchrun -> merge) -> the RAPO launch script (2 steps of ``main_rapo`` with ``error+rank``:
rollout on the hf server -> reward loop -> old log-prob -> ref -> the RAPO hook -> GRPO -> actor update ->
validation -> checkpoint; then merge) -> the evaluation's hf backend on the base, SFT and RAPO models -> report), then
2-step RAPO runs from its SFT model for ``rank`` alone, ``rapo.rank_group_size`` and the RED-Aes
``rapo.group_key`` mode, and one run killed after its first checkpoint and resumed from it. Every
assertion reads what verl logged (its file logger) or wrote (checkpoints, merged weights), not
printed text.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from trained_main_job import SIZES

from recipe.aesr1.cpu.launch import cpu_environment
from recipe.aesr1.miniature import stages


@pytest.fixture(scope="module")
def miniature(main_job) -> Path:
    """The whole main job at the shared toy sizes (``trained_main_job``); the variant runs start from its SFT model."""
    return main_job


def weights(model: Path) -> dict[str, torch.Tensor]:
    return load_file(str(model / "model.safetensors"))


def changed_tensors(a: Path, b: Path) -> list[str]:
    first, second = weights(a), weights(b)
    assert first.keys() == second.keys()
    return [name for name in first if not torch.equal(first[name], second[name])]


def rapo_run(out: Path, name: str, extra: list[str] = (), data: Path | None = None) -> tuple[Path, subprocess.Popen]:
    """Start the RAPO launch script (``main_rapo``, then the merge) as the main job does, in its own session
    (so a kill takes all its processes)."""
    folder = out / name
    folder.mkdir(exist_ok=True)
    ray_dir = tempfile.mkdtemp(prefix="r", dir="/tmp")  # short: Ray's socket paths have a length limit
    command = stages.rapo_command(out, SIZES, out / "models" / "sft", folder, folder / "model",
                                  [*extra, f"+ray_kwargs.ray_init._temp_dir={ray_dir}"], train_files=data)
    env = stages.trainer_environment(cpu_environment())
    launches = len(list(folder.glob("metrics.*.jsonl")))
    env["VERL_FILE_LOGGER_PATH"] = str(folder / f"metrics.{launches}.jsonl")
    log = (folder / f"rapo.{launches}.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=stages.REPO, start_new_session=True)
    process.ray_dir = ray_dir
    return folder, process


def finish(folder: Path, process: subprocess.Popen, timeout: int = 900) -> list[dict]:
    try:
        code = process.wait(timeout=timeout)
    finally:
        kill_run(process)
    log = sorted(folder.glob("rapo.*.log"))[-1]
    assert code == 0, log.read_text()[-4000:]
    metrics = stages.read_metrics(sorted(folder.glob("metrics.*.jsonl"))[-1])
    assert_rollout_is_the_policy(metrics)
    return metrics


def kill_run(process: subprocess.Popen) -> None:
    """SIGKILL the run's session and every Ray process of its own temp dir (as a crash would leave them)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if process.ray_dir.encode() in (proc / "cmdline").read_bytes():
                    os.kill(int(proc.name), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass


def train_steps(metrics: list[dict]) -> list[dict]:
    return [row for row in metrics if "rapo/reward/total/mean" in row["data"]]


def assert_rollout_is_the_policy(metrics: list[dict]) -> None:
    """Every step sampled from the policy it trained (verl's rollout/actor check; issue 21)."""
    steps = train_steps(metrics)
    assert steps
    for row in steps:
        corr, diff = row["data"]["training/rollout_actor_probs_pearson_corr"], row["data"]["training/rollout_probs_diff_mean"]
        assert corr >= 0.999 and diff <= 0.01, f"step {row['step']}: rollout/actor prob corr {corr}, mean diff {diff}"


def test_sft_ran_two_steps_and_trained_the_model(miniature):
    metrics = stages.read_metrics(miniature / "sft" / "metrics.jsonl")
    losses = [row["data"]["train/loss"] for row in metrics if "train/loss" in row["data"]]
    assert len(losses) == SIZES.sft_steps and all(math.isfinite(loss) for loss in losses)
    assert losses[-1] < losses[0] / 2
    changed = changed_tensors(miniature / "models" / "base", miniature / "models" / "sft")
    assert any(name.startswith("visual.") for name in changed) and any(".layers." in name for name in changed)


def test_main_job_summary_reports_every_stage_and_model(miniature):
    summary = json.loads((miniature / "miniature" / "summary.json").read_text())
    assert {name: info["status"] for name, info in summary["stages"].items()} == dict.fromkeys(
        ("data", "aescot", "sft", "rapo", "eval", "bench"), "ok"
    )
    assert summary["sft"]["steps"] == SIZES.sft_steps and summary["rapo"]["steps"] == 2
    assert set(summary["rapo"]["metrics"]["step"]) == {0, 1, 2}  # validation before training, 2 steps
    assert "rapo/batch_plcc" in summary["rapo"]["metrics"]
    for key in ("actor/kl_loss", "actor/entropy", "actor/grad_norm", "actor/pg_clipfrac", "response_length/clip_ratio",
                "training/rollout_actor_probs_pearson_corr", "training/rollout_probs_diff_mean"):
        assert None not in summary["rapo"]["metrics"][key][1:], key  # logged at both training steps
    assert summary["rapo"]["agreement"]["min_prob_corr"] >= 0.999
    # one update per rollout batch (ppo_mini_batch_size = train_batch_size): the PPO ratio is 1, nothing clips
    assert summary["rapo"]["metrics"]["actor/pg_clipfrac"][1:] == [0.0, 0.0]
    for name in ("base", "sft", "rapo"):
        row = summary["evaluation"][name]
        assert row["n_images"] == SIZES.eval_limit and 0.0 <= row["parse_rate"] <= 1.0
        assert {"plcc", "srcc"} <= row.keys()
    assert (miniature / "miniature" / "table.md").read_text().count("|") > 20
    assert (miniature / "miniature" / "curves.png").stat().st_size > 10_000


def test_rapo_error_rank_in_the_main_job(miniature):
    folder = miniature / "rapo"
    metrics = stages.read_metrics(folder / "metrics.jsonl")
    steps = train_steps(metrics)
    assert [row["step"] for row in steps] == [1, 2]
    assert_rollout_is_the_policy(metrics)
    for row in steps:
        data = row["data"]
        assert data["rapo/reward/rank/mean"] != 0.0  # the batch term reached the reward
        assert "rapo/reward/error/mean" in data
        assert data["rapo/advantage/max_abs_image_mean"] < 1e-4  # GRPO grouped by image
        assert 0.0 <= data["rapo/parse_failure_rate"] <= 1.0
    assert any(key.startswith("val-") for row in metrics for key in row["data"])  # validation ran
    assert (folder / "checkpoints" / "latest_checkpointed_iteration.txt").read_text().strip() == "2"
    assert changed_tensors(miniature / "models" / "sft", miniature / "models" / "rapo")  # the actor update moved weights
    # the merged RAPO model was scored by the evaluation's hf backend (the summary's rapo row)
    assert stages.read_eval_metrics(miniature / "eval" / "rapo")["n_images"] == SIZES.eval_limit


def test_rank_alone_has_no_error_term(miniature):
    metrics = finish(*rapo_run(miniature, "rank", ["reward@rapo.reward=rank"]))
    for row in train_steps(metrics):
        assert "rapo/reward/error/mean" not in row["data"] and row["data"]["rapo/reward/rank/mean"] != 0.0


def test_rank_within_groups_of_images(miniature):
    """The released code's per-GPU scope (rank_group_size=8 of 32 images) at toy scale: 2 groups of 4."""
    metrics = finish(*rapo_run(miniature, "groups_of_4", ["rapo.rank_group_size=4"]))
    steps = train_steps(metrics)
    assert len(steps) == 2 and all(row["data"]["rapo/reward/rank/mean"] != 0.0 for row in steps)


def test_red_aes_group_key_mode(miniature, tmp_path):
    """Consistency reward within source groups of 4 images (RED-Aes): extra_info.group_id on the RL rows."""
    import datasets

    source = stages.one_shard(miniature / "data" / "ava" / "rl", "train")
    rows = datasets.Dataset.from_parquet(str(source)).select(range(24))  # 6 whole groups of 4, features kept
    grouped = tmp_path / "grouped.parquet"
    rows.map(lambda row, index: {"extra_info": {**row["extra_info"], "group_id": f"g{index // 4}"}}, with_indices=True).to_parquet(str(grouped))
    metrics = finish(*rapo_run(miniature, "groups", ["reward@rapo.reward=consistency", "rapo.group_key=group_id"], grouped))
    steps = train_steps(metrics)
    assert len(steps) == 2 and all("rapo/reward/consistency/mean" in row["data"] for row in steps)


def test_a_run_killed_after_its_first_checkpoint_resumes_from_it(miniature):
    folder, process = rapo_run(miniature, "killed")
    tracker = folder / "checkpoints" / "latest_checkpointed_iteration.txt"
    deadline = time.monotonic() + 900
    while not (tracker.is_file() and tracker.read_text().strip()):
        assert process.poll() is None, "the run ended before its first checkpoint"
        assert time.monotonic() < deadline, "no checkpoint within 900 s"
        time.sleep(0.2)  # a step takes seconds: the kill lands before step 2 is saved
    kill_run(process)
    process.wait()
    assert tracker.read_text().strip() == "1", "killed only after step 2 was saved: nothing left to resume"
    first = stages.read_metrics(folder / "metrics.0.jsonl")
    assert [row["step"] for row in train_steps(first)] in ([], [1])  # verl logs a step after saving it
    resumed = finish(*rapo_run(miniature, "killed"))
    assert [row["step"] for row in train_steps(resumed)] == [2]  # step 1 is not repeated
    assert tracker.read_text().strip() == "2"
