"""The main job's control flow (README's first command); its full run is tests/recipe/aesr1/miniature/test_trainers_on_cpu.py."""

import json

import pyarrow.parquet as pq

from recipe.aesr1.main import main


def test_a_stage_without_its_inputs_stops_the_job_naming_what_to_run(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--stages", "eval"]) == 1
    err = capsys.readouterr().err
    assert "stage 'eval' failed" in err and "run stage 'aescot' first" in err
    summary = json.loads((tmp_path / "miniature" / "summary.json").read_text())
    assert summary["stages"]["eval"]["status"] == "failed"


def test_a_failing_trainer_stops_the_job_with_its_log_tail(tmp_path, capsys):
    """A broken SFT input: the job names the stage and shows the trainer's own error, nothing later runs."""
    (tmp_path / "aescot").mkdir()
    (tmp_path / "aescot" / "aescot_sft.parquet").write_bytes(b"not a parquet file")
    (tmp_path / "models" / "base").mkdir(parents=True)
    assert main(["--out", str(tmp_path), "--stages", "sft", "rapo"]) == 1
    err = capsys.readouterr().err
    assert "stage 'sft' failed" in err and "last" in err and "sft.log" in err
    stages = json.loads((tmp_path / "miniature" / "summary.json").read_text())["stages"]
    assert stages["sft"]["status"] == "failed" and "rapo" not in stages


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
