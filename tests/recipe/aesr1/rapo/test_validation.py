"""Validation reward carries the batch terms, compared in the training scope, per data source.

Reproduces the finding "a rank-only ablation validates as 0": verl's reward loop gives validation only
the per-sample terms. ``RapoTrainer._val_metrics_update`` (verl's own, after ``add_validation_batch_terms``)
must report the same reward the training hook would give those outputs.
"""

import math

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from test_pixel_budget_in_verl_datasets import CONFIGS

from recipe.aesr1.rapo.reward import compute_score
from recipe.aesr1.rapo.scope import ComparisonScope, batch_term_rewards
from recipe.aesr1.rapo.validation import add_validation_batch_terms
from reward_fns import RewardSpec


def chunked(spec, uids, preds, labels, size):
    """The training hook's batch terms with rapo.rank_group_size=size."""
    return batch_term_rewards(spec, uids, preds, labels, ComparisonScope(rank_group_size=size).group_ids(uids))


def validation_outputs(n_images, reward, seed, source="ava", n=1):
    """verl's per-output lists for ``n_images`` x ``n`` outputs scored by the recipe's compute_score."""
    rng = np.random.default_rng(seed)
    labels = rng.uniform(0.1, 0.9, n_images)
    uids, sources, infos = [], [], {"reward": []}
    for i, label in enumerate(labels):
        for _ in range(n):
            pred = float(np.clip(label + rng.normal(0, 0.1), 0, 1))
            out = compute_score(source, f"<think>ok</think><answer>{pred:.2f}</answer>", label, reward=reward)
            uids.append(f"{source}-{i:03d}")
            sources.append(source)
            infos["reward"].append(out.pop("score"))
            for key, value in out.items():
                infos.setdefault(key, []).append(value)
    return sources, uids, infos


def test_rank_only_validation_is_no_longer_zero_and_equals_the_training_hook():
    sources, uids, infos = validation_outputs(10, "rank", seed=0)
    assert set(infos["reward"]) == {0.0}  # what verl reported before: rank is a batch term
    spec = RewardSpec.parse("rank")
    expected = chunked(spec, uids, infos["pred"], infos["label"], 32).total
    metrics = add_validation_batch_terms(spec, sources, uids, infos, ComparisonScope(rank_group_size=32))
    assert infos["reward"] == pytest.approx(expected.tolist()) and np.mean(infos["reward"]) > 0.3
    assert infos["rank"] == pytest.approx(expected.tolist())  # the term, for val-aux/<source>/rank
    assert metrics["val-aux/ava/rapo/plcc"] > 0.8 and metrics["val-aux/ava/rapo/parse_failure_rate"] == 0.0


def test_chunks_of_the_training_scope_and_sources_are_never_mixed():
    a, b = validation_outputs(6, "error+rank", seed=1, n=2), validation_outputs(4, "error+rank", seed=2, source="para")
    sources, uids = a[0] + b[0], a[1] + b[1]
    infos = {key: a[2][key] + b[2][key] for key in a[2]}
    per_sample = list(infos["reward"])
    spec = RewardSpec.parse("error+rank")
    add_validation_batch_terms(spec, sources, uids, infos, ComparisonScope(rank_group_size=3))
    for source, (s, u, i) in {"ava": a, "para": b}.items():
        rows = [r for r, name in enumerate(sources) if name == source]
        alone = chunked(spec, u, i["pred"], i["label"], 3).total  # chunks of 3 images
        assert [infos["reward"][r] - per_sample[r] for r in rows] == pytest.approx(alone.tolist())


def test_outputs_without_labels_name_the_reward_function():
    sources, uids, infos = validation_outputs(3, "rank", seed=3)
    del infos["label"]
    with pytest.raises(ValueError, match=r"\['label'\].*pkg://recipe.aesr1.rapo.reward"):
        add_validation_batch_terms(RewardSpec.parse("rank"), sources, uids, infos, ComparisonScope(rank_group_size=8))


def test_trainer_reports_batch_terms_in_verls_validation_metrics(tmp_path):
    from recipe.aesr1.rapo.trainer import RapoTrainer

    with initialize_config_dir(config_dir=CONFIGS, version_base=None):
        config = compose("rapo_trainer", overrides=["data.train_files=x.parquet", "data.val_files=x.parquet",
                                                    "reward@rapo.reward=rank", "data.train_batch_size=4"])
    OmegaConf.resolve(config)
    trainer = RapoTrainer(config)
    sources, uids, infos = validation_outputs(8, "rank", seed=4)
    expected = chunked(RewardSpec.parse("rank"), uids, infos["pred"], infos["label"], 4).total
    metrics = trainer._val_metrics_update(sources, uids, infos, sample_turns=[1] * len(uids))
    assert metrics["val-core/ava/reward/mean@1"] == pytest.approx(float(np.mean(expected)))  # scope: 4 images
    assert metrics["val-aux/ava/rank/mean@1"] == pytest.approx(float(np.mean(expected)))
    assert not math.isnan(metrics["val-aux/ava/rapo/srcc"])
