"""A sample release converted by the real data_prep, shared by the miniature's tests (built once)."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest


@pytest.fixture(scope="session")
def sample_table(tmp_path_factory):
    """``data_prep ava`` output (evaluation table) of a 120-image synthetic release: (table dir, rows)."""
    from data_prep.cli import main as prep
    from data_prep.sample_release import write_ava_like_release

    root = tmp_path_factory.mktemp("miniature_data")
    release = write_ava_like_release(root / "AVA_dataset", n_images=120, seed=0)
    assert prep(["ava", "--root", str(release), "--out", str(root / "ava"), "--workers", "1", "--no-progress"]) == 0
    table = root / "ava" / "table"
    return table, pq.read_table(table).to_pylist()


@pytest.fixture
def expert_server():
    from recipe.aesr1.miniature.expert_server import ExpertServer

    with ExpertServer(port=0) as server:
        yield server


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """Folder of the miniature's tiny Qwen2.5-VL at its default size."""
    from recipe.aesr1.miniature.tiny_model import save_tiny_qwen2_5_vl

    return save_tiny_qwen2_5_vl(tmp_path_factory.mktemp("tiny_qwen2_5_vl"))
