"""The command line: help says where files come from; a dataset and the mixture run end to end."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from data_prep.cli import build_parser, main


@pytest.mark.parametrize(
    ("command", "names"),
    [
        ("ava", ["AVA.txt", "generic_test.jpgl"]),
        ("tad66k", ["merge/train.csv", "dataset.zip"]),
        ("flickr_aes", ["FLICKR-AES_image_labeled_by_each_worker.csv", "40K/"]),
        ("para", ["PARA-GiaaTrain.csv", "imgs/<sessionId>/<imageName>"]),
        ("aadb", ["imgListTestNewRegression_score.txt", "datasetImages_originalSize"]),
        ("mix", ["2:2:1", "bad / fair / good"]),
    ],
)
def test_help_names_the_release_files(command, names):
    text = build_parser()._subparsers._group_actions[0].choices[command].format_help()
    for name in names:
        assert name in text


def test_module_entry_point_runs(tmp_path: Path):
    result = subprocess.run([sys.executable, "-m", "data_prep", "--help"], capture_output=True, text=True, cwd=Path(__file__).parents[2], check=True)
    assert "aesr1-prep" in result.stdout and "flickr_aes" in result.stdout


def test_aadb_then_mixture_from_the_command_line(tmp_path: Path, draw, capsys):
    root = tmp_path / "AADB"
    lists = root / "imgListFiles_label"
    lists.mkdir(parents=True)
    names = [f"farm1_{i}.jpg" for i in range(10)]
    (lists / "imgListTrainRegression_score.txt").write_text("".join(f"{n} {i / 10}\n" for i, n in enumerate(names)))
    (lists / "imgListValidationRegression_score.txt").write_text("")
    (lists / "imgListTestNewRegression_score.txt").write_text("")
    for i, name in enumerate(names):
        draw.image(root / "datasetImages_originalSize" / name, seed=i)
    out = tmp_path / "aadb"
    assert main(["aadb", "--root", str(root), "--out", str(out), "--embed", "--max-pixels", "784", "--workers", "1", "--no-progress"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["train"]["written"] == 9 and manifest["counts"]["test"]["written"] == 1
    assert manifest["images"]["max_pixels"] == 784 and manifest["split_definition"]["seed"] == 42
    assert manifest["images"]["stored"]["pixels"] == {"min": 768, "max": 768}  # 32x24: within a 784-pixel budget
    assert "aadb train: 9 written of 9 listed" in capsys.readouterr().out

    # The mixture takes any three converted folders; here the same one three times.
    mix = tmp_path / "mix"
    assert main(["mix", "--ava", str(out), "--tad66k", str(out), "--flickr-aes", str(out), "--total", "5", "--out", str(mix)]) == 0
    assert "mixture: 5 rows of 5 requested" in capsys.readouterr().out
    assert json.loads((mix / "manifest.json").read_text())["drawn"] == {"ava": {"all": 2}, "tad66k": {"all": 2}, "flickr_aes": {"all": 1}}
