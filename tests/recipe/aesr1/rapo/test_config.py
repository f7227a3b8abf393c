"""RapoTrainer's start-up checks: the processor fails with its real error, dropped prompts are counted loudly.

Reproduces two silent failures of verl 0.9.1's ``RLHFDataset``: with a broken image stack (here the real
one: torchvision does not import beside the CPU torch) every prompt is "too long" and the training set
becomes empty, and images outside the pixel budget are dropped with only a print. ``RapoTrainer`` is
built with verl's own ``__init__`` and runs verl's own ``_init_dataloader``.
"""

from __future__ import annotations

import sys

import pytest
from hydra import compose, initialize_config_dir
from offline_qwen2_vl import offline_processor, real_qwen_vl_utils
from omegaconf import OmegaConf
from test_pixel_budget_in_verl_datasets import (
    CONFIGS,
    CRITIQUE,
    SIZES,
    rl_dataset,
    rl_parquet,
)

from data_prep.prompts import SCORING_PROMPT
from recipe.aesr1.rapo.processor_check import check_processor, explain_missing_processor


def test_processor_check_passes_on_a_working_image_stack(monkeypatch):
    real_qwen_vl_utils(monkeypatch)
    processor = offline_processor(["rate"])
    # system turn (9: im_start system You are a helpful assistant . im_end) + user turn (10: im_start user
    # vision_start, 4 image pads for 56x56 = 2x2 tokens, vision_end, rate, im_end) + im_start assistant (2)
    assert check_processor(processor, "unused") == 9 + 10 + 2


def test_broken_image_stack_empties_verls_dataset_and_the_check_names_the_real_error(tmp_path, monkeypatch):
    for name in [n for n in sys.modules if n.startswith(("qwen_vl_utils", "torchvision"))]:
        monkeypatch.delitem(sys.modules, name)
    try:
        import torchvision  # noqa: F401
    except Exception:  # this project's CPU image: the broken stack to reproduce
        pass
    else:
        pytest.skip("torchvision imports here: no broken image stack to reproduce")
    processor = offline_processor([SCORING_PROMPT, CRITIQUE])
    files = rl_parquet(tmp_path, budget=True)
    with pytest.raises(ValueError, match=r"dropped 2 of 2 prompts"):  # the loud count catches it too
        rl_dataset(files, processor)
    dataset, _ = rl_dataset(files, processor, "data.max_filtered_share=1.0")
    assert len(dataset) == 0  # verl's doc2len turned the ImportError into "too long" for every row
    with pytest.raises(RuntimeError, match=r"qwen_vl_utils.process_vision_info .*No module named 'torchvision'"):
        check_processor(processor, "unused")


def test_a_model_without_a_processor_shows_why(tmp_path):
    with pytest.raises(RuntimeError, match=r"does not load"):
        explain_missing_processor(str(tmp_path))  # an empty folder: transformers' own error is chained
    with pytest.raises(RuntimeError, match=r"does not load"):
        check_processor(None, str(tmp_path))


def trainer_for(tmp_path, files, processor, *overrides):
    from recipe.aesr1.rapo.trainer import RapoTrainer

    processor.tokenizer.save_pretrained(tmp_path / "tok")
    with initialize_config_dir(config_dir=CONFIGS, version_base=None):
        config = compose("rapo_trainer", overrides=[
            f"data.train_files={files}", f"data.val_files={files}", f"actor_rollout_ref.model.path={tmp_path / 'tok'}",
            "data.train_batch_size=2", "data.dataloader_num_workers=0", *overrides])
    OmegaConf.resolve(config)
    trainer = RapoTrainer(config)
    trainer.tokenizer, trainer.processor = processor.tokenizer, processor  # what verl's _init_tokenizer sets
    return trainer


def test_trainer_stops_at_start_up_when_prompts_are_dropped(tmp_path, monkeypatch):
    real_qwen_vl_utils(monkeypatch)
    processor = offline_processor([SCORING_PROMPT, CRITIQUE])
    trainer = trainer_for(tmp_path, rl_parquet(tmp_path, budget=False, sizes=[SIZES[0]]), processor)
    with pytest.raises(ValueError, match=r"dropped 1 of 1 prompts \(100.0%\).*data.max_filtered_share=0.0"):
        trainer._init_dataloader()


def test_trainer_logs_the_filter_count_and_validates_in_bounded_batches(tmp_path, monkeypatch):
    real_qwen_vl_utils(monkeypatch)
    processor = offline_processor([SCORING_PROMPT, CRITIQUE])
    trainer = trainer_for(tmp_path, rl_parquet(tmp_path, budget=True), processor, "data.val_batch_size=1")
    trainer._init_dataloader()
    assert trainer.data_metrics == {"data/train_filtered_prompts": 0.0, "data/train_filtered_share": 0.0,
                                    "data/val_filtered_prompts": 0.0, "data/val_filtered_share": 0.0}
    assert trainer.val_dataloader.batch_size == 1 and len(trainer.val_dataloader) == 2
