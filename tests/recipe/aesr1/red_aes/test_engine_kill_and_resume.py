"""Kill the data engine mid-run (SIGKILL, a separate process), start it again: same outputs as an
uninterrupted run, and no finished request is made twice."""

import json
import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
from red_aes_fakes import FakeChatServer, FakeEditServer, engine_config_yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
OUTPUTS = ("pt_o1", "pt_o2", "calibration", "rl")


def start_engine(config_path):
    return subprocess.Popen(
        [sys.executable, "-m", "recipe.aesr1.red_aes.engine.cli", "--config", config_path],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def tables(out_dir):
    return {name: pq.read_table(out_dir / f"{name}.parquet").to_pylist() for name in OUTPUTS}


def failures(out_dir):
    """``key -> error`` of every failed request in the run's log (the fakes' designed failures only)."""
    entries = [json.loads(line) for line in (out_dir / "requests.jsonl").read_text().splitlines() if line]
    return {e["key"]: e["error"] for e in entries if e["outcome"] != "ok"}


def test_killed_run_resumes_without_repeating_finished_requests(tmp_path):
    with FakeChatServer(delay_s=0.01) as chat, FakeEditServer() as edit:
        reference_config = engine_config_yaml(tmp_path, chat.url, edit.url, out="reference")
        reference = start_engine(reference_config)
        assert reference.wait(timeout=120) == 0, reference.stderr.read().decode()
        reference_keys = dict(chat.keys)  # HTTP attempts per request key (malformed replies are retried)
        full_requests = sum(reference_keys.values())
        chat.keys.clear()

        config = engine_config_yaml(tmp_path, chat.url, edit.url, out="killed")
        victim = start_engine(config)
        # kill at a moment the test controls: once half the requests were served, however long the
        # interpreter takes to start on a loaded machine (a wall-clock deadline used to fire first)
        deadline = time.monotonic() + 600
        while sum(list(chat.keys.values())) < full_requests // 2 and victim.poll() is None:
            assert time.monotonic() < deadline, "the victim made no progress in 600 s"
            time.sleep(0.005)
        assert victim.poll() is None, f"the victim ended before the kill: {victim.stderr.read().decode()[-2000:]}"
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        served_before_kill = sum(chat.keys.values())
        assert 0 < served_before_kill < full_requests  # the kill came mid-run

        resumed = start_engine(config)
        assert resumed.wait(timeout=120) == 0, resumed.stderr.read().decode()

    assert tables(tmp_path / "killed") == tables(tmp_path / "reference")
    # which requests are made follows from the replies alone; a transport failure (timeout, reset) is logged
    # as final and would change the requests that follow it, so both runs must fail only where designed
    assert failures(tmp_path / "killed") == failures(tmp_path / "reference")
    only_killed, only_reference = set(chat.keys) - set(reference_keys), set(reference_keys) - set(chat.keys)
    assert not only_killed and not only_reference, (sorted(only_killed), sorted(only_reference))
    repeated = sum(max(0, chat.keys[key] - reference_keys[key]) for key in chat.keys)
    assert repeated <= 8 * 9  # only requests in flight at the kill (max_concurrency x endpoints) are made again
