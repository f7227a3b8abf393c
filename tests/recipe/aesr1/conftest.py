"""Fixtures shared by the recipe's test folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from trained_main_job import run_main_job


@pytest.fixture(scope="session")
def main_job(tmp_path_factory) -> Path:
    """Output folder of the main job at toy sizes (``trained_main_job.SIZES``), built once per session:
    ``models/{base,sft,rapo}``, ``data/ava/{table,rl}``, ``eval/``, ``miniature/summary.json``.

    A developer iterating on one test file may set ``AESR1_TEST_MAIN_JOB=DIR``: the job is built there
    once (when it has no ``miniature/summary.json`` yet) and reused by later sessions. CI leaves it unset
    and builds afresh.
    """
    folder = os.environ.get("AESR1_TEST_MAIN_JOB")
    if folder and (Path(folder) / "miniature" / "summary.json").is_file():
        return Path(folder)
    return run_main_job(Path(folder) if folder else tmp_path_factory.mktemp("main_job"))
