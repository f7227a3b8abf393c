"""Killing the pipeline at random points and starting it again gives exactly the set of an
uninterrupted run, and never requests a key that the log already holds."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from aescot_fakes import FAILURE_SCRIPT

from recipe.aesr1.aescot.config import config_to_yaml
from recipe.aesr1.aescot.outputs import write_outputs
from recipe.aesr1.aescot.pipeline import PipelineRun, run, run_pipeline
from recipe.aesr1.endpoints.request_log import RequestLog

REPO_ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("AESCOT_TEST_KEY", "sk-test")


def logged_keys(out_dir: Path) -> set[str]:
    """Keys a restart will not request again (opening the log also cuts a torn last line)."""
    if not (out_dir / "requests.jsonl").exists():
        return set()
    with RequestLog(out_dir / "requests.jsonl") as log:
        return set(log.entries)


async def run_until(config, stop: Callable[[], bool]) -> PipelineRun | None:
    """Run the pipeline, cancelling it as soon as ``stop()`` holds; None when it was cancelled."""
    task = asyncio.create_task(run_pipeline(config))
    while not task.done() and not stop():
        await asyncio.sleep(0.002)
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cancelled_runs_resume_to_the_uninterrupted_set(seed, chat_server, aescot_config):
    with chat_server(script=FAILURE_SCRIPT) as server:
        baseline = run(aescot_config(server.url, "baseline"))
        total_requests = len(server.requests)

    rng = random.Random(seed)
    with chat_server(script=FAILURE_SCRIPT) as server:
        config = aescot_config(server.url, "resumed")
        out_dir = Path(config.output.dir)
        resumed, interruptions = None, 0
        for _ in range(12):  # bounded; a final uninterrupted run follows if still unfinished
            before, seen = logged_keys(out_dir), len(server.requests)
            # Cancel once the server has seen a random number of this run's requests.
            quota = seen + rng.randint(1, total_requests // 2)
            resumed = asyncio.run(run_until(config, lambda: len(server.requests) >= quota))  # noqa: B023
            assert not {r["key"] for r in server.requests[seen:]} & before  # nothing logged is requested again
            if resumed is not None:
                break
            interruptions += 1
        if resumed is None:
            resumed = run(config)
    assert interruptions >= 1
    assert [r.to_json() for r in resumed.results] == [r.to_json() for r in baseline.results]


def test_sigkilled_process_resumes_to_the_uninterrupted_set(chat_server, aescot_config, tmp_path):
    with chat_server(script=FAILURE_SCRIPT) as server:
        baseline_config = aescot_config(server.url, "baseline")
        baseline_paths, _ = write_outputs(baseline_config, run(baseline_config))

    rng = random.Random(7)
    with chat_server(script=FAILURE_SCRIPT, delay_s=0.02) as server:
        config = aescot_config(server.url, "killed")
        out_dir = Path(config.output.dir)
        config_file = tmp_path / "aescot.yaml"
        config_file.write_text(config_to_yaml(config))
        command = [sys.executable, "-m", "recipe.aesr1.aescot", "--config", str(config_file), "--quiet"]
        env = {**os.environ, "AESCOT_TEST_KEY": "sk-test"}
        # SIGKILL once the server has seen a random number (5..40 of about 70) of the run's requests:
        # mid-run, never during interpreter start-up.
        threshold = rng.randint(5, 40)
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while process.poll() is None and len(server.requests) < threshold and time.monotonic() < deadline:
            time.sleep(0.005)
        assert process.poll() is None, "the run ended before the kill point"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        # Resume in this process (a second interpreter start would only repeat the imports).
        before, seen = logged_keys(out_dir), len(server.requests)
        paths, _ = write_outputs(config, run(config))
        assert not {r["key"] for r in server.requests[seen:]} & before
    assert pq.read_table(paths.sft).to_pylist() == pq.read_table(baseline_paths.sft).to_pylist()
    assert paths.records.read_bytes() == baseline_paths.records.read_bytes()
