"""Fixtures shared by the recipe's test folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from trained_main_job import run_main_job


@pytest.fixture(scope="session")
def main_job(tmp_path_factory) -> Path:
    """Output folder of the main job at toy sizes (``trained_main_job.SIZES``), built once per session:
    ``models/{base,sft,rapo}``, ``data/ava/{table,rl}``, ``eval/``, ``miniature/summary.json``."""
    return run_main_job(tmp_path_factory.mktemp("main_job"))
