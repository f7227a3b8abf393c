"""A non-editable install is complete: the wheel carries every config and launch script, and the
installed package composes every config from another directory, without the source tree.

The wheel is built from a copy of the tracked files (``pip wheel --no-deps --no-build-isolation``) and
unpacked into an empty folder, which is what installing a pure-Python wheel does; a fresh interpreter
then imports the recipe from that folder only (dependencies from the current environment) and composes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(str(p.relative_to(ROOT / "configs")) for p in (ROOT / "configs").rglob("*.yaml"))
SCRIPTS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "recipe").rglob("scripts/*.sh"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("needs git to list the tracked files")
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("wheel")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    for name in files:
        if not name.startswith("tests/") and (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out)], check=True, capture_output=True, cwd=out)
    (built,) = out.glob("aesr1_verl-*.whl")
    return built


def test_wheel_carries_every_config_and_script_and_no_tests(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"recipe/aesr1/configs/{c}" for c in CONFIGS} <= names
    assert set(SCRIPTS) <= names and "recipe/aesr1/REQUIRED_VERL.txt" in names
    assert not any(n.startswith(("tests/", "benchmarks/", "configs/")) for n in names)


COMPOSE_EVERYTHING = r"""
import json, os
from hydra import compose, initialize_config_dir
import recipe.aesr1
from recipe.aesr1.config_dir import CONFIG_DIR
from recipe.aesr1.aescot.config import load_config
from recipe.aesr1.red_aes.engine.config import load_engine_config
from recipe.aesr1.rapo.config import check_rapo_config

data = ["data.train_files=x.parquet", "data.val_files=y.parquet"]
rewards = sorted(f[:-5] for f in os.listdir(os.path.join(CONFIG_DIR, "reward")))
composed = {}
with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
    for reward in rewards:
        config = compose("rapo_trainer", [*data, f"reward@rapo.reward={reward}"])
        composed[f"rapo/{reward}"] = check_rapo_config(config).name
    composed["sft"] = compose("sft_trainer", ["data.train_files=x"]).optim.lr
    composed["bench"] = len(compose("reward_bench").designs)
    composed["megatron"] = compose("rapo_megatron_trainer", data).actor_rollout_ref.actor.optim.lr_decay_style
    stages = {"stage1_pretrain": "sft_trainer", "stage2_calibration": "sft_trainer", "stage3_grpo": "rapo_trainer"}
    for stage, base in stages.items():
        composed[stage] = compose(base, [*data, f"+red_aes={stage}"]).trainer.total_epochs
composed["aescot"] = type(load_config(os.path.join(CONFIG_DIR, "aescot.yaml"))).__name__
composed["engine"] = type(load_engine_config(os.path.join(CONFIG_DIR, "red_aes", "data_engine.yaml"))).__name__
print(json.dumps({"package": recipe.aesr1.__file__, "config_dir": CONFIG_DIR, "composed": composed}))
"""


def installed_python(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}  # the unpacked wheel only, never the source tree
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_installed_package_composes_every_config_from_another_directory(wheel, tmp_path):
    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere.mkdir()
    result = installed_python(site, elsewhere, "-c", COMPOSE_EVERYTHING)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(next(line for line in result.stdout.splitlines() if line.startswith('{"package"')))
    assert report["package"].startswith(str(site)) and report["config_dir"] == str(site / "recipe/aesr1/configs")
    composed = report["composed"]
    assert composed["rapo/error_rank"] == "error+rank" and len([k for k in composed if k.startswith("rapo/")]) >= 7
    assert composed["megatron"] == "linear" and composed["stage3_grpo"] == 10
    assert composed["sft"] == 1e-5 and composed["aescot"] == "AesCoTConfig" and composed["engine"] == "RedEngineConfig"


def test_verl_pin_is_the_installed_verl():
    lines = (ROOT / "recipe/aesr1/REQUIRED_VERL.txt").read_text().splitlines()
    pin = [line for line in lines if line and line[0] != "#"]
    assert pin == [f"verl=={version('verl')}"]
