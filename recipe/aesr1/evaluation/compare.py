"""Several checkpoints in one Table 1, and paired bootstrap tests of each against a baseline.

Runs are compared on the images both scored (after the parse-failure policy), so a checkpoint that
fails on hard images is not compared on an easier subset than its baseline.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from recipe.aesr1.atomic_files import write_csv_atomic, write_json_atomic, write_text_atomic
from recipe.aesr1.evaluation.benchmark_table import csv_rows, markdown_table
from recipe.aesr1.evaluation.bootstrap import paired_bootstrap_test
from recipe.aesr1.evaluation.entropy import average_token_entropy
from recipe.aesr1.evaluation.failure_policy import apply_policy
from recipe.aesr1.evaluation.metrics import metric_by_name
from recipe.aesr1.evaluation.paper_reference import TABLE1_ROWS
from recipe.aesr1.evaluation.runner import EvaluationSettings, benchmark_metrics, read_predictions, sample_objects


def _kept_predictions(records: list[dict], settings: EvaluationSettings) -> dict[str, tuple[float, float]]:
    kept = apply_policy([[s["score"] for s in r["samples"]] for r in records], settings.policy)
    ids = [r["id"] for r, k in zip(records, kept.kept, strict=True) if k]
    labels = [r["label"] for r, k in zip(records, kept.kept, strict=True) if k]
    return {i: (p, lab) for i, p, lab in zip(ids, kept.pred, labels, strict=True)}


def compare_runs(
    runs: Mapping[str, str | Path], out_dir: str | Path, settings: EvaluationSettings, with_paper_rows: bool = True
) -> dict:
    """Write ``comparison.md/.csv/.json`` for the named run folders; the first run is the baseline."""
    out_dir = Path(out_dir)
    records = {name: read_predictions(Path(path)) for name, path in runs.items()}
    table = {
        name: [benchmark_metrics(recs, b, settings) for b, recs in by_benchmark.items()]
        for name, by_benchmark in records.items()
    }
    names = list(runs)
    baseline = names[0]
    tests = []
    for name in names[1:]:
        for benchmark, recs in records[name].items():
            if benchmark not in records[baseline]:
                continue
            a = _kept_predictions(recs, settings)
            b = _kept_predictions(records[baseline][benchmark], settings)
            common = sorted(set(a) & set(b))
            label = np.array([a[i][1] for i in common])
            for metric in ("plcc", "srcc"):
                result = paired_bootstrap_test(
                    np.array([a[i][0] for i in common]),
                    np.array([b[i][0] for i in common]),
                    label,
                    metric_by_name(metric),
                    settings.n_resamples,
                    seed=settings.bootstrap_seed,
                )
                tests.append(
                    {
                        "model": name,
                        "baseline": baseline,
                        "benchmark": benchmark,
                        "metric": metric,
                        "n_common_images": len(common),
                        "delta": result.delta,
                        "ci_low": result.interval.low,
                        "ci_high": result.interval.high,
                        "p_value": result.p_value,
                    }
                )
    entropy = {}
    for name, by_benchmark in records.items():
        samples = [s for recs in by_benchmark.values() for r in recs for s in sample_objects(r)]
        entropy[name] = average_token_entropy(samples)[0]
    text = markdown_table(table, TABLE1_ROWS if with_paper_rows else None, entropy)
    text += f"\nPLCC: {settings.plcc_mode}; {settings.policy.describe()}.\n"
    if tests:
        text += f"\nPaired bootstrap vs {baseline} ({settings.n_resamples} resamples, common images):\n\n"
        text += "| Model | Benchmark | Metric | n | Delta | 95% CI | p |\n|---|---|---|---|---|---|---|\n"
        for t in tests:
            text += (
                f"| {t['model']} | {t['benchmark']} | {t['metric'].upper()} | {t['n_common_images']} | "
                f"{t['delta']:+.4f} | [{t['ci_low']:+.4f}, {t['ci_high']:+.4f}] | {t['p_value']:.3f} |\n"
            )
    write_text_atomic(out_dir / "comparison.md", text)
    write_csv_atomic(out_dir / "comparison.csv", csv_rows(table))
    summary = {"runs": {k: str(v) for k, v in runs.items()}, "paired_tests": tests}
    write_json_atomic(out_dir / "comparison.json", summary)
    return summary
