"""The main job at toy sizes, trained once per test session and shared by every test that needs a
*trained* judge (verl's trainers, the reward service, curation): data -> AesCoT -> SFT -> RAPO -> eval.

Use the ``main_job`` fixture (``tests/recipe/aesr1/conftest.py``); ``SIZES`` says what it ran.
"""

from __future__ import annotations

from pathlib import Path

from recipe.aesr1.miniature.settings import MiniatureSizes

# Enough SFT for a judge that tells pictures apart: with 24 critiques and 80 steps of 8 the tiny model
# wrote parsable answers but one score (0.72) for every picture; asking 60 critiques (48 are kept: the
# 120-picture release runs out of one level's pictures) and 160 steps of 16, its
# greedy scores on 30 held-out pictures reach PLCC 0.59 (measured 2026-12-07), so tests of ranking, best
# frames and PLCC have something to measure. About a minute more than the smaller SFT on 2 cores.
SIZES = MiniatureSizes(
    n_images=120, aescot_size=60, sft_steps=160, sft_batch_size=16, rapo_steps=2, rapo_batch_size=8,
    rapo_val_images=8, max_response_length=96, eval_limit=4,
)
BENCH = ["designs=[error,error+rank]", "seeds=[0]", "steps=30", "labels.n_train=24", "labels.n_test=24"]


def run_main_job(out: Path) -> Path:
    """``python -m recipe.aesr1.main`` at ``SIZES`` into ``out``; returns ``out``."""
    from recipe.aesr1.main import main

    flags = [f"--{name.replace('_', '-')}={value}" for name, value in SIZES.as_dict().items()]
    assert main(["--out", str(out), *flags, "--", *BENCH]) == 0
    return out
