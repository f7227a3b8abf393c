"""The command line: help says where files come from; a dataset and the mixture run end to end."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from data_prep.cli import build_parser, main
from data_prep.native_files import NativeFormatError


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
    mixed = json.loads((mix / "manifest.json").read_text())
    assert mixed["drawn"] == {"ava": {"all": 2}, "tad66k": {"all": 2}, "flickr_aes": {"all": 1}}
    assert mixed["pixel_budget"] == {"ava": 784, "tad66k": 784, "flickr_aes": 784}


def _tad66k_release(tmp_path: Path, train_csv: bytes) -> list[str]:
    merge = tmp_path / "merge"
    merge.mkdir()
    (merge / "train.csv").write_bytes(train_csv)
    (merge / "test.csv").write_text("image,score\n")
    return ["tad66k", "--labels", str(merge), "--images", str(tmp_path / "images"), "--out", str(tmp_path / "out"), "--workers", "1", "--no-progress"]


def test_a_format_error_is_one_line_without_traceback(tmp_path: Path, capsys):
    # D13: the good message used to come under a full Python traceback.
    args = _tad66k_release(tmp_path, b"image,score\nname,7,45\n")
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.splitlines() == [
        f"aesr1-prep tad66k: error: {tmp_path / 'merge' / 'train.csv'}:2: expected 2 comma-separated fields, found 3: ['name', '7', '45']",
        "(run with --debug for the traceback)",
    ]
    with pytest.raises(NativeFormatError):
        main([*args, "--debug"])


def test_workers_exit_when_the_parent_is_killed(tmp_path: Path, draw):
    # D11: after kill -9 of the parent both pool workers were still alive 20 s later.
    import os
    import signal
    import time

    proc_root = Path("/proc")
    if not (proc_root / "self" / "stat").exists():
        pytest.skip("needs /proc to find the workers")
    names = [f"{i}.jpg" for i in range(400)]
    first = draw.image(tmp_path / "images" / names[0], size=(640, 480))
    for name in names[1:]:
        os.link(first, tmp_path / "images" / name)  # the same bytes: enough work to keep the pool busy
    args = _tad66k_release(tmp_path, ("image,score\n" + "".join(f"{n},5\n" for n in names)).encode())
    args[args.index("--workers") + 1] = "2"
    parent = subprocess.Popen([sys.executable, "-m", "data_prep", *args], cwd=Path(__file__).parents[2], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def children(pid: int) -> list[int]:
        found = []
        for stat in proc_root.glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
        return found

    def alive(pid: int) -> bool:
        try:
            return (proc_root / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + 60
    while len(workers := children(parent.pid)) < 2 and time.monotonic() < deadline and parent.poll() is None:
        time.sleep(0.1)
    # the pool's resource tracker is a child too; the two workers are the others
    assert len(workers) >= 2, "the pool did not start"
    time.sleep(0.5)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in workers if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"{len(left)} workers outlived their parent"
