"""The Table 2 / seed sweep's bookkeeping (the trainer runs themselves are those of test_trainers_on_cpu)."""

import json
from pathlib import Path

import pytest

from recipe.aesr1.miniature import rapo_sweep


def _predictions(folder: Path, rows: list[tuple[float, list[float | None]]]) -> Path:
    (folder / "predictions").mkdir(parents=True)
    lines = [json.dumps({"id": str(i), "label": label, "samples": [{"score": s} for s in scores]})
             for i, (label, scores) in enumerate(rows)]
    (folder / "predictions" / "ava.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def test_calibration_is_the_mean_and_spread_of_the_images_predictions(tmp_path):
    run = _predictions(tmp_path / "run", [(0.2, [0.3, 0.5]), (0.6, [None, 0.7]), (0.9, [None])])
    figures = rapo_sweep.calibration(run)  # the third image has no parsed answer: dropped, as evaluation drops it
    assert figures["pred_mean"] == pytest.approx((0.4 + 0.7) / 2) and figures["pred_std"] == pytest.approx(0.15)
    assert figures["label_mean"] == pytest.approx(0.4) and figures["label_std"] == pytest.approx(0.2)


def _result(reward: str, seed: int, plcc: float, gain: float, p: float) -> dict:
    return {"reward": reward, "seed": seed, "held_out": {"plcc": plcc, "srcc": plcc - 0.01},
            "vs_sft": {"plcc": {"delta": gain, "p_value": p}, "srcc": {"delta": gain / 2, "p_value": p * 2}},
            "calibration": {"pred_mean": 0.5, "pred_std": 0.1, "label_mean": 0.45, "label_std": 0.15}}


def test_summary_averages_seeds_per_reward_and_sets_the_bench_beside():
    results = [_result("error_rank", 0, 0.80, 0.04, 0.01), _result("error_rank", 1, 0.78, 0.02, 0.20),
               _result("rank", 0, 0.70, -0.06, 0.03)]
    table = rapo_sweep.summarize(results, {"error_rank": {"plcc": 0.9, "srcc": 0.88}})
    assert list(table) == ["error_rank", "rank"]
    assert table["error_rank"]["mean"]["plcc"] == pytest.approx(0.79)
    assert table["error_rank"]["mean"]["plcc_gain"] == pytest.approx(0.03)
    assert [seed["seed"] for seed in table["error_rank"]["seeds"]] == [0, 1]
    assert table["error_rank"]["bench"] == {"plcc": 0.9, "srcc": 0.88} and table["rank"]["bench"] is None
    text = rapo_sweep.table_markdown(table, {"plcc": 0.75, "srcc": 0.74}, "every held-out image, greedy decoding")
    assert "| error_rank | 2 | 0.790 | 0.780 | +0.030 (0.010, 0.200) |" in text
    assert "| rank | 1 | 0.700 |" in text and "-0.060 (0.030)" in text and "greedy decoding" in text


def test_bench_findings_read_the_reward_bench_results(tmp_path):
    (tmp_path / "reward_bench").mkdir()
    summary = {"error+rank": {"plcc": [0.91, 0.01], "srcc": [0.9, 0.02]}, "error": {"plcc": [0.88, 0.0], "srcc": [0.87, 0.0]}}
    (tmp_path / "reward_bench" / "results.json").write_text(json.dumps({"summary": summary}))
    assert rapo_sweep.bench_findings(tmp_path) == {"error_rank": {"plcc": 0.91, "srcc": 0.9}, "error": {"plcc": 0.88, "srcc": 0.87}}
    assert rapo_sweep.bench_findings(tmp_path / "none") == {}


def test_a_sweep_needs_the_main_jobs_sft_evaluation(tmp_path):
    from recipe.aesr1.miniature.settings import MiniatureSizes
    from recipe.aesr1.miniature.stages import StageFailed

    with pytest.raises(StageFailed, match="run stage 'eval' first"):
        rapo_sweep.run_one(tmp_path, MiniatureSizes(), "error_rank", 0)
