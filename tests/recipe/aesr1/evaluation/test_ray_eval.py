"""``aesr1-eval ray`` refuses data that is not an evaluation table (the runs themselves: scoring/test_ray_scoring.py)."""

import pytest
from PIL import Image

from recipe.aesr1.evaluation.ray_eval import eval_main


def test_eval_ray_refuses_data_that_is_not_an_evaluation_table(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    with pytest.raises(SystemExit, match="must be evaluation tables"):
        eval_main(["--data", str(tmp_path), "--out", str(tmp_path / "run"), "--model", "m", "--backend", "hf"])
    assert not (tmp_path / "run").exists()
