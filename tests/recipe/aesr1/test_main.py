"""The main job (README's first command) on small settings: sample data -> data_prep, bench, evaluation."""

import json

import pyarrow.parquet as pq
import pytest

from recipe.aesr1.main import main


def test_main_job_runs_every_stage_end_to_end(tmp_path):
    out = tmp_path / "main"
    assert main(["--out", str(out), "--n-images", "24", "--eval-limit", "4", "--max-new-tokens", "8",
                 "--", "designs=[error,error+rank]", "seeds=[0]", "steps=30", "labels.n_train=24", "labels.n_test=24"]) == 0
    manifest = json.loads((out / "data" / "ava" / "manifest.json").read_text())
    assert manifest["counts"] == {
        "test": {"listed": 6, "skipped_images": 0, "written": 6},  # a quarter of the sample is the test list
        "train": {"listed": 18, "skipped_images": 0, "written": 18},
    }
    test_rows = pq.read_table(out / "data" / "ava" / "table").to_pylist()
    assert len(test_rows) == 24 and {r["split"] for r in test_rows} == {"train", "test"}
    assert all(0.0 <= r["score"] <= 1.0 for r in test_rows)
    assert (out / "reward_bench" / "report.md").read_text().count("| error") == 2
    metrics = json.loads((out / "eval_tiny_vlm" / "metrics.json").read_text())
    assert metrics  # the report exists whatever the tiny model wrote


def test_eval_without_data_fails_with_a_clear_message(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path), "--stages", "eval"])
    assert "run stage 'data' first" in capsys.readouterr().err


def test_sample_release_labels_follow_the_pictures(tmp_path):
    # the sample's images get more saturated with their MOS: a real (if simple) signal for demos
    import numpy as np
    from PIL import Image

    from data_prep.cli import main as prep
    from data_prep.sample_release import write_ava_like_release

    release = write_ava_like_release(tmp_path / "AVA_dataset", n_images=60, seed=1)
    assert prep(["ava", "--root", str(release), "--out", str(tmp_path / "ava"), "--workers", "1", "--no-progress"]) == 0
    rows = pq.read_table(tmp_path / "ava" / "table").to_pylist()
    saturation = [np.asarray(Image.open(r["image"]["path"]).convert("HSV"), float)[..., 1].mean() for r in rows]
    assert np.corrcoef(saturation, [r["score"] for r in rows])[0, 1] > 0.5
