"""The reward bench: labels, chunked rank scope, simulated GRPO, findings and the hydra entry point."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir

from recipe.aesr1.reward_bench.__main__ import CONFIG_DIR, run
from recipe.aesr1.reward_bench.labels import (
    SYNTHETIC_COMPONENTS,
    read_labels,
    synthetic_labels,
)
from recipe.aesr1.reward_bench.report import compare_with_table2
from recipe.aesr1.reward_bench.simulate import BenchSettings, batch_rewards, simulate
from reward_fns import RewardSpec, compute_rewards

torch.set_num_threads(1)


def test_synthetic_labels_match_the_mixture_moments():
    labels = synthetic_labels(200_000, seed=0)
    weights = np.array([c[1] for c in SYNTHETIC_COMPONENTS])
    means = np.array([c[2] for c in SYNTHETIC_COMPONENTS])
    stds = np.array([c[3] for c in SYNTHETIC_COMPONENTS])
    mean = weights @ means
    std = np.sqrt(weights @ (stds**2 + means**2) - mean**2)  # law of total variance
    assert labels.mean() == pytest.approx(mean, abs=2e-3)
    assert labels.std() == pytest.approx(std, abs=2e-3)
    assert np.all((labels > 0) & (labels < 1))
    np.testing.assert_array_equal(synthetic_labels(50, seed=3), synthetic_labels(50, seed=3))


def test_read_labels_from_csv_and_parquet(tmp_path):
    frame = pd.DataFrame({"id": ["a", "b", "c"], "score": [0.1, 0.5, 0.9]})
    frame.to_csv(tmp_path / "labels.csv", index=False)
    frame.to_parquet(tmp_path / "labels.parquet")
    for name in ("labels.csv", "labels.parquet"):
        np.testing.assert_allclose(read_labels(tmp_path / name), [0.1, 0.5, 0.9])


@pytest.mark.parametrize(
    "frame, message",
    [
        (pd.DataFrame({"mos": [0.1, 0.2]}), "no column 'score'"),  # names the column it wanted and the ones it found
        (pd.DataFrame({"score": [0.1, 7.0]}), "in \\[0, 1\\]"),  # a raw 1-10 score, not normalised
        (pd.DataFrame({"score": [0.1, np.nan]}), "in \\[0, 1\\]"),
    ],
)
def test_read_labels_rejects_bad_files_naming_them(tmp_path, frame, message):
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match=message) as error:
        read_labels(path)
    assert "bad.csv" in str(error.value)


def test_rank_scope_chunks_compare_only_within_groups():
    rng = np.random.default_rng(0)
    preds, gt = rng.uniform(size=(16, 4)), rng.uniform(size=16)
    valid = np.ones_like(preds, dtype=bool)
    spec = RewardSpec.parse("error+rank")
    chunked = batch_rewards(spec, preds, valid, gt, group_size=8)
    by_hand = np.concatenate([compute_rewards(spec, preds[s], valid[s], gt[s]).total for s in (slice(0, 8), slice(8, 16))])
    np.testing.assert_allclose(chunked, by_hand)
    assert not np.allclose(batch_rewards(spec, preds, valid, gt, group_size=None), chunked)


SMALL = BenchSettings(steps=150, batch_images=16, eval_every=50, policy="tabular")


def test_simulation_is_deterministic_per_seed():
    labels = synthetic_labels(96, seed=1)
    a = simulate(RewardSpec.parse("error+rank"), labels[:48], labels[48:], SMALL, seed=4)
    b = simulate(RewardSpec.parse("error+rank"), labels[:48], labels[48:], SMALL, seed=4)
    assert a.metrics == b.metrics
    np.testing.assert_array_equal(a.predictions, b.predictions)


def test_error_reward_calibrates_an_overrating_policy():
    labels = synthetic_labels(96, seed=1)
    result = simulate(RewardSpec.parse("error"), labels[:48], labels[48:], SMALL, seed=0)
    # the policy starts at mean 0.75 on labels averaging ~0.5; Eq. 6 pulls it onto them
    assert abs(result.metrics["pred_mean"] - result.metrics["label_mean"]) < 0.05
    assert result.metrics["plcc"] > 0.6
    assert result.curve["step"][0] == 0 and result.curve["step"][-1] == SMALL.steps


def test_rank_only_spreads_predictions_beyond_the_labels():
    labels = synthetic_labels(96, seed=1)
    settings = BenchSettings(steps=400, batch_images=16, eval_every=100, policy="tabular")
    result = simulate(RewardSpec.parse("rank"), labels[:48], labels[48:], settings, seed=0)
    # Eqs. 3-5 reward separation, not closeness: nothing anchors the scale
    assert result.metrics["pred_std"] > 1.3 * result.metrics["label_std"]
    assert result.metrics["srcc"] > 0.8


def _row(plcc, srcc, pred_mean, pred_std, label_mean=0.5, label_std=0.15):
    return {"plcc": (plcc, 0), "srcc": (srcc, 0), "pred_mean": (pred_mean, 0), "pred_std": (pred_std, 0),
            "label_mean": (label_mean, 0), "label_std": (label_std, 0)}


def test_findings_are_computed_from_the_table():
    agreeing = {
        "binary": _row(0.40, 0.42, 0.5, 0.3),
        "error": _row(0.56, 0.55, 0.5, 0.14),
        "rank": _row(0.45, 0.59, 0.4, 0.35),
        "error+rank": _row(0.63, 0.61, 0.5, 0.15),
    }
    assert all(f.holds for f in compare_with_table2(agreeing))
    disagreeing = dict(agreeing, **{"error+rank": _row(0.50, 0.50, 0.5, 0.15), "rank": _row(0.6, 0.55, 0.5, 0.15)})
    verdicts = {f.claim.split(" ")[0]: f.holds for f in compare_with_table2(disagreeing)}
    assert verdicts["rank-only"] is False and verdicts["error+rank"] is False
    assert compare_with_table2({"error": agreeing["error"]}) == []  # nothing to compare


def _compose(overrides):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        return compose(config_name="reward_bench", overrides=overrides)


def test_main_job_writes_table_findings_and_plots(tmp_path, capsys):
    cfg = _compose([
        "designs=[error,rank,error+rank]", "seeds=[0,1]", "steps=40", "eval_every=20",
        "labels.n_train=32", "labels.n_test=32", f"output_dir={tmp_path}",
    ])
    out = run(cfg)
    assert list(out["table"]) == ["error", "rank", "error+rank"]
    assert len(out["findings"]) == 3
    for name in ("results.json", "report.md", "pred_distribution.png", "training_curves.png"):
        assert (tmp_path / name).stat().st_size > 0
    printed = capsys.readouterr().out
    assert "| error+rank |" in printed and "Against Aes-R1 Table 2" in printed
    assert Path(tmp_path / "report.md").read_text().count("\n| ") == 4  # header + three designs


def test_unknown_design_fails_before_any_simulation(tmp_path):
    cfg = _compose(["designs=[error,eror]", f"output_dir={tmp_path}"])
    with pytest.raises(ValueError, match="unknown reward term"):
        run(cfg)
    assert not any(tmp_path.iterdir())


def test_bench_correlations_are_the_evaluation_metrics():
    # one statistics module: float spellings of one number are a constant model, not a correlation
    from recipe.aesr1.reward_bench.simulate import correlations

    plcc, srcc = correlations(np.array([0.7, 0.7000000000000001, 0.6999999999999998]), np.array([0.2, 0.5, 0.8]))
    assert np.isnan(plcc) and np.isnan(srcc)
    assert correlations(np.array([0.1, 0.5, 0.9]), np.array([0.2, 0.5, 0.8]))[1] == pytest.approx(1.0)
