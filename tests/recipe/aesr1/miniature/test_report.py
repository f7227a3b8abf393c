"""The main job's report: what it keeps of verl's log, the agreement check, and the curves it draws."""

import json
from pathlib import Path

from recipe.aesr1.miniature.report import ENGINEER_KEYS, plot_curves, rapo_curves
from recipe.aesr1.miniature.stages import rollout_disagreements


def _step(step: int, corr: float | None = 0.9999, diff: float | None = 0.002, **extra) -> dict:
    data = {"rapo/reward/total/mean": 1.0, **extra}
    if corr is not None:
        data["training/rollout_actor_probs_pearson_corr"] = corr
    if diff is not None:
        data["training/rollout_probs_diff_mean"] = diff
    return {"step": step, "data": data}


def test_a_healthy_run_has_no_disagreement():
    validation_only = {"step": 0, "data": {"val-aux/ava/rapo/plcc": 0.6}}
    assert rollout_disagreements([validation_only, _step(1), _step(2, corr=0.999, diff=0.01)]) == []


def test_the_measured_broken_rollout_is_named_step_by_step():
    """Issue 21's numbers before the fix: correlation 0.82, mean prob difference 0.080."""
    problems = rollout_disagreements([_step(1), _step(2, corr=0.822, diff=0.080), _step(3, corr=0.9995, diff=0.02)])
    assert len(problems) == 2
    assert problems[0].startswith("step 2: prob correlation 0.8220") and "0.0800" in problems[0]
    assert problems[1].startswith("step 3:") and "0.0200" in problems[1]


def test_a_step_without_the_metrics_fails():
    (problem,) = rollout_disagreements([_step(1, corr=None)])
    assert "calculate_log_probs" in problem


def test_nan_agreement_fails():
    assert rollout_disagreements([_step(1, corr=float("nan"))])


def test_curves_keep_what_an_rl_engineer_reads_first(tmp_path: Path):
    rows = [{"step": 0, "data": {"val-aux/ava/rapo/plcc": 0.6, "val-aux/ava/rapo/srcc": 0.55}}]
    for step in range(1, 13):
        data = {key: 0.1 * step for key in ENGINEER_KEYS}
        data.update({"rapo/reward/total/mean": 1 + 0.01 * step, "perf/throughput": 5.0, "timing_s/gen": 1.0})
        rows.append({"step": step, "data": data})
    log = tmp_path / "metrics.jsonl"
    log.write_text("".join(json.dumps(row) + "\n" for row in rows))
    curves = rapo_curves(log)
    assert curves["step"] == list(range(13))
    assert set(ENGINEER_KEYS) <= curves.keys() and "perf/throughput" not in curves
    assert curves["actor/kl_loss"][0] is None and curves["actor/kl_loss"][12] == 0.1 * 12
    assert curves["val-aux/ava/rapo/plcc"] == [0.6] + [None] * 12
    png = plot_curves(curves, None, tmp_path / "curves.png")
    assert png.stat().st_size > 20_000
