"""Fixtures of the AesCoT tests; the fake server and table helpers live in ``aescot_fakes.py``."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # tests are no package: make aescot_fakes importable

from aescot_fakes import TABLE_ROWS, FakeChatServer, write_table  # noqa: E402


@pytest.fixture
def chat_server():
    """Factory: ``with chat_server(script=..., delay_s=...) as server: server.url``."""
    return FakeChatServer


@pytest.fixture
def prepared_table(tmp_path):
    """Two shards of the evaluation table, plus rows the sampler must ignore (other split / dataset)."""
    rows = [{"id": id_, "score": score, "color": color} for id_, (score, color) in TABLE_ROWS.items()]
    directory = tmp_path / "prepared"
    directory.mkdir()
    write_table(directory / "part-0.parquet", rows[:9])
    write_table(directory / "part-1.parquet", rows[9:] + [
        {"id": "ok-test", "score": 0.5, "split": "test"}, {"id": "ok-para", "score": 0.5, "dataset": "para"}])
    return directory


@pytest.fixture
def aescot_config(tmp_path, prepared_table):
    """Factory: a config pointing at ``server_url`` with fast retries; ``overrides`` as key=value strings."""
    from recipe.aesr1.aescot.config import load_config

    def make(server_url: str, out_name: str = "out", overrides: tuple[str, ...] = ()):
        base = [
            f"expert.base_url={server_url}", "expert.model=fake-expert", "expert.api_key_env=AESCOT_TEST_KEY",
            "expert.max_retries=6", "expert.backoff_base_s=0.005", "expert.backoff_max_s=0.02", "expert.timeout_s=5",
            "expert.max_concurrency=4",
            f"sampling.inputs=[{prepared_table}]", "sampling.preset=null", "sampling.size=30",
            f"output.dir={tmp_path / out_name}", "output.audit_per_group=5", "show_progress=false",
        ]
        for judge in ("alignment_judge", "factual_judge", "leakage_judge"):
            base += [f"{judge}.max_retries=2", f"{judge}.backoff_base_s=0.005", f"{judge}.backoff_max_s=0.02",
                     f"{judge}.timeout_s=5"]
        return load_config(None, base + list(overrides))

    return make
