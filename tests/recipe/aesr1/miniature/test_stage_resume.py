"""A trainer stage resumes its checkpoints only when its command and inputs are the ones they came from."""

import shutil
from pathlib import Path

from recipe.aesr1.miniature.stages import file_digest, start_or_resume


def _earlier_run(folder: Path) -> None:
    (folder / "checkpoints" / "global_step_2").mkdir(parents=True)
    (folder / "checkpoints" / "latest_checkpointed_iteration.txt").write_text("2")
    (folder / "metrics.jsonl").write_text('{"step": 1}\n')


def _model(tmp_path: Path, weights: bytes) -> Path:
    model = tmp_path / "models" / "sft"
    model.mkdir(parents=True, exist_ok=True)
    (model / "model.safetensors").write_bytes(weights)
    return model


def test_the_same_command_on_the_same_inputs_resumes(tmp_path: Path):
    folder, model = tmp_path / "rapo", _model(tmp_path, b"weights")
    assert not start_or_resume("rapo", folder, ["main_rapo", "steps=4"], [model])  # first run: nothing to resume
    _earlier_run(folder)  # ... killed after its second checkpoint
    assert start_or_resume("rapo", folder, ["main_rapo", "steps=4"], [model])
    assert (folder / "checkpoints" / "global_step_2").is_dir() and (folder / "metrics.jsonl").is_file()


def test_other_sizes_start_afresh(tmp_path: Path, capsys):
    folder, model = tmp_path / "rapo", _model(tmp_path, b"weights")
    start_or_resume("rapo", folder, ["main_rapo", "steps=4"], [model])
    _earlier_run(folder)
    assert not start_or_resume("rapo", folder, ["main_rapo", "steps=8"], [model])
    assert not (folder / "checkpoints").exists() and not (folder / "metrics.jsonl").exists()
    assert "starting afresh" in capsys.readouterr().out


def test_a_retrained_input_model_starts_afresh(tmp_path: Path):
    # The SFT stage ran again (same paths, new weights): RAPO must not continue from the old SFT model's run.
    folder, model = tmp_path / "rapo", _model(tmp_path, b"weights")
    start_or_resume("rapo", folder, ["main_rapo"], [model])
    _earlier_run(folder)
    _model(tmp_path, b"other weights")
    assert not start_or_resume("rapo", folder, ["main_rapo"], [model])
    assert not (folder / "checkpoints").exists()


def test_file_digest_covers_names_and_contents_not_the_folders_place(tmp_path: Path):
    model = _model(tmp_path, b"weights")
    before = file_digest(model)
    shutil.copytree(model, tmp_path / "moved")
    assert file_digest(tmp_path / "moved") == before
    (model / "model.safetensors").rename(model / "other.safetensors")
    assert file_digest(model) != before
